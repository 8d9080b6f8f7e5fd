import t from 'tap';
import { ProtocolError } from '../../shared/errors.js';
import { Vp8Encoder } from '../../node/media/vp8Codec.js';
import { Decoder } from './decoder.js';

t.test('Decoder decodes VP8 in its worker; a corrupt frame rejects with ProtocolError and the next still decodes', async (t) => {
  const W = 160, H = 120;
  const enc = await Vp8Encoder.create({ width: W, height: H, bitrate: 300_000, fps: 30, keyframeInterval: 30 });
  const dec = await Decoder.create();
  t.teardown(async () => {
    await enc.close();
    await dec.close();
  });
  const picture = (k: number) => Uint8Array.from({ length: W * H * 1.5 }, (_, i) => (i < W * H ? ((i % W) + k * 3) & 0xff : 128));
  const [key] = await enc.encode({ width: W, height: H, data: picture(0) });
  const out = await dec.decode(key.data);
  t.same([out?.width, out?.height, out?.data.length], [W, H, W * H * 1.5]);
  await t.rejects(dec.decode(new Uint8Array(50).fill(7)), ProtocolError);
  const [next] = await enc.encode({ width: W, height: H, data: picture(1) });
  t.ok(await dec.decode(next.data), 'still decoding after the bad frame');
  const pending = t.rejects(dec.decode(next.data), { name: 'InvalidStateError' }, 'close rejects what is pending');
  await dec.close();
  await pending;
});
