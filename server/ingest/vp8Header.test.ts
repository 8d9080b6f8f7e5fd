import t from 'tap';
import { Vp8Encoder } from '../../node/media/vp8Codec.js';
import { vp8KeyframeSize } from './vp8Header.js';

t.test('vp8KeyframeSize() reads what a real encoder wrote, and refuses what is not a keyframe', async (t) => {
  const enc = await Vp8Encoder.create({ width: 96, height: 64, fps: 10, bitrate: 300_000, keyframeInterval: 100 });
  try {
    const frame = { width: 96, height: 64, data: new Uint8Array(96 * 64 * 3 / 2).fill(128) };
    const packets = [...await enc.encode(frame), ...await enc.encode(frame), ...await enc.encode(frame)];
    const key = packets.find((p) => p.keyframe), inter = packets.find((p) => !p.keyframe);
    t.ok(key && inter, 'a keyframe and an inter frame');
    t.same(vp8KeyframeSize(key!.data), { width: 96, height: 64 });
    t.equal(vp8KeyframeSize(inter!.data), null, 'an inter frame has no size');
  } finally {
    await enc.close();
  }
  const forged = Uint8Array.from([0x50, 0x01, 0x00, 0x9d, 0x01, 0x2a, 0xff, 0x3f, 0xff, 0x3f, 0, 0]);
  t.same(vp8KeyframeSize(forged), { width: 16383, height: 16383 }, 'a forged header says what it says');
  t.equal(vp8KeyframeSize(forged.subarray(0, 9)), null, 'too short');
});
