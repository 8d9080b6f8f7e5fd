import t from 'tap';
import { EXPRESSION_COUNT, EXPRESSION_NAMES, sampleExpressionTrack, sampleShuffledExpressions } from './expressionTimeline.js';
import { loadFacekit } from '../node/facekit/loadFacekit.js';
import { Rng } from './random.js';

t.test('EXPRESSION_NAMES matches facekit expression order', async (t) => {
  t.same([...EXPRESSION_NAMES], loadFacekit().expressionNames);
});

t.test('sampleExpressionTrack() plays every one of the 57 shapes alone and mixed', async (t) => {
  const T = 30 * 400;
  const { weights } = sampleExpressionTrack(new Rng('coverage'), { frames: T, fps: 30 });
  const alone = new Set<number>(), mixed = new Set<number>();
  for (let f = 0; f < T; f++) {
    const w = weights.subarray(f * EXPRESSION_COUNT, (f + 1) * EXPRESSION_COUNT);
    for (let e = 0; e < EXPRESSION_COUNT; e++) {
      if (w[e] < 0.5) continue;
      let others = 0;
      for (let o = 0; o < EXPRESSION_COUNT; o++) if (o !== e) others = Math.max(others, w[o]);
      if (others < 0.02) alone.add(e);
      if (others > 0.25) mixed.add(e);
    }
  }
  const missing = (s: Set<number>) => EXPRESSION_NAMES.filter((_, i) => !s.has(i));
  t.same(missing(alone), [], 'every shape alone');
  t.same(missing(mixed), [], 'every shape mixed');
});

t.test('sampleExpressionTrack() blinks one eye alone at times', async (t) => {
  const T = 30 * 120;
  const { weights } = sampleExpressionTrack(new Rng('winks'), { frames: T, fps: 30 });
  const L = EXPRESSION_NAMES.indexOf('eyeBlink_L'), R = EXPRESSION_NAMES.indexOf('eyeBlink_R');
  let winks = 0, blinks = 0;
  for (let f = 0; f < T; f++) {
    const l = weights[f * EXPRESSION_COUNT + L], r = weights[f * EXPRESSION_COUNT + R];
    if (l > 0.8 && r < 0.1) winks++;
    if (l > 0.8 && r > 0.8) blinks++;
  }
  t.ok(winks > 0 && blinks > 0, `${winks} frames of one-eye blinks, ${blinks} of both`);
});

t.test('sampleExpressionTrack() weights stay in [0, 1] and move smoothly', async (t) => {
  const { weights } = sampleExpressionTrack(new Rng('range'), { frames: 900, fps: 30 });
  let lo = Infinity, hi = -Infinity;
  for (const w of weights) (lo = Math.min(lo, w)), (hi = Math.max(hi, w));
  t.ok(lo >= 0 && hi <= 1, `range [${lo}, ${hi}]`);
});

t.test('shuffled expressions: every frame its own, every shape among them, weights in [0, 1]', async (t) => {
  const { weights } = sampleShuffledExpressions(new Rng('shuffled-test'), 600);
  const E = EXPRESSION_COUNT, seen = new Set<number>();
  let changed = 0;
  for (let f = 0; f < 600; f++) {
    for (let e = 0; e < E; e++) if (weights[f * E + e] > 0.2) seen.add(e);
    if (f && weights.subarray(f * E, (f + 1) * E).some((w, e) => Math.abs(w - weights[(f - 1) * E + e]) > 0.2)) changed++;
  }
  t.equal(seen.size, E, 'all 57 shapes occur in 600 frames');
  t.ok(changed > 590, `${changed} of 599 frames differ from the one before`);
  t.ok(weights.every((w) => w >= 0 && w <= 1));
});
