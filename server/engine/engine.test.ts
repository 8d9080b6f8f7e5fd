import t from 'tap';
import { join } from 'node:path';
import { projectRoot } from '../../node/projectRoot.js';
import { loadHeadAssets } from '../../synth/headAssets.js';
import { renderScene } from '../../synth/testScenes.js';
import { planSequence, SequenceRenderer } from '../../synth/sequence.js';
import { FaceEngine, type FaceResult } from './engine.js';
import { buildFaceTemplate } from './faceTemplate.js';
import { FACE_REGION_DEFAULTS } from './faceRegion.js';

const MODEL = join(projectRoot(), 'models', 'facestream-small.onnx');
const assets = loadHeadAssets();

async function engine() {
  return FaceEngine.create({ modelPath: MODEL, threads: 1, template: buildFaceTemplate(assets.model) });
}

t.test('EngineSession.process() on a synthetic test sequence finds the face and its landmarks in frame pixels', async (t) => {
  const e = await engine();
  // against the generator's truth: facekit's own 68 vertices
  const s = e.openSession({ landmarks: 'facekit' });
  const plan = planSequence({ seed: 41, split: 'test', index: 0, frames: 12, size: 256, fps: 30 });
  const r = new SequenceRenderer(plan, assets);
  const K = plan.intrinsics;
  const errors: number[] = [];
  let faces = 0;
  for (let f = 0; f < plan.spec.frames; f++) {
    const fr = r.render(f);
    const res: FaceResult = await s.process({ frameId: f, pixels: { format: 'rgb', width: 256, height: 256, data: fr.rgb }, intrinsics: K });
    t.equal(res.frameId, f);
    if (res.kind !== 'face') continue;
    faces++;
    t.ok(res.maps.depth.length === res.maps.size ** 2, 'maps on the crop grid');
    for (let l = 0; l < 68; l++) {
      if (!res.landmarks[l * 3 + 2] || !fr.landmarks[l * 3 + 2]) continue;
      errors.push(Math.hypot(res.landmarks[l * 3] - fr.landmarks[l * 3], res.landmarks[l * 3 + 1] - fr.landmarks[l * 3 + 1]));
    }
  }
  errors.sort((a, b) => a - b);
  t.ok(faces >= 10, `${faces} of 12 frames with a face`);
  const median = errors[errors.length >> 1];
  t.ok(median < 6, `median landmark error ${median?.toFixed(2)} px at 256x256 (${errors.length} landmarks)`);
  await e.close();
});

t.test('EngineSession.process() of a frame with no face says so instead of throwing, and loses a tracked face', async (t) => {
  const e = await engine();
  const s = e.openSession();
  const grey = { format: 'rgb' as const, width: 160, height: 120, data: new Uint8Array(160 * 120 * 3).fill(128) };
  const r1 = await s.process({ frameId: 1, pixels: grey });
  t.same({ kind: r1.kind, reason: r1.kind === 'noFace' ? r1.reason : null }, { kind: 'noFace', reason: 'notFound' });
  const face = renderScene({ size: 160, identity: 6, distanceM: 0.6 }).frame;
  const r2 = await s.process({ frameId: 2, pixels: { format: 'rgb', width: 160, height: 160, data: face.rgb } });
  t.equal(r2.kind, 'face', 'a face is found');
  const greySquare = { format: 'rgb' as const, width: 160, height: 160, data: new Uint8Array(160 * 160 * 3).fill(128) };
  const r3 = await s.process({ frameId: 3, pixels: greySquare });
  t.same({ kind: r3.kind, reason: r3.kind === 'noFace' ? r3.reason : null }, { kind: 'noFace', reason: 'lost' }, 'then lost');
  await e.close();
  await t.rejects(s.process({ frameId: 2, pixels: grey }), { name: 'InvalidStateError' }, 'closing the engine closed its session');
});

t.test('EngineSession treats a change of frame size as a cut: it detects the face again in the new frame', async (t) => {
  const e = await engine();
  t.teardown(() => e.close());
  // both ways of finding the face: the detector (which follows the face itself) and the face model's mask alone
  // (where the box would otherwise be carried over in the old frame's pixels)
  for (const detector of [true, false]) {
    const s = e.openSession({ detector });
    const results: FaceResult[] = [];
    for (const [f, size] of [[0, 160], [1, 160], [2, 240]]) {
      const frame = renderScene({ size, identity: 4, distanceM: 0.6 }).frame;
      results.push(await s.process({ frameId: f, pixels: { format: 'rgb', width: size, height: size, data: frame.rgb } }));
    }
    const [a, b, c] = results;
    t.same([a.kind, b.kind, c.kind], ['face', 'face', 'face'], `detector ${detector}: a face in every frame`);
    if (a.kind !== 'face' || b.kind !== 'face' || c.kind !== 'face') continue;
    if (!detector) {
      t.ok(a.timings.detect > 0 && b.timings.detect === 0, 'detected on the first frame, tracked on the second');
      t.ok(c.timings.detect > 0, 'detected again after the frame grew from 160 to 240 pixels');
    }
    // the same scene at 1.5x the pixels: the box scales with it (the old box would have been reused as is)
    t.ok(Math.abs(c.box.side / a.box.side - 1.5) < 0.15, `box side ${a.box.side.toFixed(1)} -> ${c.box.side.toFixed(1)} px`);
    t.ok(Math.abs(c.box.centerX / a.box.centerX - 1.5) < 0.1, `box centre x ${a.box.centerX.toFixed(1)} -> ${c.box.centerX.toFixed(1)} px`);
    s.close();
  }
});

t.test('EngineSession with a caller faceBox uses it where detection finds nothing', async (t) => {
  const e = await engine();
  t.teardown(() => e.close());
  const frame = renderScene({ size: 192, identity: 2, distanceM: 0.55 }).frame;
  const pixels = { format: 'rgb' as const, width: 192, height: 192, data: frame.rgb };
  // no detector, and a face model whose mask never convinces: a face that nothing recognizes
  const blind = { ...FACE_REGION_DEFAULTS, detectCertainty: 1e9 };
  const without = await e.openSession({ region: blind, detector: false }).process({ frameId: 0, pixels });
  t.equal(without.kind, 'noFace');
  const xs: number[] = [], ys: number[] = [];
  for (let l = 0; l < 68; l++) (xs.push(frame.landmarks[l * 3]), ys.push(frame.landmarks[l * 3 + 1]));
  const side = 1.6 * Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
  const faceBox = { centerX: (Math.max(...xs) + Math.min(...xs)) / 2, centerY: (Math.max(...ys) + Math.min(...ys)) / 2, side };
  const withBox = await e.openSession({ region: blind, detector: false, faceBox }).process({ frameId: 0, pixels });
  t.equal(withBox.kind, 'face', 'found in the given box');
  t.throws(() => e.openSession({ faceBox: { centerX: 1, centerY: 1, side: 2 } }), /faceBox must have/);
});

t.test('landmark conventions: iBUG (default) puts the jaw points higher than facekit\'s vertices; both symmetric', async (t) => {
  const template = buildFaceTemplate(assets.model);
  const { ibug, facekit } = template.landmarks;
  // the chin (8) and the jaw below the mouth corners (5, 11): annotators of photographs mark the jaw's outline
  // seen from the front, above facekit's vertices under the chin (canonical +y is up)
  for (const l of [5, 8, 11]) t.ok(ibug.canonical[l * 3 + 1] - facekit.canonical[l * 3 + 1] > 0.005, `jaw point ${l} ${((ibug.canonical[l * 3 + 1] - facekit.canonical[l * 3 + 1]) * 1000).toFixed(1)} mm higher`);
  // mirror pairs: outer eye corners 36/45, mouth corners 48/54
  for (const [a, b] of [[36, 45], [48, 54]]) {
    t.ok(Math.abs(ibug.canonical[a * 3] + ibug.canonical[b * 3]) < 1e-6 && Math.abs(ibug.canonical[a * 3 + 1] - ibug.canonical[b * 3 + 1]) < 1e-6, `${a} and ${b} mirror each other`);
  }
  const e = await engine();
  t.teardown(() => e.close());
  t.throws(() => e.openSession({ landmarks: 'mediapipe' as never }), /landmarks must be 'ibug' or 'facekit'/);
});

t.test('a face rolled far beyond the training renders (70°) is cropped upright and its landmarks found', async (t) => {
  const e = await engine();
  t.teardown(() => e.close());
  const errors: number[] = [];
  for (const rollDeg of [70, -80]) {
    const s = e.openSession({ landmarks: 'facekit' });
    const scene = renderScene({ size: 256, rollDeg, identity: 5, distanceM: 0.55 });
    const pixels = { format: 'rgb' as const, width: 256, height: 256, data: scene.frame.rgb };
    let r: FaceResult | null = null;
    for (let f = 0; f < 3; f++) r = await s.process({ frameId: f, pixels, intrinsics: scene.intrinsics });
    t.equal(r?.kind, 'face', `roll ${rollDeg}°: a face`);
    if (r?.kind !== 'face') continue;
    t.ok(Math.abs(Math.abs(r.box.angle ?? 0) - Math.abs(rollDeg) * (Math.PI / 180)) < 0.2, `the crop turned by ${(((r.box.angle ?? 0) * 180) / Math.PI).toFixed(1)}°`);
    for (let l = 0; l < 68; l++) {
      if (!r.landmarks[l * 3 + 2] || !scene.frame.landmarks[l * 3 + 2]) continue;
      errors.push(Math.hypot(r.landmarks[l * 3] - scene.frame.landmarks[l * 3], r.landmarks[l * 3 + 1] - scene.frame.landmarks[l * 3 + 1]));
    }
    s.close();
  }
  errors.sort((a, b) => a - b);
  t.ok(errors[errors.length >> 1] < 4, `median landmark error ${errors[errors.length >> 1]?.toFixed(2)} px over ${errors.length} (face ~120 px tall)`);
});
