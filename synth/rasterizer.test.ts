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

t.test('rasterizeMesh() with back-face culling of skin and eyeballs sees the same head as without', async (t) => {
  const { loadHeadAssets } = await import('./headAssets.js');
  const { cullableTriangles } = await import('./frameRenderer.js');
  const { headRotation, intrinsicsFromFov, projectPoints } = await import('./camera.js');
  const assets = loadHeadAssets();
  const V = assets.model.vertexCount;
  const enabled = Uint8Array.from(assets.topology.triangleMask, (m) => (m === 255 ? 0 : 1));
  const cull = cullableTriangles(assets);
  const expression = new Float32Array(57);
  expression[26] = 0.7; // jaw open: the mouth interior is visible
  const pos = assets.evaluator.evaluate(assets.model.neutralM, expression);
  for (const [yaw, pitch] of [[0, 0], [50, 20], [-70, -30], [20, 35]]) {
    const K = intrinsicsFromFov(160, 160, 50);
    const sx = new Float32Array(V), sy = new Float32Array(V), invZ = new Float32Array(V), cam = new Float32Array(V * 3);
    projectPoints(pos, { rotation: headRotation(yaw, pitch, 0), translationM: Float64Array.of(0, 0.01, 0.5) }, K, cam, sx, sy, invZ);
    const a = createVisibilityBuffer(160, 160), b = createVisibilityBuffer(160, 160);
    rasterizeMesh(a, 0, { sx, sy, invZ, triangles: assets.topology.triangles, enabled });
    rasterizeMesh(b, 0, { sx, sy, invZ, triangles: assets.topology.triangles, enabled, cullBack: cull });
    let differ = 0, covered = 0;
    for (let i = 0; i < a.triangle.length; i++) {
      if (a.triangle[i] >= 0) covered++;
      if (a.triangle[i] !== b.triangle[i]) differ++;
    }
    t.ok(differ <= covered * 0.001, `yaw ${yaw} pitch ${pitch}: ${differ} of ${covered} pixels differ`);
  }
});
