import t from 'tap';
import { listPhotos, photoDir } from './background.js';
import { identityWeights, planSequence } from './sequence.js';
import { assetSplit, SPLITS, type Split } from './splits.js';

function assetsOf(split: Split, n: number) {
  const plans = Array.from({ length: n }, (_, i) => planSequence({ seed: 7, split, index: i, frames: 90, size: 64, fps: 30 }));
  const segs = plans.flatMap((p) => p.segments);
  return {
    identity: new Set(segs.map((s) => s.identity)),
    appearance: new Set(segs.map((s) => s.appearance)),
    lighting: new Set(segs.map((s) => s.lighting)),
    background: new Set(segs.map((s) => s.background)),
    performance: new Set(plans.map((p) => p.performance)),
  };
}

t.test('planSequence(): train and test splits share no identity, appearance, lighting, background or performance', async (t) => {
  const train = assetsOf('train', 300), test = assetsOf('test', 300);
  for (const kind of ['identity', 'appearance', 'lighting', 'background', 'performance'] as const) {
    const shared = [...train[kind]].filter((k) => test[kind].has(k));
    t.same(shared, [], `${kind}: no shared assets`);
    t.ok([...test[kind]].every((k) => assetSplit(kind, k) === 'test'), `${kind}: every test asset belongs to test`);
  }
  // and the identities themselves differ (not only their numbers)
  const testWeights = [...test.identity].map((k) => identityWeights(k));
  let closest = Infinity;
  for (const k of [...train.identity].slice(0, 100)) {
    const a = identityWeights(k);
    for (const b of testWeights) closest = Math.min(closest, Math.hypot(...a.map((x, i) => x - b[i])));
  }
  t.ok(closest > 1, `closest train/test identity distance ${closest.toFixed(2)} (std units)`);
});

t.test('planSequence() with the same arguments gives the same plan; another seed another one', async (t) => {
  const a = planSequence({ seed: 1, split: 'train', index: 3, frames: 60, size: 64, fps: 30 });
  const b = planSequence({ seed: 1, split: 'train', index: 3, frames: 60, size: 64, fps: 30 });
  const c = planSequence({ seed: 2, split: 'train', index: 3, frames: 60, size: 64, fps: 30 });
  t.same(a.segments, b.segments);
  t.same(Array.from(a.expression.weights), Array.from(b.expression.weights));
  t.not(a.segments[0].identity, c.segments[0].identity);
});

t.test('listPhotos(): the background photographs of each split are disjoint', async (t) => {
  const lists = SPLITS.map((s) => listPhotos(s));
  const all = lists.flat();
  t.equal(new Set(all).size, all.length, 'no photograph in two splits');
  if (all.length === 0) t.comment(`no photographs found in ${photoDir()}: backgrounds are procedural only`);
});
