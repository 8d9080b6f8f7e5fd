import t from 'tap';
import { encodeNpy, npyHeader, parseNpy } from './npy.js';

t.test('encodeNpy() then parseNpy() round-trips every dtype', async (t) => {
  for (const a of [Float32Array.of(1.5, -2, 3e-7, 4, 5, 6), Int32Array.of(-1, 2, 3, 4, 5, 6), Uint8Array.of(0, 255, 7, 8, 9, 10)]) {
    const back = parseNpy(encodeNpy(a, [2, 3]));
    t.same(back.shape, [2, 3]);
    t.same(Array.from(back.data), Array.from(a));
  }
});

t.test('npyHeader() pads the header to a multiple of 64 bytes', async (t) => {
  for (const shape of [[3], [10, 128, 128], [300, 256, 256, 3]]) t.equal(npyHeader('<f4', shape).length % 64, 0);
  t.match(new TextDecoder().decode(npyHeader('<f4', [7]).subarray(10)), /'shape': \(7,\)/);
});

t.test('parseNpy() of bad bytes throws InputError with the reason', async (t) => {
  const good = encodeNpy(Float32Array.of(1, 2, 3), [3]);
  t.throws(() => parseNpy(Uint8Array.of(1, 2, 3)), { name: 'InputError', message: /bad magic/ });
  t.throws(() => parseNpy(good.subarray(0, good.length - 2)), { message: /expected 12 data bytes/ });
  const f8 = Uint8Array.from(good);
  f8.set(new TextEncoder().encode("'<f8'"), new TextDecoder().decode(good).indexOf("'<f4'"));
  t.throws(() => parseNpy(f8), { message: /unsupported dtype/ });
});
