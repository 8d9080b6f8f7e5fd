/**
 * How well blendshape weights follow the truth, measured the way an avatar's user feels it: per shape (Pearson r,
 * mean absolute error against the all-zero guess), blinks found, gaze in degrees, the weights' motion on a still
 * head, and the lag behind a sudden change. Series are [T*E] row-major (frame t, shape e), facekit order.
 */
import { gazeAngleDeg, gazeFromWeights } from '../../shared/gaze.js';
import { pearson } from '../real/landmarkMetrics.js';

export interface ShapeScore {
  readonly shape: string;
  /** null where the truth does not vary (std < 0.02) */
  readonly r: number | null;
  readonly mae: number;
  readonly zeroMae: number;
  readonly truthStd: number;
  /** frames where the truth is above 0.3 */
  readonly activeFrames: number;
}

/** One shape's series out of a [T*E] row-major series. */
export const column = (s: Float32Array, E: number, e: number) => Float32Array.from({ length: s.length / E }, (_, t) => s[t * E + e]);

export function shapeScores(truth: Float32Array, pred: Float32Array, names: readonly string[]): ShapeScore[] {
  const E = names.length;
  return names.map((shape, e) => {
    const t = column(truth, E, e), p = column(pred, E, e);
    const n = t.length;
    let mae = 0, zero = 0, mu = 0, active = 0;
    for (let i = 0; i < n; i++) (mae += Math.abs(p[i] - t[i])), (zero += Math.abs(t[i])), (mu += t[i]), (active += t[i] > 0.3 ? 1 : 0);
    mu /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (t[i] - mu) ** 2;
    const truthStd = Math.sqrt(v / n);
    return { shape, r: truthStd >= 0.02 ? pearson(Array.from(t), Array.from(p)) : null, mae: mae / n, zeroMae: zero / n, truthStd, activeFrames: active };
  });
}

/** [start, end) runs where the series is above `threshold`. */
export function eventsAbove(series: ArrayLike<number>, threshold: number): [number, number][] {
  const out: [number, number][] = [];
  let start = -1;
  for (let i = 0; i <= series.length; i++) {
    const on = i < series.length && series[i] > threshold;
    if (on && start < 0) start = i;
    if (!on && start >= 0) (out.push([start, i]), (start = -1));
  }
  return out;
}

export interface BlinkScore {
  readonly events: number;
  readonly found: number;
  /** predicted blinks that overlap no true one */
  readonly falseBlinks: number;
}

/** A true blink (weight > 0.5) is found when the prediction is above 0.5 within `tolerance` frames of it. */
export function blinkScore(truth: ArrayLike<number>, pred: ArrayLike<number>, tolerance = 2, threshold = 0.5): BlinkScore {
  const t = eventsAbove(truth, threshold), p = eventsAbove(pred, threshold);
  const overlaps = (a: [number, number], b: [number, number]) => a[0] < b[1] + tolerance && b[0] < a[1] + tolerance;
  return { events: t.length, found: t.filter((e) => p.some((q) => overlaps(e, q))).length, falseBlinks: p.filter((q) => !t.some((e) => overlaps(e, q))).length };
}

/** Per frame, the angle between the true and the predicted gaze of each eye (shared/gaze.ts), degrees. */
export function gazeErrors(truth: Float32Array, pred: Float32Array, E: number): { left: number[]; right: number[]; trueMagnitude: number[] } {
  const left: number[] = [], right: number[] = [], trueMagnitude: number[] = [];
  for (let t = 0; t < truth.length / E; t++) {
    const a = gazeFromWeights(truth.subarray(t * E, (t + 1) * E)), b = gazeFromWeights(pred.subarray(t * E, (t + 1) * E));
    left.push(gazeAngleDeg(a.left, b.left));
    right.push(gazeAngleDeg(a.right, b.right));
    trueMagnitude.push(gazeAngleDeg(a.left, { yawDeg: 0, pitchDeg: 0 }));
  }
  return { left, right, trueMagnitude };
}

/** The shift (frames, positive: the prediction is late) that best lines the prediction up with the truth. */
export function bestLag(truth: ArrayLike<number>, pred: ArrayLike<number>, maxLag = 4): number {
  let best = 0, bestR = -Infinity;
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    const a: number[] = [], b: number[] = [];
    for (let i = Math.max(0, -lag); i < truth.length && i + lag < pred.length; i++) (a.push(truth[i]), b.push(pred[i + lag]));
    const r = pearson(a, b);
    if (r > bestR + 1e-9) (bestR = r), (best = lag);
  }
  return best;
}

/** Mean over frames and shapes of |w_t - w_(t-1)|, and the largest shape's mean. */
export function weightMotion(series: Float32Array, E: number): { mean: number; worstShape: number } {
  const T = series.length / E;
  let sum = 0, worst = 0;
  for (let e = 0; e < E; e++) {
    let s = 0;
    for (let t = 1; t < T; t++) s += Math.abs(series[t * E + e] - series[(t - 1) * E + e]);
    s /= Math.max(1, T - 1);
    sum += s;
    worst = Math.max(worst, s);
  }
  return { mean: sum / E, worstShape: worst };
}
