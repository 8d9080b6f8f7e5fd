import t from 'tap';
import { rgbToI420 } from '../../shared/io/y4m.js';
import { renderScene } from '../../synth/testScenes.js';
import { Vp8Decoder, Vp8Encoder } from './vp8Codec.js';

function psnrY(a: Uint8Array, b: Uint8Array, n: number): number {
  let se = 0;
  for (let i = 0; i < n; i++) se += (a[i] - b[i]) ** 2;
  return 10 * Math.log10((255 * 255) / Math.max(1e-9, se / n));
}

t.test('Vp8Encoder → Vp8Decoder keeps a face picture (PSNR > 30 dB) and starts with a keyframe', async (t) => {
  const W = 320, H = 240;
  const enc = await Vp8Encoder.create({ width: W, height: H, bitrate: 1_000_000, fps: 30, keyframeInterval: 60 });
  const dec = await Vp8Decoder.create();
  t.teardown(async () => {
    await enc.close();
    await dec.close();
  });
  const frames = [0, 10, 20].map((yaw) => {
    const s = renderScene({ size: 240, yawDeg: yaw, identity: 1 }).frame;
    const rgb = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++) rgb.set(s.rgb.subarray(y * 240 * 3, (y + 1) * 240 * 3), (y * W + 40) * 3);
    return rgbToI420(rgb, W, H);
  });
  let first = true;
  for (const data of frames) {
    const packets = await enc.encode({ width: W, height: H, data });
    t.equal(packets.length, 1, 'one packet per frame (no look-ahead)');
    if (first) t.ok(packets[0].keyframe, 'the first is a keyframe');
    first = false;
    const out = await dec.decode(packets[0].data);
    t.ok(out, 'a picture');
    t.same([out!.width, out!.height, out!.data.length], [W, H, W * H * 1.5]);
    const p = psnrY(out!.data, data, W * H);
    t.ok(p > 30, `PSNR ${p.toFixed(1)} dB`);
  }
  enc.requestKeyframe();
  const [key] = await enc.encode({ width: W, height: H, data: frames[2] });
  t.ok(key.keyframe, 'a requested keyframe');
});

t.test('Vp8Decoder.decode() of bytes that are not VP8 rejects instead of crashing', async (t) => {
  const dec = await Vp8Decoder.create();
  t.teardown(() => dec.close());
  await t.rejects(dec.decode(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])));
});
