/**
 * Expression weights over time for one performance: talking (jaw and lip shapes at syllable rate), blinks (both
 * eyes, and one eye), gaze saccades, and a deck of expression events that cycles through all 57 shapes, each
 * once *alone* (everything else relaxed while it plays) and once *mixed* with others. Shapes that trackers are
 * known to miss (cheekPuff, eyeWide, noseSneer, one-sided smiles) are in the deck twice.
 */
import { FACEKIT_EXPRESSION_NAMES } from '../shared/blendshapeNames.js';
import type { Rng } from './random.js';

/** facekit's 57 expression shapes, in facekit's order (shared/blendshapeNames.ts: their ARKit names). */
export const EXPRESSION_NAMES = FACEKIT_EXPRESSION_NAMES;
export type ExpressionName = (typeof EXPRESSION_NAMES)[number];
export const EXPRESSION_COUNT = EXPRESSION_NAMES.length;

const idx = (n: ExpressionName): number => EXPRESSION_NAMES.indexOf(n);

/** Shapes today's trackers are known to miss: drawn twice as often. */
export const HARD_SHAPES: readonly ExpressionName[] = [
  'cheekPuff_L', 'cheekPuff_R', 'eyeWide_L', 'eyeWide_R', 'noseSneer_L', 'noseSneer_R', 'mouthSmile_L', 'mouthSmile_R',
  'eyeBlink_L', 'eyeBlink_R',
];

export interface ExpressionEvent {
  readonly shape: number;
  readonly mode: 'alone' | 'mixed';
  readonly startFrame: number;
  readonly endFrame: number;
  readonly peak: number;
}

export interface ExpressionTrack {
  /** [T*57] weights in [0, 1] */
  readonly weights: Float32Array;
  readonly events: readonly ExpressionEvent[];
}

/** Smooth bump: 0 at a and b, 1 on the plateau between a+ramp and b-ramp. */
function envelope(t: number, a: number, b: number, ramp: number): number {
  if (t <= a || t >= b) return 0;
  const r = Math.min(ramp, (b - a) / 2);
  const x = Math.min(1, (t - a) / r, (b - t) / r);
  return x * x * (3 - 2 * x);
}

const SYMMETRIC_PARTNER = new Map<number, number>();
for (const n of EXPRESSION_NAMES) {
  const m = n.endsWith('_L') ? n.slice(0, -2) + '_R' : n.endsWith('_R') ? n.slice(0, -2) + '_L' : null;
  if (m) SYMMETRIC_PARTNER.set(idx(n), idx(m as ExpressionName));
}

const VISEMES: ExpressionName[][] = [
  ['mouthFunnel'], ['mouthPucker'], ['mouthClose'], ['mouthStretch_L', 'mouthStretch_R'], ['mouthRollLower'],
  ['mouthRollUpper'], ['mouthShrugUpper'], ['mouthLowerDown_L', 'mouthLowerDown_R'], ['mouthUpperUp_L', 'mouthUpperUp_R'],
  ['mouthPress_L', 'mouthPress_R'], ['mouthSmile_L', 'mouthSmile_R'], [],
];

/**
 * Both eyes looking `x` towards the subject's left (negative: right) and `y` up (negative: down), in units of a
 * full eyeLook weight: the shapes and weights that say it. Looking left, the left eye turns out and the right eye in.
 */
function eyeLookWeights(x: number, y: number): [number, number][] {
  return [
    [idx(x > 0 ? 'eyeLookOut_L' : 'eyeLookIn_L'), Math.abs(x)],
    [idx(x > 0 ? 'eyeLookIn_R' : 'eyeLookOut_R'), Math.abs(x)],
    [idx(y > 0 ? 'eyeLookUp_L' : 'eyeLookDown_L'), Math.abs(y)],
    [idx(y > 0 ? 'eyeLookUp_R' : 'eyeLookDown_R'), Math.abs(y)],
  ];
}

export interface ExpressionOptions {
  readonly frames: number;
  readonly fps: number;
}

export function sampleExpressionTrack(rng: Rng, { frames: T, fps }: ExpressionOptions): ExpressionTrack {
  const E = EXPRESSION_COUNT;
  const base = new Float32Array(T * E); // talking, blinks, gaze
  const deck = new Float32Array(T * E); // expression events
  const calm = new Float32Array(T).fill(1); // 0 while an "alone" event plays
  const add = (buf: Float32Array, f: number, e: number, w: number) => {
    buf[f * E + e] += w;
  };
  const sec = (s: number) => s * fps;

  // talking spans: syllables at 3-6 per second, each opening the jaw with a mouth shape
  const talkiness = rng.chance(0.65) ? rng.uniform(0.3, 0.9) : 0;
  let f = 0;
  while (f < T && talkiness > 0) {
    const speaking = rng.chance(talkiness);
    const spanEnd = f + Math.round(sec(rng.uniform(1, 4)));
    while (speaking && f < spanEnd && f < T) {
      const len = Math.max(3, Math.round(sec(1 / rng.uniform(3, 6))));
      const jaw = rng.uniform(0.05, 0.45);
      const viseme = rng.pick(VISEMES);
      const vw = rng.uniform(0.2, 0.8);
      for (let k = 0; k < len && f + k < T; k++) {
        const env = Math.sin((Math.PI * (k + 0.5)) / len);
        add(base, f + k, idx('jawOpen'), jaw * env);
        for (const s of viseme) add(base, f + k, idx(s), vw * env);
      }
      f += len;
    }
    f = Math.max(f, spanEnd);
  }

  // blinks every 2-6 s; one in six is one eye only
  let t = sec(rng.uniform(0.2, 3));
  while (t < T) {
    const len = Math.max(3, sec(rng.uniform(0.12, 0.3)));
    const which = rng.weighted([5, 0.5, 0.5]);
    for (let k = Math.floor(t); k < Math.min(T, t + len); k++) {
      const w = Math.sin((Math.PI * (k - t)) / len);
      if (w <= 0) continue;
      if (which !== 2) add(base, k, idx('eyeBlink_L'), w);
      if (which !== 1) add(base, k, idx('eyeBlink_R'), w);
    }
    t += sec(rng.uniform(2, 6));
  }

  // gaze: hold a direction, then jump (saccade) to another
  let gx = 0, gy = 0;
  for (let k = 0; k < T; ) {
    const hold = Math.max(2, Math.round(sec(rng.uniform(0.4, 2))));
    const nx = rng.chance(0.4) ? 0 : rng.uniform(-1, 1), ny = rng.chance(0.5) ? 0 : rng.uniform(-0.8, 0.8);
    for (let j = 0; j < hold && k < T; j++, k++) {
      const a = Math.min(1, j / 2);
      const x = gx + (nx - gx) * a, y = gy + (ny - gy) * a;
      for (const [e, w] of eyeLookWeights(x, y)) add(base, k, e, w);
    }
    gx = nx;
    gy = ny;
  }

  // the deck: every shape once alone and once mixed per pass, hard shapes twice
  const cards: { shape: number; mode: 'alone' | 'mixed' }[] = [];
  const refill = () => {
    const pass: { shape: number; mode: 'alone' | 'mixed' }[] = [];
    for (let e = 0; e < E; e++) pass.push({ shape: e, mode: 'alone' }, { shape: e, mode: 'mixed' });
    for (const h of HARD_SHAPES) pass.push({ shape: idx(h), mode: 'alone' }, { shape: idx(h), mode: 'mixed' });
    cards.push(...rng.shuffle(pass));
  };
  const events: ExpressionEvent[] = [];
  let start = Math.round(sec(rng.uniform(0.1, 0.8)));
  while (start < T) {
    if (cards.length === 0) refill();
    const card = cards.shift()!;
    const len = Math.round(sec(rng.uniform(0.5, 1.6)));
    const end = Math.min(T, start + len);
    const peak = rng.uniform(0.55, 1);
    const ramp = Math.max(2, sec(0.15));
    const shapes = [card.shape];
    if (card.mode === 'mixed') {
      const partner = SYMMETRIC_PARTNER.get(card.shape);
      if (partner !== undefined && rng.chance(0.5)) shapes.push(partner);
      shapes.push(rng.int(0, E - 1));
    }
    for (let k = start; k < end; k++) {
      const env = envelope(k + 0.5, start, end, ramp);
      shapes.forEach((s, i) => add(deck, k, s, (i === 0 ? peak : peak * rng.uniform(0.5, 0.9)) * env));
      if (card.mode === 'alone') calm[k] = Math.min(calm[k], 1 - envelope(k + 0.5, start - ramp, end + ramp, ramp));
    }
    events.push({ shape: card.shape, mode: card.mode, startFrame: start, endFrame: end, peak });
    start = end + Math.round(sec(rng.uniform(card.mode === 'alone' ? 0.3 : 0, 0.8)));
  }

  const weights = new Float32Array(T * E);
  for (let k = 0; k < T; k++) {
    for (let e = 0; e < E; e++) {
      const w = base[k * E + e] * calm[k] + deck[k * E + e];
      weights[k * E + e] = w < 0 ? 0 : w > 1 ? 1 : w;
    }
  }
  return { weights, events };
}

/**
 * Every frame its own expression, independent of the frames around it: 1-4 shapes of the 57 (the hard ones twice
 * as likely, a one-sided shape often with its partner), often a jaw opening, a blink in one frame of six (one eye in
 * three of those), a gaze in three of five. For models that read the expression from one frame: the timeline plays
 * one event per second or so, so a short training sequence shows one or two expressions of one person, and a head
 * learns the people rather than their expressions; shuffled frames show as many expressions as frames.
 */
export function sampleShuffledExpressions(rng: Rng, frames: number): ExpressionTrack {
  const E = EXPRESSION_COUNT;
  const weights = new Float32Array(frames * E);
  const hard = HARD_SHAPES.map(idx);
  const add = (f: number, e: number, w: number) => {
    weights[f * E + e] = Math.min(1, weights[f * E + e] + w);
  };
  for (let f = 0; f < frames; f++) {
    const count = rng.int(1, 4);
    for (let k = 0; k < count; k++) {
      const e = rng.chance(0.3) ? rng.pick(hard) : rng.int(0, E - 1);
      const w = rng.uniform(0.3, 1);
      add(f, e, w);
      const partner = SYMMETRIC_PARTNER.get(e);
      if (partner !== undefined && rng.chance(0.4)) add(f, partner, w * rng.uniform(0.7, 1));
    }
    if (rng.chance(0.4)) add(f, idx('jawOpen'), rng.uniform(0.05, 0.6));
    if (rng.chance(1 / 6)) {
      const which = rng.weighted([2, 0.5, 0.5]);
      const w = rng.uniform(0.5, 1);
      if (which !== 2) add(f, idx('eyeBlink_L'), w);
      if (which !== 1) add(f, idx('eyeBlink_R'), w);
    }
    if (rng.chance(0.6)) {
      for (const [e, w] of eyeLookWeights(rng.uniform(-1, 1), rng.uniform(-0.8, 0.8))) add(f, e, w);
    }
  }
  return { weights, events: [] };
}
