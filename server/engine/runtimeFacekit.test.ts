import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { facekitDir, loadFacekit, loadRuntimeFacekit } from '../../node/facekit/loadFacekit.js';
import { buildFaceTemplate, engineVertices } from './faceTemplate.js';
import { TrackedMesh } from './trackedMesh.js';

// The engine reads the same face from the committed runtime facekit as from the full one, number for number.
const noFullFacekit = existsSync(join(facekitDir(), 'facekit.json')) ? false : `no full facekit in ${facekitDir()} (FACEKIT_DIR): nothing to compare with`;

t.test('the runtime facekit holds what the engine reads of the full one, exactly', { skip: noFullFacekit }, async (t) => {
  const full = loadFacekit(), rt = loadRuntimeFacekit();
  const src = rt.sourceVertices!;
  t.same(Array.from(src), Array.from(engineVertices(full)), 'the vertices the engine reads, in facekit order');
  t.same([rt.expressionNames, rt.identityNames, rt.deltaStepM], [full.expressionNames, full.identityNames, full.deltaStepM]);
  const K = rt.vertexCount, V = full.vertexCount, E = rt.expressionNames.length, I = rt.identityNames.length;
  let neutral = 0, expression = 0, identity = 0;
  for (let i = 0; i < K; i++) {
    for (let k = 0; k < 3; k++) {
      neutral = Math.max(neutral, Math.abs(rt.neutralM[i * 3 + k] - full.neutralM[src[i] * 3 + k]));
      for (let e = 0; e < E; e++) expression = Math.max(expression, Math.abs(rt.expressionDeltas[(e * K + i) * 3 + k] - full.expressionDeltas[(e * V + src[i]) * 3 + k]));
      for (let m = 0; m < I; m++) identity = Math.max(identity, Math.abs(rt.identityDeltas[(m * K + i) * 3 + k] - full.identityDeltas[(m * V + src[i]) * 3 + k]));
    }
  }
  t.equal(neutral, 0, 'neutral positions bit for bit');
  t.equal(expression, 0, 'all 57 expression shapes exactly');
  t.equal(identity, 0, 'all 100 identity modes exactly');
  t.same(Array.from(rt.landmarks68, (v) => src[v]), Array.from(full.landmarks68), 'the 68 landmarks are the same facekit vertices');
});

t.test('the engine template and the tracked mesh from the runtime facekit equal those from the full one', { skip: noFullFacekit }, async (t) => {
  const full = loadFacekit(), rt = loadRuntimeFacekit();
  const src = rt.sourceVertices!;
  const a = buildFaceTemplate(full), b = buildFaceTemplate(rt);
  t.same(Array.from(b.fitter.vertices, (v) => src[v]), Array.from(a.fitter.vertices), `the blendshape fit reads the same ${a.fitter.vertices.length} vertices`);
  t.same(Array.from(b.fitter.template), Array.from(a.fitter.template), 'at the same template positions');
  for (const c of ['ibug', 'facekit'] as const) {
    t.same(Array.from(b.landmarks[c].canonical), Array.from(a.landmarks[c].canonical), `${c} landmarks: same canonical coordinates`);
    t.same(Array.from(b.landmarks[c].model.vertices, (v) => src[v]), Array.from(a.landmarks[c].model.vertices), `${c} landmarks: same vertices`);
  }
  const cells = (x: unknown) => (x as { cells: Uint8Array }).cells;
  t.ok(Buffer.from(cells(b.rigidRegion)).equals(Buffer.from(cells(a.rigidRegion))), 'the same rigid region for the pose fit');
  // expressions on the mean face: the fit's rows are the same numbers
  const w = Float32Array.from({ length: a.expressionNames.length }, (_, e) => (e % 5) / 5);
  t.same(Array.from(b.fitter.positions(b.fitter.template, w)), Array.from(a.fitter.positions(a.fitter.template, w)), 'expressions move the fit vertices identically');

  const ma = new TrackedMesh(full), mb = new TrackedMesh(rt);
  t.same(Array.from(mb.sourceVertex), Array.from(ma.sourceVertex), `the same ${ma.vertexCount} mesh vertices (facekit's numbering)`);
  t.same(Array.from(mb.triangles), Array.from(ma.triangles), `the same ${ma.triangles.length / 3} triangles`);
  const uvs = (m: TrackedMesh) => Array.from(m.triangleUvs, (u) => [m.uv[u * 2], m.uv[u * 2 + 1]]).flat();
  t.same(uvs(mb), uvs(ma), 'the same uv at every triangle corner');
  for (const e of [0, 10, 26, 45]) t.same(Array.from(mb.expressionDelta(e)), Array.from(ma.expressionDelta(e)), `morph target ${a.expressionNames[e]} identical`);
  t.same(Array.from(mb.identityBase(null)), Array.from(ma.identityBase(null)), 'the mean face identical');

  // a person: the same mesh and fit vertices to the last bit
  let seed = 7;
  const uniform = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const gauss = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const id = Float32Array.from({ length: full.identityNames.length }, () => Math.max(-3, Math.min(3, gauss())));
  t.same(Array.from(mb.identityBase(id)), Array.from(ma.identityBase(id)), 'an identity\'s mesh identical');
  t.same(Array.from(b.fitter.identityBase(id)), Array.from(a.fitter.identityBase(id)), 'and its fit vertices');
});
