import t from 'tap';
import { bestLag, blinkScore, eventsAbove, shapeScores, weightMotion } from './expressionMetrics.js';

t.test('events, blinks, lag and motion', async (t) => {
  t.same(eventsAbove([0, 0.6, 0.7, 0, 0.9], 0.5), [[1, 3], [4, 5]]);
  const truth = [0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0];
  t.same(blinkScore(truth, [0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0]), { events: 2, found: 1, falseBlinks: 1 }, 'one found a frame late, one missed, one invented');
  t.same(blinkScore(truth, new Array(13).fill(0)), { events: 2, found: 0, falseBlinks: 0 }, 'all-zero finds nothing');
  const wave = Array.from({ length: 60 }, (_, i) => Math.sin(i / 4));
  t.equal(bestLag(wave, [0, 0, ...wave.slice(0, 58)]), 2, 'two frames late');
  t.same(weightMotion(Float32Array.of(0, 1, 0.5, 1, 0, 1), 2), { mean: 0.25, worstShape: 0.5 });
});

t.test('per shape: r against the truth, MAE against the all-zero guess; a flat truth has no r', async (t) => {
  const truth = Float32Array.of(0, 0.5, 1, 0.5, 0, 0.5, 1, 0.5), pred = Float32Array.of(0.1, 0, 0.9, 0, 0.1, 0, 0.9, 0);
  const [a, b] = shapeScores(truth, pred, ['a', 'b']);
  t.ok(a.r! > 0.99 && Math.abs(a.mae - 0.1) < 1e-6 && Math.abs(a.zeroMae - 0.5) < 1e-6, `a: r ${a.r}, MAE ${a.mae}`);
  t.equal(b.r, null, 'b does not vary');
});
