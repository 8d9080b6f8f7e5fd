/**
 * Blendshapes as an avatar's user feels them. On held-out synthetic video (exact truth), through the whole engine
 * (detector, crop, model, lookups) on 640-wide I420 frames: per shape Pearson r and mean absolute error against
 * the all-zero guess for all 57, blinks found (both eyes and one eye), gaze per eye in degrees (shared/gaze.ts),
 * the weights' motion on a still head, and their lag behind the truth. On the real webcam clips of bench real
 * (MIT, bench/real/media.ts; fetched by `npm run bench -- real`): the weights over time beside the frames, and the
 * blinks they count.
 *
 *   npm run bench -- expressions [--model FILE] [--sequences 12] [--frames 300] [--size 320] [--clip-frames 300] [--figures]
 * --figures writes docs/expressions-synthetic.png and docs/expressions-real.png.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../node/projectRoot.js';
import { intFlag, parseFlags } from '../server/cli/args.js';
import { cropToModelInput, modelInputToRgb, type FramePixels } from '../server/engine/crop.js';
import type { CropPlacement } from '../shared/cropPlacement.js';
import { FaceEngine, type FaceResult } from '../server/engine/engine.js';
import { buildFaceTemplate } from '../server/engine/faceTemplate.js';
import { DEFAULT_MODEL_PATH } from '../server/engine/model/defaults.js';
import { openFrameSource } from '../server/offline/frameSource.js';
import { FACEKIT_EXPRESSION_NAMES } from '../shared/blendshapeNames.js';
import { loadHeadAssets } from '../synth/headAssets.js';
import { planSequence, SequenceRenderer } from '../synth/sequence.js';
import { resultNameFor, round, saveBenchResult } from './benchResult.js';
import { widescreenI420, mean, median } from './engineAccuracy.js';
import { bestLag, blinkScore, column, eventsAbove, gazeErrors, shapeScores, weightMotion } from './expressions/expressionMetrics.js';
import { renderWeightPlot } from './expressions/weightPlot.js';
import { mediaPath, REAL_MEDIA } from './real/media.js';

const E = FACEKIT_EXPRESSION_NAMES.length;
const at = (n: (typeof FACEKIT_EXPRESSION_NAMES)[number]) => FACEKIT_EXPRESSION_NAMES.indexOf(n);
const THUMB = 48;
const PLOTTED = ['eyeBlink_L', 'eyeBlink_R', 'jawOpen', 'mouthSmile_L', 'mouthSmile_R', 'browInnerUp_L'] as const;
const columnOf = (s: Float32Array, e: number): Float32Array => column(s, E, e);

/** The weights of a result, or zeros where there is no face or no weights (what an avatar would be given). */
const weightsOf = (r: FaceResult) => (r.kind === 'face' && r.blendshapes ? r.blendshapes : new Float32Array(E));

export async function benchExpressions(argv: string[]): Promise<void> {
  const v = parseFlags('bench expressions', argv, { model: { type: 'string' }, sequences: { type: 'string' }, frames: { type: 'string' }, size: { type: 'string' }, 'clip-frames': { type: 'string' }, figures: { type: 'boolean' } });
  const modelPath = typeof v.model === 'string' ? v.model : DEFAULT_MODEL_PATH;
  const sequences = intFlag('bench expressions', v, 'sequences', 12, 1, 200);
  const frames = intFlag('bench expressions', v, 'frames', 300, 10, 10000);
  const size = intFlag('bench expressions', v, 'size', 320, 128, 480);
  // the first 300 frames of each real clip: the span whose blinks were counted by eye (the README)
  const clipFrames = intFlag('bench expressions', v, 'clip-frames', 300, 10, 100000);
  const assets = loadHeadAssets();
  const engine = await FaceEngine.create({ modelPath, template: buildFaceTemplate(assets.model) });
  try {
    // --- synthetic: the truth is exact
    const truthRows: Float32Array[] = [], predRows: Float32Array[] = [];
    let firstSequence: { truth: Float32Array; pred: Float32Array; thumbs: { frame: number; rgb: Uint8Array }[] } | null = null;
    for (let s = 0; s < sequences; s++) {
      const plan = planSequence({ seed: 600, split: 'test', index: s, frames, size, fps: 30 });
      const renderer = new SequenceRenderer(plan, assets);
      const session = engine.openSession();
      const truth = new Float32Array(frames * E), pred = new Float32Array(frames * E);
      const thumbs: { frame: number; rgb: Uint8Array }[] = [];
      for (let f = 0; f < frames; f++) {
        const frame = renderer.render(f);
        const input = widescreenI420(frame, plan.intrinsics);
        const r = await session.process({ frameId: f, pixels: input.pixels, intrinsics: input.K, cut: plan.cuts.includes(f) });
        truth.set(frame.expression, f * E);
        pred.set(weightsOf(r), f * E);
        if (s === 0 && f % 30 === 15 && r.kind === 'face') thumbs.push({ frame: f, rgb: thumbnail(input.pixels, r.placement) });
      }
      session.close();
      truthRows.push(truth);
      predRows.push(pred);
      if (s === 0) firstSequence = { truth, pred, thumbs };
      process.stderr.write(`sequence ${s + 1}/${sequences} done\n`);
    }
    const truth = concat(truthRows), pred = concat(predRows);
    const scores = shapeScores(truth, pred, FACEKIT_EXPRESSION_NAMES);
    const varying = scores.filter((x) => x.r !== null);
    const blinks = {
      left: sumBlinks(truthRows, predRows, at('eyeBlink_L')),
      right: sumBlinks(truthRows, predRows, at('eyeBlink_R')),
    };
    const gaze = gazeErrors(truth, pred, E);
    const looking = gaze.trueMagnitude.map((m, i) => (m > 10 ? i : -1)).filter((i) => i >= 0);
    const lags = scores.flatMap((x, e) => (x.r !== null && x.r >= 0.5 ? [median(truthRows.map((t, k) => bestLag(columnOf(t, e), columnOf(predRows[k], e))))] : []));

    // --- a still head: one frame, fresh sensor noise each time
    const plan = planSequence({ seed: 600, split: 'test', index: 0, frames: 1, size, fps: 30 });
    const still = widescreenI420(new SequenceRenderer(plan, assets).render(0), plan.intrinsics);
    const stillSession = engine.openSession();
    const stillSeries: Float32Array[] = [];
    let seed = 1;
    const noise = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 6;
    for (let k = 0; k < 40; k++) {
      const data = Uint8Array.from(still.pixels.data, (y) => Math.max(0, Math.min(255, Math.round(y + noise()))));
      const r = await stillSession.process({ frameId: k, pixels: { ...still.pixels, data }, intrinsics: still.K });
      if (k >= 8) stillSeries.push(weightsOf(r)); // after the window has filled
    }
    stillSession.close();
    const stillMotion = weightMotion(concat(stillSeries), E);

    // --- real clips
    const real: Record<string, unknown>[] = [];
    const realPlots: { id: string; series: Float32Array; thumbs: { frame: number; rgb: Uint8Array }[]; frames: number }[] = [];
    for (const m of REAL_MEDIA.filter((x) => x.kind === 'video')) {
      const path = mediaPath(m);
      if (!existsSync(path)) {
        console.log(`${m.id}: not fetched (npm run bench -- real fetches the real media)`);
        continue;
      }
      const session = engine.openSession();
      const series: Float32Array[] = [], thumbs: { frame: number; rgb: Uint8Array }[] = [];
      for await (const f of openFrameSource(path).frames()) {
        if (f.index >= clipFrames) break;
        const r = await session.process({ frameId: f.index, pixels: f.pixels });
        series.push(weightsOf(r));
        if (f.index % 20 === 10 && r.kind === 'face') thumbs.push({ frame: f.index, rgb: thumbnail(f.pixels, r.placement) });
      }
      session.close();
      const all = concat(series);
      // the clips have no truth: the blinks the weights count (above 0.5, as in blinkScore), for a count by eye
      const counted = (n: 'eyeBlink_L' | 'eyeBlink_R') => eventsAbove(columnOf(all, at(n)), 0.5).length;
      real.push({ id: m.id, licence: m.licence, frames: series.length, blinksCounted: { left: counted('eyeBlink_L'), right: counted('eyeBlink_R') }, peak: Object.fromEntries(PLOTTED.map((n) => [n, round(Math.max(...columnOf(all, at(n))), 2)])) });
      realPlots.push({ id: m.id, series: all, thumbs, frames: series.length });
    }

    const report = {
      model: modelPath.split('/').pop(),
      synthetic: {
        frames: truth.length / E,
        shapesVarying: varying.length,
        rAtLeast08: varying.filter((x) => x.r! >= 0.8).length,
        rAtLeast05: varying.filter((x) => x.r! >= 0.5).length,
        mae: round(mean(scores.map((x) => x.mae)), 4),
        zeroMae: round(mean(scores.map((x) => x.zeroMae)), 4),
        shapesBelowZeroMae: scores.filter((x) => x.mae < x.zeroMae).length,
        blinks: { left: blinks.left, right: blinks.right, recall: round((blinks.left.found + blinks.right.found) / Math.max(1, blinks.left.events + blinks.right.events), 3) },
        gazeDeg: { leftMedian: round(median(gaze.left), 1), rightMedian: round(median(gaze.right), 1), whileLookingAwayMedian: round(median(looking.flatMap((i) => [gaze.left[i], gaze.right[i]])), 1), framesLookingAway: looking.length },
        stillHead: { meanMovePerFrame: round(stillMotion.mean, 4), worstShapeMovePerFrame: round(stillMotion.worstShape, 4) },
        lagFramesMedian: lags.length ? median(lags) : null,
        perShape: scores.map((x) => ({ ...x, r: x.r === null ? null : round(x.r, 2), mae: round(x.mae, 4), zeroMae: round(x.zeroMae, 4), truthStd: round(x.truthStd, 3) })),
      },
      real,
    };
    const sy = report.synthetic;
    console.log(`synthetic (${sy.frames} frames): ${sy.rAtLeast08} of ${sy.shapesVarying} varying shapes with r >= 0.8 (${sy.rAtLeast05} >= 0.5); MAE ${sy.mae} against ${sy.zeroMae} all-zero; ${sy.shapesBelowZeroMae} of 57 shapes below their all-zero MAE`);
    console.log(`  blinks found: left ${sy.blinks.left.found}/${sy.blinks.left.events}, right ${sy.blinks.right.found}/${sy.blinks.right.events} (recall ${sy.blinks.recall}); false blinks ${sy.blinks.left.falseBlinks + sy.blinks.right.falseBlinks}`);
    console.log(`  gaze error per eye, median: left ${sy.gazeDeg.leftMedian}°, right ${sy.gazeDeg.rightMedian}°; ${sy.gazeDeg.whileLookingAwayMedian}° while the truth looks > 10° away (${sy.gazeDeg.framesLookingAway} frames)`);
    console.log(`  still head: weights move ${sy.stillHead.meanMovePerFrame} per frame (worst shape ${sy.stillHead.worstShapeMovePerFrame}); lag behind the truth: ${sy.lagFramesMedian} frames (median over shapes with r >= 0.5)`);
    for (const x of real) console.log(`real ${x.id}: ${x.frames} frames; blinks counted ${JSON.stringify(x.blinksCounted)}; peaks ${JSON.stringify(x.peak)}`);
    if (v.figures === true) {
      const docs = join(projectRoot(), 'docs');
      if (firstSequence) {
        const strips = PLOTTED.map((n) => ({ name: n, values: columnOf(firstSequence!.pred, at(n)), truth: columnOf(firstSequence!.truth, at(n)) }));
        writeFileSync(join(docs, 'expressions-synthetic.png'), renderWeightPlot(strips, frames, { thumbnails: firstSequence.thumbs, thumbSize: THUMB, pxPerFrame: 3 }));
      }
      if (realPlots.length) {
        const p = realPlots[0];
        writeFileSync(join(docs, 'expressions-real.png'), renderWeightPlot(PLOTTED.map((n) => ({ name: n, values: columnOf(p.series, at(n)) })), p.frames, { thumbnails: p.thumbs, thumbSize: THUMB, pxPerFrame: 3 }));
      }
      console.log(`figures in ${docs}`);
    }
    console.log(`saved ${saveBenchResult(resultNameFor('expressions', modelPath), { model: report.model, sequences, frames, size }, report)}`);
  } finally {
    await engine.close();
  }
}

function concat(rows: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(rows.reduce((n, r) => n + r.length, 0));
  let o = 0;
  for (const r of rows) (out.set(r, o), (o += r.length));
  return out;
}

function sumBlinks(truth: readonly Float32Array[], pred: readonly Float32Array[], e: number) {
  const total = { events: 0, found: 0, falseBlinks: 0 };
  truth.forEach((t, k) => {
    const s = blinkScore(columnOf(t, e), columnOf(pred[k], e));
    total.events += s.events;
    total.found += s.found;
    total.falseBlinks += s.falseBlinks;
  });
  return total;
}

/** The crop the model saw, THUMB pixels square. */
function thumbnail(pixels: FramePixels, placement: CropPlacement): Uint8Array {
  return downsample(modelInputToRgb(cropToModelInput(pixels, placement), placement.size), placement.size, THUMB);
}

/** Nearest-neighbour resize of a square RGB image. */
function downsample(rgb: Uint8Array, from: number, to: number): Uint8Array {
  const out = new Uint8Array(to * to * 3);
  for (let y = 0; y < to; y++) for (let x = 0; x < to; x++) {
    const i = (Math.floor((y * from) / to) * from + Math.floor((x * from) / to)) * 3;
    out.set(rgb.subarray(i, i + 3), (y * to + x) * 3);
  }
  return out;
}
