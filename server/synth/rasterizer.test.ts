import t from 'tap';
import { createVisibilityBuffer, rasterizeMesh, resolveBarycentrics } from './rasterizer.js';

t.test('rasterizeMesh() keeps the nearer of two overlapping triangles and covers shared edges once or more', async (t) => {
  const buf = createVisibilityBuffer(16, 16);
  // two triangles forming a square over pixels 2..12, at z = 2; a third, nearer one over part of it
  const sx = Float32Array.of(2, 12, 12, 2, 4, 9, 4), sy = Float32Array.of(2, 2, 12, 12, 4, 4, 9);
  const invZ = Float32Array.of(0.5, 0.5, 0.5, 0.5, 1, 1, 1);
  const triangles = Int32Array.of(0, 1, 2, 0, 2, 3, 4, 5, 6);
  rasterizeMesh(buf, 0, { sx, sy, invZ, triangles });
  let holes = 0;
  for (let y = 2; y <= 12; y++) for (let x = 2; x <= 12; x++) if (buf.triangle[y * 16 + x] < 0) holes++;
  t.equal(holes, 0, 'no cracks along the diagonal');
  t.equal(buf.triangle[5 * 16 + 5], 2, 'near triangle wins');
  t.equal(buf.triangle[11 * 16 + 11], 0);
  t.equal(buf.triangle[0], -1, 'outside stays empty');
});

t.test('resolveBarycentrics() is perspective-correct: the point lies on the 3D triangle', async (t) => {
  // a tilted triangle in camera space, projected with f = 100, c = 32
  const P = [[-0.1, -0.1, 1], [0.2, -0.05, 2], [0, 0.2, 1.5]];
  const sx = Float32Array.from(P, (p) => (100 * p[0]) / p[2] + 32);
  const sy = Float32Array.from(P, (p) => (100 * p[1]) / p[2] + 32);
  const invZ = Float32Array.from(P, (p) => 1 / p[2]);
  const mesh = { sx, sy, invZ, triangles: Int32Array.of(0, 1, 2) };
  const buf = createVisibilityBuffer(64, 64);
  rasterizeMesh(buf, 0, mesh);
  const b = new Float64Array(3);
  let worst = 0, n = 0;
  for (let y = 0; y < 64; y++) {
    for (let x = 0; x < 64; x++) {
      if (buf.triangle[y * 64 + x] !== 0) continue;
      const z = resolveBarycentrics(mesh, 0, x, y, b);
      const Q = [0, 1, 2].map((k) => b[0] * P[0][k] + b[1] * P[1][k] + b[2] * P[2][k]);
      // Q must project back onto the pixel and have the returned depth
      worst = Math.max(worst, Math.abs((100 * Q[0]) / Q[2] + 32 - x), Math.abs((100 * Q[1]) / Q[2] + 32 - y), Math.abs(Q[2] - z));
      n++;
    }
  }
  t.ok(n > 100, `${n} pixels`);
  t.ok(worst < 1e-4, `worst ${worst}`);
});
