/**
 * The engine end to end on 640x480 I420 frames (what the live server gets from its video decoder), held-out
 * synthetic test sequences, window 1 and window 8:
 *   speed     ms per frame for each stage (detect, crop, model, post, track, fit) and frames/s of the whole path
 *   accuracy  landmarks (px), metric depth AbsRel on face skin, head pose (degrees, mm), tracked mesh (mm),
 *             the 57 blendshape weights (mean abs error per shape, overall and where the shape is active)
 *
 *   npm run bench -- engine [--model models/facestream-small.onnx] [--sequences 4] [--frames 90] [--windows 1,8]
 * Frames are rendered before timing starts; the engine runs its model with 2 threads in its worker.
 */
import { parseFlags, intFlag } from '../server/cli/args.js';
import { FaceEngine, type FaceResult, type StageTimings } from '../server/engine/engine.js';
import { buildFaceTemplate } from '../server/engine/faceTemplate.js';
import { TrackedMesh } from '../server/engine/trackedMesh.js';
import { loadHeadAssets } from '../synth/headAssets.js';
import { planSequence, SequenceRenderer, type RenderedFrame } from '../synth/sequence.js';
import { resultNameFor, saveBenchResult } from './benchResult.js';
import { faceVerticesOf, frameErrors, mean, median, percentile, widescreenI420, type FrameErrors } from './engineAccuracy.js';
import { DEFAULT_MODEL_PATH } from '../server/engine/model/defaults.js';

const STAGES: (keyof StageTimings)[] = ['detect', 'crop', 'model', 'post', 'track', 'fit', 'total'];
const REPORTED_SHAPES = ['cheekPuff_L', 'eyeWide_L', 'eyeWide_R', 'noseSneer_L', 'eyeBlink_L', 'eyeBlink_R', 'jawOpen', 'mouthSmile_L', 'browInnerUp_L', 'mouthPucker'];

export async function benchEngine(argv: string[]): Promise<void> {
  const v = parseFlags('bench engine', argv, { model: { type: 'string' }, sequences: { type: 'string' }, frames: { type: 'string' }, windows: { type: 'string' } });
  const modelPath = typeof v.model === 'string' ? v.model : DEFAULT_MODEL_PATH;
  const sequences = intFlag('bench engine', v, 'sequences', 4, 1, 100);
  const frames = intFlag('bench engine', v, 'frames', 90, 2, 10000);
  const windows = String(v.windows ?? '1,8').split(',').map(Number);
  const assets = loadHeadAssets();
  const engine = await FaceEngine.create({ modelPath, template: buildFaceTemplate(assets.model) });
  const mesh = new TrackedMesh(assets.model);
  const facePart = assets.model.parts.find((p) => p.name === 'face')!;
  const faceVertices = faceVerticesOf(mesh, facePart.vertices);
  const names = assets.model.expressionNames;
  const report: Record<string, unknown> = {};
  try {
    for (const W of windows) {
      const timings: StageTimings[] = [];
      const errors: (FrameErrors & { truth: Float32Array; fitted: Float32Array | null })[] = [];
      let wallMs = 0, processed = 0, faces = 0;
      for (let s = 0; s < sequences; s++) {
        const plan = planSequence({ seed: 500, split: 'test', index: s, frames, size: 480, fps: 30 });
        const renderer = new SequenceRenderer(plan, assets);
        process.stderr.write(`window ${W}, sequence ${s + 1}/${sequences}: rendering ${frames} frames\n`);
        const rendered: { frame: RenderedFrame; input: ReturnType<typeof widescreenI420>; trueBase: Float32Array }[] = [];
        const bases = new Map<number, Float32Array>();
        for (let f = 0; f < frames; f++) {
          const frame = renderer.render(f);
          const seg = renderer.segmentIndexOf(f);
          if (!bases.has(seg)) bases.set(seg, mesh.identityBase(renderer.segment(seg).identityWeights));
          rendered.push({ frame, input: widescreenI420(frame, plan.intrinsics), trueBase: bases.get(seg)! });
        }
        const session = engine.openSession({ window: W, landmarks: 'facekit' });
        const results: FaceResult[] = [];
        const t0 = performance.now();
        for (let f = 0; f < frames; f++) {
          const { input } = rendered[f];
          results.push(await session.process({ frameId: f, pixels: input.pixels, intrinsics: input.K, cut: plan.cuts.includes(f) }));
        }
        wallMs += performance.now() - t0;
        processed += frames;
        session.close();
        let estimatedBase = mesh.identityBase(null);
        results.forEach((r, f) => {
          if (r.kind !== 'face') return;
          faces++;
          timings.push(r.timings);
          if (r.identity) estimatedBase = mesh.identityBase(r.identity);
          const { frame, input, trueBase } = rendered[f];
          errors.push({ ...frameErrors(r, frame, input.offsetX, { mesh, trueBase, estimatedBase, faceVertices }), truth: frame.expression, fitted: r.blendshapes });
        });
      }
      const stage = Object.fromEntries(STAGES.map((k) => [k, { p50: round(median(timings.map((t) => t[k])), 2), mean: round(mean(timings.map((t) => t[k])), 2), p95: round(percentile(timings.map((t) => t[k]), 95), 2) }]));
      const fit = errors.filter((e) => e.blendshapeAbs);
      const perShape = Object.fromEntries(names.map((n, k) => {
        const active = fit.filter((e) => e.truth[k] > 0.3);
        // correlation of fitted and true weights over the frames (where the shape varies at all)
        const truth = fit.map((e) => e.truth[k]), fitted = fit.map((e) => e.fitted![k]);
        return [n, { mae: round(mean(fit.map((e) => e.blendshapeAbs![k])), 3), maeWhenActive: active.length ? round(mean(active.map((e) => e.blendshapeAbs![k])), 3) : null, activeFrames: active.length, correlation: round(pearson(truth, fitted), 2) }];
      }));
      const correlated = Object.values(perShape).map((v) => v.correlation).filter((x): x is number => x !== null);
      const values = (k: 'rotationDeg' | 'translationMm' | 'meshMm' | 'meshShapeMm' | 'depthAbsRel') => errors.map((e) => e[k]).filter((x): x is number => x !== null);
      const lm = errors.flatMap((e) => e.landmarkPx);
      const summary = {
        frames: processed, faceFrames: faces,
        fps: round((1000 * processed) / wallMs, 1),
        stageMs: stage,
        landmarksPx: { mean: round(mean(lm), 2), median: round(median(lm), 2), note: 'face about 200 px tall in a 640x480 frame' },
        depthAbsRelPct: round(100 * mean(values('depthAbsRel')), 2),
        rotationDeg: { median: round(median(values('rotationDeg')), 2), mean: round(mean(values('rotationDeg')), 2), p95: round(percentile(values('rotationDeg'), 95), 2) },
        translationMm: { median: round(median(values('translationMm')), 1), mean: round(mean(values('translationMm')), 1) },
        meshMm: { median: round(median(values('meshMm')), 2), mean: round(mean(values('meshMm')), 2) },
        meshShapeMm: { median: round(median(values('meshShapeMm')), 2), mean: round(mean(values('meshShapeMm')), 2), note: 'mean offset removed' },
        blendshapeMae: round(mean(fit.flatMap((e) => Array.from(e.blendshapeAbs!))), 3),
        blendshapeMaeAllZero: round(mean(fit.flatMap((e) => Array.from(e.truth))), 3),
        blendshapeCorrelationMedian: round(median(correlated), 2),
        blendshapesCorrelatedAbove05: `${correlated.filter((r) => r > 0.5).length} of ${correlated.length} shapes that vary`,
        blendshapes: Object.fromEntries(REPORTED_SHAPES.map((n) => [n, perShape[n]])),
        allBlendshapes: perShape,
      };
      report[`window${W}`] = summary;
      const { allBlendshapes: _all, ...shown } = summary;
      console.log(`window ${W}:`, JSON.stringify(shown, null, 1));
    }
  } finally {
    await engine.close();
  }
  console.log(`saved ${saveBenchResult(resultNameFor('engine', modelPath), { model: modelPath, sequences, frames, windows, input: '640x480 I420, 480x480 render mirrored to 640 wide' }, report)}`);
}

/** Pearson correlation; NaN when either side does not vary (a shape barely used in these sequences). */
function pearson(a: number[], b: number[]): number {
  const ma = mean(a), mb = mean(b);
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  // the true weight must vary by a standard deviation of at least 0.05 to say anything
  return saa / a.length > 0.0025 && sbb > 1e-9 ? sab / Math.sqrt(saa * sbb) : NaN;
}

const round = (x: number, d: number) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : null);
