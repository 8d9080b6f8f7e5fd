/**
 * The engine with the shipped model against the generator's ground truth, on 640x480 I420 frames of a held-out
 * test sequence. Bounds sit above what `npm run bench -- engine` measures (README) with room for the machine's
 * noise, and far below what a broken stage gives (a wrong pose convention gives tens of degrees; a crop in the
 * wrong place gives tens of pixels).
 */
import t from 'tap';
import { join } from 'node:path';
import { faceVerticesOf, frameErrors, mean, median, widescreenI420 } from '../../bench/engineAccuracy.js';
import { projectRoot } from '../../node/projectRoot.js';
import { loadHeadAssets } from '../../synth/headAssets.js';
import { planSequence, SequenceRenderer } from '../../synth/sequence.js';
import { groundTruthCanonical, renderScene } from '../../synth/testScenes.js';
import { FaceEngine } from './engine.js';
import { buildFaceTemplate } from './faceTemplate.js';
import { CanonicalIndex } from './track/canonicalIndex.js';
import { TrackedMesh } from './trackedMesh.js';

const MODEL = join(projectRoot(), 'models', 'facestream-small.onnx');
const assets = loadHeadAssets();

t.test('engine on a held-out sequence: landmarks, metric depth, head pose, blendshapes and tracked mesh within bounds', async (t) => {
  const engine = await FaceEngine.create({ modelPath: MODEL, threads: 1, template: buildFaceTemplate(assets.model) });
  t.teardown(() => engine.close());
  const mesh = new TrackedMesh(assets.model);
  const faceVertices = faceVerticesOf(mesh, assets.model.parts.find((p) => p.name === 'face')!.vertices);
  const plan = planSequence({ seed: 77, split: 'test', index: 0, frames: 16, size: 480, fps: 30 });
  const renderer = new SequenceRenderer(plan, assets);
  const trueBase = mesh.identityBase(renderer.segment(0).identityWeights);
  const session = engine.openSession({ landmarks: 'facekit' });
  const lm: number[] = [], depth: number[] = [], rot: number[] = [], meshMm: number[] = [], shapes: number[] = [];
  let estimatedBase = mesh.identityBase(null);
  for (let f = 0; f < plan.spec.frames; f++) {
    const frame = renderer.render(f);
    const input = widescreenI420(frame, plan.intrinsics);
    const r = await session.process({ frameId: f, pixels: input.pixels, intrinsics: input.K });
    if (r.kind !== 'face') continue;
    if (r.identity) estimatedBase = mesh.identityBase(r.identity);
    const e = frameErrors(r, frame, input.offsetX, { mesh, trueBase, estimatedBase, faceVertices });
    lm.push(...e.landmarkPx);
    if (e.depthAbsRel !== null) depth.push(e.depthAbsRel);
    if (e.rotationDeg !== null) rot.push(e.rotationDeg);
    if (e.meshShapeMm !== null) meshMm.push(e.meshShapeMm);
    if (e.blendshapeAbs) shapes.push(...e.blendshapeAbs);
  }
  t.ok(rot.length >= 14, `${rot.length} of 16 frames with a face and a pose`);
  t.ok(median(lm) < 8, `landmarks: median ${median(lm).toFixed(2)} px (face ~200 px tall)`);
  t.ok(mean(depth) < 0.1, `depth AbsRel on face skin ${(100 * mean(depth)).toFixed(1)} %`);
  t.ok(median(rot) < 8, `head rotation: median ${median(rot).toFixed(2)}°`);
  t.ok(median(meshMm) < 8, `tracked mesh: median ${median(meshMm).toFixed(1)} mm per face vertex (offset removed)`);
  t.ok(mean(shapes) < 0.05, `blendshapes: mean abs error ${mean(shapes).toFixed(3)} (the canonical-map fit of 1.6.0 gave about 0.09)`);
});

t.test('tracked points on the far side of a turned head are flagged, not placed on the near side', async (t) => {
  const engine = await FaceEngine.create({ modelPath: MODEL, threads: 1, template: buildFaceTemplate(assets.model) });
  t.teardown(() => engine.close());
  // points: every 40th face vertex, in canonical coordinates
  const face = assets.model.parts.find((p) => p.name === 'face')!;
  const N = assets.model.neutralM, points: [number, number, number][] = [];
  for (let v = face.vertices[0]; v <= face.vertices[1]; v += 40) points.push([N[v * 3], N[v * 3 + 1], N[v * 3 + 2]]);
  let hidden = 0, hiddenShown = 0, seen = 0, seenShown = 0;
  for (const [yawDeg, identity] of [[55, 3], [-50, 7], [40, 11]]) {
    const session = engine.openSession({ seedStridePx: 0 });
    session.registerPoints(points);
    const s = renderScene({ size: 256, yawDeg, seed: 'visibility', identity });
    const gt = groundTruthCanonical(s.frame);
    const truth = CanonicalIndex.build(gt.chw, 256, gt.valid);
    const pixels = { format: 'rgb' as const, width: 256, height: 256, data: s.frame.rgb };
    await session.process({ frameId: 0, pixels, intrinsics: s.intrinsics });
    const r = await session.process({ frameId: 1, pixels, intrinsics: s.intrinsics });
    t.equal(r.kind, 'face', `yaw ${yawDeg}: a face`);
    if (r.kind !== 'face') continue;
    points.forEach((p, i) => {
      // in view: on the visible surface; hidden: farther from it than the engine's lookup radius (10 mm); points
      // in between (just past the silhouette) are fairly either
      const inView = truth.locate(p[0], p[1], p[2], 0.003) !== null;
      const hiddenTruly = truth.locate(p[0], p[1], p[2], 0.012) === null;
      const shown = r.points[i].visibility === 'visible';
      if (inView) (seen++, (seenShown += shown ? 1 : 0));
      else if (hiddenTruly) (hidden++, (hiddenShown += shown ? 1 : 0));
    });
    session.close();
  }
  t.ok(hidden > 60 && seen > 60, `${seen} points in view, ${hidden} hidden by the turns`);
  // measured 18 of 164 with facestream-small (16 in the hardest view: its canonical error is about the lookup
  // radius there); all would be 100 %
  t.ok(hiddenShown / hidden < 0.2, `${hiddenShown} of ${hidden} hidden points wrongly flagged visible`);
  t.ok(seenShown / seen > 0.6, `${seenShown} of ${seen} points in view found visible`);
});

t.test('every face result has all 68 landmarks: hidden ones are estimated from the fitted head and flagged', async (t) => {
  const engine = await FaceEngine.create({ modelPath: MODEL, threads: 1, template: buildFaceTemplate(assets.model) });
  t.teardown(() => engine.close());
  const estimatedErr: number[] = [], seenErr: number[] = [];
  let estimated = 0, hiddenByTurn = 0;
  for (const [yawDeg, identity] of [[55, 3], [-50, 7], [0, 11]]) {
    const session = engine.openSession({ landmarks: 'facekit' });
    const s = renderScene({ size: 256, yawDeg, seed: 'landmarks', identity });
    const pixels = { format: 'rgb' as const, width: 256, height: 256, data: s.frame.rgb };
    for (let f = 0; f < 3; f++) {
      const r = await session.process({ frameId: f, pixels, intrinsics: s.intrinsics });
      t.equal(r.kind, 'face', `yaw ${yawDeg}, frame ${f}: a face`);
      if (r.kind !== 'face') continue;
      const L = r.landmarks, T = s.frame.landmarks;
      t.ok(L.every(Number.isFinite), `yaw ${yawDeg}, frame ${f}: 68 finite landmarks`);
      for (let l = 0; l < 68; l++) {
        const err = Math.hypot(L[l * 3] - T[l * 3], L[l * 3 + 1] - T[l * 3 + 1]);
        if (L[l * 3 + 2] === 0) (estimated++, estimatedErr.push(err), (hiddenByTurn += T[l * 3 + 2] === 0 ? 1 : 0));
        else seenErr.push(err);
      }
    }
    session.close();
  }
  t.ok(hiddenByTurn > 20, `${estimated} landmarks estimated, ${hiddenByTurn} of them hidden by the turn`);
  // where the head model puts a hidden landmark: about the face's size in error would be a layout guess
  t.ok(median(estimatedErr) < 12, `estimated landmarks: median ${median(estimatedErr).toFixed(1)} px from the truth (seen ones ${median(seenErr).toFixed(1)} px)`);
});
