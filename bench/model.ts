/**
 * Evaluation of a face model on the held-out synthetic test split (identities, expressions, lighting and
 * backgrounds never seen in training), in onnxruntime-node, exactly as the engine will run it:
 *   accuracy   depth AbsRel and canonical error on face pixels, 68-landmark error by canonical lookup, mask IoU;
 *              and where the depth error lies: AbsRel once each frame's depth is scaled by its median ratio to the
 *              truth (the face's shape) and that ratio itself (its distance: a monocular crop knows a face's size
 *              only from the population of heads)
 *   tracking   points seeded on frame 0 of 300-frame sequences, canonical lookup vs pyramidal Lucas–Kanade
 *   stability  frame-to-frame jitter on a static head with sensor noise, window 8 vs window 1 (and the smooth part of
 *              the depth jitter: its 16x16-block means, the scale of the attention's tokens)
 *   speed      ms per step for window 1 and window 8 (--compare FILE: another model's, in turns with this one's)
 *
 *   npm run bench -- model [--model models/facestream-small.onnx] [--test data/synth128/test]
 *                          [--long data/synth128/test-long] [--only speed,stability,accuracy,tracking] [--compare FILE]
 * Make the data first (see models/README.md):
 *   facelive synth --out data/synth128/test --sequences 24 --frames 24 --size 128 --seed 300 --split test --raster
 *   facelive synth --out data/synth128/test-long --sequences 3 --frames 300 --size 128 --seed 301 --split test --raster
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { parseFlags } from '../server/cli/args.js';
import { FaceModel, type StepOutputs, type StreamState } from '../server/engine/model/faceModel.js';
import { imageToModelInput } from '../server/engine/crop.js';
import { argmaxParts } from '../server/engine/engine.js';
import { CanonicalIndex } from '../server/engine/track/canonicalIndex.js';
import { mat3Vec } from '../synth/camera.js';
import { loadHeadAssets } from '../synth/headAssets.js';
import { identityWeights } from '../synth/sequence.js';
import { renderScene } from '../synth/testScenes.js';
import { parseNpy } from '../shared/io/npy.js';
import { hasCanonical } from '../shared/parts.js';
import { projectRoot } from '../node/projectRoot.js';
import { resultNameFor, saveBenchResult, round } from './benchResult.js';
import { mean, median } from './engineAccuracy.js';
import { grayFromRgb, pyramid, trackLk } from './lucasKanade.js';
import { DEFAULT_MODEL_PATH } from '../server/engine/model/defaults.js';

interface SynthSequence {
  readonly dir: string;
  readonly frames: number;
  readonly size: number;
  readonly camera: {
    fx: number; fy: number; cx: number; cy: number; cuts: number[];
    segments: { identity_asset: number; start_frame: number; end_frame: number }[];
    frames: { rotation: number[]; translation_m: number[]; expression: number[]; segment: number }[];
  };
  rgb(t: number): Uint8Array;
  readonly depth: Float32Array;
  readonly canonical: Float32Array;
  readonly mask: Uint8Array;
  readonly landmarks: Float32Array;
  readonly triangle?: Int32Array;
  readonly barycentric?: Float32Array;
}

function readSequence(dir: string): SynthSequence {
  const npy = (name: string) => parseNpy(readFileSync(join(dir, `${name}.npy`)), join(dir, `${name}.npy`));
  const depth = npy('depth');
  const [frames, size] = depth.shape;
  const raster = existsSync(join(dir, 'triangle.npy'));
  return {
    dir, frames, size,
    camera: JSON.parse(readFileSync(join(dir, 'camera.json'), 'utf8')),
    rgb: (t) => {
      const png = PNG.sync.read(readFileSync(join(dir, 'rgb', `${String(t).padStart(6, '0')}.png`)));
      const out = new Uint8Array(size * size * 3);
      for (let i = 0; i < size * size; i++) for (let k = 0; k < 3; k++) out[i * 3 + k] = png.data[i * 4 + k];
      return out;
    },
    depth: depth.data as Float32Array,
    canonical: npy('canonical').data as Float32Array,
    mask: npy('mask').data as Uint8Array,
    landmarks: npy('landmarks').data as Float32Array,
    triangle: raster ? (npy('triangle').data as Int32Array) : undefined,
    barycentric: raster ? (npy('barycentric').data as Float32Array) : undefined,
  };
}

function listSequences(root: string): SynthSequence[] {
  const manifest = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8')) as { sequences: { name: string }[] };
  return manifest.sequences.map((s) => readSequence(join(root, s.name)));
}


/** The engine's canonical lookup over the predicted map, restricted to predicted template-surface pixels. */
function indexOf(out: StepOutputs, mask: Uint8Array, S: number): CanonicalIndex {
  return CanonicalIndex.build(out.canonical, S, Uint8Array.from(mask, (m) => (hasCanonical(m) ? 1 : 0)));
}

function lookup(index: CanonicalIndex, c: number[]): { x: number; y: number } {
  return index.locate(c[0], c[1], c[2]) ?? { x: NaN, y: NaN };
}


async function accuracy(model: FaceModel, seqs: SynthSequence[], window: 1 | 8) {
  const S = model.contract.cropSize, P = model.contract.partNames.length;
  const absRel: number[] = [], absRelScaled: number[] = [], distanceLogError: number[] = [], canonMm: number[] = [], lmPx: number[] = [];
  const canonPixelMm: Float32Array[] = [];
  let inter = 0, union = 0;
  const partInter = new Float64Array(P), partUnion = new Float64Array(P);
  const assets = loadHeadAssets();
  for (const seq of seqs) {
    if (seq.size !== S) throw new Error(`${seq.dir}: frames are ${seq.size}px, the model wants ${S}px`);
    const state = model.createState();
    for (let t = 0; t < seq.frames; t++) {
      if (window === 1 || seq.camera.cuts.includes(t)) FaceModel.reset(state);
      const out = await model.step(imageToModelInput(seq.rgb(t), S), seq.camera.fx, state);
      const pm = argmaxParts(out, S, P).mask;
      const o = t * S * S;
      let sumRel = 0, sumC = 0, n = 0;
      const ratios: number[] = [], faceIndex: number[] = [], pixelMm: number[] = [];
      for (let i = 0; i < S * S; i++) {
        const gt = seq.mask[o + i];
        const gtFace = hasCanonical(gt), prFace = hasCanonical(pm[i]);
        if (gtFace && prFace) inter++;
        if (gtFace || prFace) union++;
        for (let p = 0; p < P; p++) {
          if (gt === p && pm[i] === p) partInter[p]++;
          if (gt === p || pm[i] === p) partUnion[p]++;
        }
        if (!gtFace) continue;
        const d = seq.depth[o + i];
        sumRel += Math.abs(out.depth[i] - d) / d;
        const e = Math.hypot(out.canonical[i] - seq.canonical[(o + i) * 3], out.canonical[S * S + i] - seq.canonical[(o + i) * 3 + 1], out.canonical[2 * S * S + i] - seq.canonical[(o + i) * 3 + 2]);
        sumC += e;
        n++;
        ratios.push(d / out.depth[i]);
        faceIndex.push(i);
        pixelMm.push(e * 1000);
      }
      if (n) {
        absRel.push(sumRel / n);
        canonMm.push((sumC / n) * 1000);
        // the frame's distance error is its median depth ratio; what is left once it is divided out is the shape's
        const scale = median(ratios);
        let sumScaled = 0;
        for (const i of faceIndex) sumScaled += Math.abs(scale * out.depth[i] - seq.depth[o + i]) / seq.depth[o + i];
        absRelScaled.push(sumScaled / n);
        distanceLogError.push(Math.abs(Math.log(scale)));
        canonPixelMm.push(Float32Array.from(pixelMm));
      }
      const index = indexOf(out, pm, S);
      for (let l = 0; l < 68; l++) {
        if (!seq.landmarks[(t * 68 + l) * 3 + 2]) continue;
        const c = [0, 1, 2].map((k) => assets.landmarksTemplate[l * 3 + k]);
        const found = lookup(index, c);
        if (Number.isFinite(found.x)) lmPx.push(Math.hypot(found.x - seq.landmarks[(t * 68 + l) * 3], found.y - seq.landmarks[(t * 68 + l) * 3 + 1]));
      }
    }
  }
  const partIou: Record<string, number> = {};
  model.contract.partNames.forEach((name, p) => {
    if (partUnion[p] > 0) partIou[name] = round(partInter[p] / partUnion[p]);
  });
  lmPx.sort((a, b) => a - b);
  // every face pixel's canonical error, sorted for its median (the mean is pulled up by the mouth and the silhouette)
  const allCanon = new Float32Array(canonPixelMm.reduce((k, a) => k + a.length, 0));
  let at = 0;
  for (const a of canonPixelMm) {
    allCanon.set(a, at);
    at += a.length;
  }
  allCanon.sort();
  return {
    depthAbsRelPct: round(mean(absRel) * 100, 2),
    depthAbsRelMedianScaledPct: round(mean(absRelScaled) * 100, 2),
    depthDistanceErrorPct: round(mean(distanceLogError) * 100, 2),
    canonicalMm: round(mean(canonMm), 2),
    canonicalMmMedianPixel: round(allCanon[allCanon.length >> 1], 2),
    landmarkPx: round(mean(lmPx), 2),
    landmarkPxMedian: round(lmPx[lmPx.length >> 1], 2),
    faceMaskIou: round(inter / union),
    partIou,
  };
}

/** Ground-truth image position and visibility of a surface point (triangle + barycentrics) in every frame. */
function groundTruthTracks(seq: SynthSequence, points: { tri: number; bary: number[] }[]) {
  const assets = loadHeadAssets();
  const tri = assets.topology.triangles;
  const cam = seq.camera;
  const S = seq.size;
  const out: { x: number; y: number; visible: boolean }[][] = [];
  let base: Float32Array | null = null, baseSeg = -1;
  for (let t = 0; t < seq.frames; t++) {
    const f = cam.frames[t];
    if (f.segment !== baseSeg) {
      base = assets.evaluator.identityBase(identityWeights(cam.segments[f.segment].identity_asset));
      baseSeg = f.segment;
    }
    const mesh = assets.evaluator.evaluate(base!, f.expression);
    out.push(points.map(({ tri: tr, bary }) => {
      const p = [0, 1, 2].map((k) => bary[0] * mesh[tri[tr * 3] * 3 + k] + bary[1] * mesh[tri[tr * 3 + 1] * 3 + k] + bary[2] * mesh[tri[tr * 3 + 2] * 3 + k]);
      const q = mat3Vec(f.rotation, p);
      const X = q[0] + f.translation_m[0], Y = q[1] + f.translation_m[1], Z = q[2] + f.translation_m[2];
      const x = (cam.fx * X) / Z + cam.cx, y = (cam.fy * Y) / Z + cam.cy;
      const xi = Math.round(x), yi = Math.round(y);
      const inside = xi >= 0 && yi >= 0 && xi < S && yi < S;
      const d = inside ? seq.depth[t * S * S + yi * S + xi] : 0;
      return { x, y, visible: inside && d > 0 && Z <= d + 0.01 };
    }));
  }
  return out;
}

async function tracking(model: FaceModel, seqs: SynthSequence[]) {
  const S = model.contract.cropSize, P = model.contract.partNames.length;
  const curves: { canonical: number[]; lk: number[] }[] = [];
  for (const seq of seqs) {
    if (!seq.triangle || !seq.barycentric) throw new Error(`${seq.dir}: made without --raster: no ground truth for tracks`);
    if (seq.camera.cuts.length) continue; // a cut replaces the scene: nothing to track across it
    // seeds: every 6th pixel of visible face skin on frame 0
    const seeds: { tri: number; bary: number[]; x: number; y: number }[] = [];
    for (let y = 3; y < S; y += 6) for (let x = 3; x < S; x += 6) {
      const i = y * S + x;
      if (seq.mask[i] !== 1 || seq.triangle[i] < 0) continue;
      seeds.push({ tri: seq.triangle[i], bary: [0, 1, 2].map((k) => seq.barycentric![i * 3 + k]), x, y });
    }
    const gt = groundTruthTracks(seq, seeds);
    const state = model.createState();
    const lkPts = Float32Array.from(seeds.flatMap((s) => [s.x, s.y]));
    let prevPyr = pyramid(grayFromRgb(seq.rgb(0), S, S), 3);
    let targets: number[][] = [];
    const errC: number[] = [], errL: number[] = [];
    for (let t = 0; t < seq.frames; t++) {
      const rgb = seq.rgb(t);
      const out = await model.step(imageToModelInput(rgb, S), seq.camera.fx, state);
      const pm = argmaxParts(out, S, P).mask;
      if (t === 0) targets = seeds.map((s) => [0, 1, 2].map((k) => out.canonical[k * S * S + s.y * S + s.x]));
      else {
        const pyr = pyramid(grayFromRgb(rgb, S, S), 3);
        trackLk(prevPyr, pyr, lkPts);
        prevPyr = pyr;
      }
      const ec: number[] = [], el: number[] = [];
      const index = indexOf(out, pm, S);
      seeds.forEach((_, j) => {
        const g = gt[t][j];
        if (!g.visible) return;
        const f = lookup(index, targets[j]);
        if (Number.isFinite(f.x)) ec.push(Math.hypot(f.x - g.x, f.y - g.y));
        el.push(Math.hypot(lkPts[j * 2] - g.x, lkPts[j * 2 + 1] - g.y));
      });
      errC.push(mean(ec));
      errL.push(mean(el));
    }
    curves.push({ canonical: errC, lk: errL });
  }
  if (!curves.length) throw new Error('no long test sequence without cuts: make more with another --seed');
  const T = Math.min(...curves.map((c) => c.canonical.length));
  const at = (key: 'canonical' | 'lk', t: number) => round(mean(curves.map((c) => c[key][t])), 2);
  const checkpoints = [0, 10, 30, 100, 200, T - 1].filter((t) => t < T);
  return {
    sequences: curves.length,
    frames: T,
    epePx: Object.fromEntries(checkpoints.map((t) => [`frame${t}`, { canonicalLookup: at('canonical', t), lucasKanade: at('lk', t) }])),
    ratioAtLastFrame: round(at('lk', T - 1) / at('canonical', T - 1), 2),
  };
}

async function stability(model: FaceModel) {
  const S = model.contract.cropSize;
  const frames = Array.from({ length: 30 }, (_, k) => renderScene({ size: S, identity: 77, seed: 'static-head', noiseSeed: `noise-${k}`, yawDeg: 15 }));
  const gtMask = frames[0].frame.mask;
  const run = async (window: 1 | 8) => {
    const state = model.createState();
    const outs: StepOutputs[] = [];
    for (const s of frames) {
      if (window === 1) FaceModel.reset(state);
      const o = await model.step(imageToModelInput(s.frame.rgb, S), s.intrinsics.fx, state);
      outs.push({ depth: o.depth.slice(), canonical: o.canonical.slice(), confidence: o.confidence, parts: o.parts });
    }
    const dj: number[] = [], cj: number[] = [], smooth: number[] = [];
    // the smooth part of the depth jitter: its mean over 16x16 blocks (the token grid's cells), per pixel
    const B = 16, G = S / B;
    for (let t = 8; t < outs.length; t++) {
      let sd = 0, sc = 0, n = 0;
      const blockSum = new Float64Array(G * G), blockCount = new Float64Array(G * G);
      for (let i = 0; i < S * S; i++) {
        if (!hasCanonical(gtMask[i])) continue;
        const d = outs[t].depth[i] - outs[t - 1].depth[i];
        sd += Math.abs(d);
        const b = Math.floor(Math.floor(i / S) / B) * G + Math.floor((i % S) / B);
        blockSum[b] += d;
        blockCount[b]++;
        sc += Math.hypot(...[0, 1, 2].map((k) => outs[t].canonical[k * S * S + i] - outs[t - 1].canonical[k * S * S + i]));
        n++;
      }
      let ss = 0;
      for (let b = 0; b < G * G; b++) if (blockCount[b]) ss += Math.abs(blockSum[b] / blockCount[b]) * blockCount[b];
      dj.push((sd / n) * 1000);
      cj.push((sc / n) * 1000);
      smooth.push((ss / n) * 1000);
    }
    return { depthJitterMm: round(mean(dj), 3), depthJitterSmoothPartMm: round(mean(smooth), 3), canonicalJitterMm: round(mean(cj), 3) };
  };
  const w1 = await run(1), w8 = await run(8);
  return { window1: w1, window8: w8, depthRatio: round(w8.depthJitterMm / w1.depthJitterMm, 2), canonicalRatio: round(w8.canonicalJitterMm / w1.canonicalJitterMm, 2) };
}

async function speed(model: FaceModel, other?: FaceModel) {
  const S = model.contract.cropSize;
  const image = imageToModelInput(renderScene({ size: S, identity: 5 }).frame.rgb, S);
  // a model with an expression crop gets one (a grey one: the cost is the same)
  const expressionImage = (m: FaceModel) => (m.contract.expressionCrop ? new Float32Array(3 * m.contract.expressionCrop.size ** 2).fill(0.5) : undefined);
  const ms = new Map<string, number[]>();
  const time = async (m: FaceModel, key: string, window: 1 | 8, steps: number) => {
    const state: StreamState = m.createState();
    for (let i = 0; i < 10; i++) await m.step(image, S * 1.2, state, expressionImage(m));
    const got = ms.get(key) ?? [];
    for (let i = 0; i < steps; i++) {
      if (window === 1) FaceModel.reset(state);
      const t0 = performance.now();
      await m.step(image, S * 1.2, state, expressionImage(m));
      got.push(performance.now() - t0);
    }
    ms.set(key, got);
  };
  // with --compare, both models take turns in rounds of 25 steps: this machine's speed drifts within minutes
  const rounds = other ? 8 : 1;
  for (let r = 0; r < rounds; r++) for (const w of [1, 8] as const) {
    await time(model, `window${w}Ms`, w, 200 / rounds);
    if (other) await time(other, `compare.window${w}Ms`, w, 200 / rounds);
  }
  const stats = (key: string) => {
    const v = [...ms.get(key)!].sort((a, b) => a - b);
    return { p50: round(v[Math.floor(v.length / 2)], 2), p95: round(v[Math.floor(v.length * 0.95)], 2) };
  };
  return {
    window1Ms: stats('window1Ms'), window8Ms: stats('window8Ms'),
    ...(other ? { compare: { model: `${other.contract.name} ${other.contract.version}`, window1Ms: stats('compare.window1Ms'), window8Ms: stats('compare.window8Ms') } } : {}),
  };
}

export async function benchModel(argv: string[]): Promise<void> {
  const v = parseFlags('bench model', argv, { model: { type: 'string' }, test: { type: 'string' }, long: { type: 'string' }, only: { type: 'string' }, compare: { type: 'string' } });
  const root = projectRoot();
  const modelPath = (v.model as string) ?? DEFAULT_MODEL_PATH;
  const testDir = (v.test as string) ?? join(root, 'data', 'synth128', 'test');
  const longDir = (v.long as string) ?? join(root, 'data', 'synth128', 'test-long');
  const only = new Set(((v.only as string) ?? 'speed,stability,accuracy,tracking').split(','));
  const model = await FaceModel.load(modelPath);
  const results: Record<string, unknown> = { model: model.contract.name, version: model.contract.version };
  if (only.has('speed')) {
    const other = typeof v.compare === 'string' ? await FaceModel.load(v.compare) : undefined;
    console.log('speed', JSON.stringify((results.speed = await speed(model, other))));
    await other?.close();
  }
  if (only.has('stability')) console.log('stability', JSON.stringify((results.stability = await stability(model))));
  if (only.has('accuracy')) {
    const seqs = listSequences(testDir);
    results.accuracy = { sequences: seqs.length, window8: await accuracy(model, seqs, 8), window1: await accuracy(model, seqs, 1) };
    console.log('accuracy', JSON.stringify(results.accuracy));
  }
  if (only.has('tracking')) console.log('tracking', JSON.stringify((results.tracking = await tracking(model, listSequences(longDir)))));
  await model.close();
  console.log(`saved ${saveBenchResult(resultNameFor('model', modelPath), { model: modelPath, test: testDir, long: longDir, only: [...only] }, results)}`);
}
