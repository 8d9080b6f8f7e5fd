import t from 'tap';
import { subsampleMaps } from './resultEncoder.js';

t.test('subsampleMaps() keeps every stride-th pixel of each map and channel', async (t) => {
  const S = 8, n = S * S;
  const m = {
    size: S, depth: Float32Array.from({ length: n }, (_, i) => i), canonical: Float32Array.from({ length: 3 * n }, (_, i) => i),
    confidence: new Float32Array(n).fill(2), mask: Uint8Array.from({ length: n }, (_, i) => i % 7),
  };
  t.equal(subsampleMaps(m, 1), m, 'stride 1 is the same maps');
  const h = subsampleMaps(m, 2);
  t.equal(h.size, 4);
  t.same(Array.from(h.depth.subarray(0, 4)), [0, 2, 4, 6]);
  t.equal(h.depth[4], 16, 'second row from full row 2');
  t.equal(h.canonical[16], n, 'second channel');
  t.equal(h.mask[5], 18 % 7);
  const third = subsampleMaps(m, 3);
  t.same([third.size, third.depth[0]], [2, 9], 'odd strides sample the block centre');
});
