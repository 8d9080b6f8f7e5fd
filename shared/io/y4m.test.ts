import t from 'tap';
import { rgbToI420, y4mFile, y4mFrame, y4mHeader } from './y4m.js';

t.test('y4mFrame() of a grey image gives limited-range luma and neutral chroma', async (t) => {
  const rgb = new Uint8Array(4 * 2 * 3).fill(128);
  const f = y4mFrame(rgb, 4, 2);
  t.equal(f.length, 6 + 8 + 2 + 2);
  t.equal(new TextDecoder().decode(f.subarray(0, 6)), 'FRAME\n');
  t.equal(f[6], Math.round(16 + 0.859 * 128));
  t.equal(f[6 + 8], 128);
  t.equal(f[6 + 8 + 2], 128);
});

t.test('y4mHeader() with an odd size throws', async (t) => {
  t.throws(() => y4mHeader(5, 4, 30), { name: 'InputError', message: /even/ });
  t.equal(new TextDecoder().decode(y4mHeader(64, 48, 25)), 'YUV4MPEG2 W64 H48 F25:1 Ip A1:1 C420jpeg\n');
});

t.test('y4mFile() of rgbToI420 planes is the header and the y4mFrame records', async (t) => {
  const rgb = Uint8Array.from({ length: 4 * 2 * 3 }, (_, i) => (i * 37) % 256);
  const file = y4mFile(4, 2, 30, [rgbToI420(rgb, 4, 2), rgbToI420(rgb, 4, 2)]);
  t.same(Array.from(file), [...y4mHeader(4, 2, 30), ...y4mFrame(rgb, 4, 2), ...y4mFrame(rgb, 4, 2)]);
});
