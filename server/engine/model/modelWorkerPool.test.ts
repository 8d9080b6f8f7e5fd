import t from 'tap';
import { join } from 'node:path';
import { projectRoot } from '../../../node/projectRoot.js';
import { FaceModel } from './faceModel.js';
import { ModelWorkerPool } from './modelWorkerPool.js';

const MODEL = join(projectRoot(), 'models', 'facestream-small.onnx');

function image(S: number, seed: number): Float32Array {
  return Float32Array.from({ length: 3 * S * S }, (_, i) => ((i * 7919 + seed * 104729) % 1000) / 1000);
}

t.test('ModelWorkerPool: two sessions stepping at once on two workers give what FaceModel.step() gives each alone', async (t) => {
  const pool = await ModelWorkerPool.create(MODEL, { workers: 2, threads: 1 });
  const direct = await FaceModel.load(MODEL, { threads: 1 });
  const S = pool.contract.cropSize;
  const pooled = [pool.createState(), pool.createState()], here = [direct.createState(), direct.createState()];
  let worst = 0;
  for (let f = 0; f < 3; f++) {
    // both sessions' steps in flight together: each goes to a worker, and the window cache travels with it
    const both = await Promise.all([0, 1].map((s) => pool.run(image(S, 10 * s + f), 140 + s, pooled[s])));
    for (const s of [0, 1]) {
      const ref = await direct.step(image(S, 10 * s + f), 140 + s, here[s]);
      for (const k of ['depth', 'canonical', 'confidence', 'parts'] as const) {
        for (let i = 0; i < ref[k].length; i += 97) worst = Math.max(worst, Math.abs(both[s][k][i] - ref[k][i]));
      }
      t.same(Array.from(pooled[s].cacheValid), Array.from(here[s].cacheValid), `session ${s} frame ${f}: same window`);
    }
  }
  t.ok(worst < 1e-6, `worst difference ${worst}`);
  const stats = pool.stats();
  t.equal(stats.workers, 2);
  t.equal(stats.alive, 2);
  t.equal(stats.device, 'cpu');
  t.equal(stats.total.steps, 6, 'six steps counted');
  // two requests sent together went to two workers, not both to one
  t.ok(stats.perWorker.every((w) => w !== null && w.steps === 3), `steps per worker: ${stats.perWorker.map((w) => w?.steps).join(', ')}`);
  t.ok(stats.perWorker.every((w) => w !== null && w.maxInFlight === 1), 'no worker held two requests while the other was idle');
  t.ok(stats.total.stepMs > 0, 'step time counted');
  await pool.close();
  await direct.close();
});

t.test('ModelWorkerPool: many requests at once are spread over the workers by what each has waiting', async (t) => {
  const pool = await ModelWorkerPool.create(MODEL, { workers: 3, threads: 1 });
  const S = pool.contract.cropSize;
  const states = Array.from({ length: 6 }, () => pool.createState());
  await Promise.all(states.map((s, i) => pool.run(image(S, i), 140, s)));
  await Promise.all(Array.from({ length: 6 }, (_, i) => pool.detect(image(128, i))));
  const per = pool.stats().perWorker;
  t.same(per.map((w) => w?.steps), [2, 2, 2], 'six steps at once: two each');
  t.same(per.map((w) => w?.detections), [2, 2, 2], 'six detections at once: two each');
  t.ok(per.every((w) => w!.maxInFlight <= 2));
  // worker 0 busy with three steps sent to it directly: the pool's next two go to the idle ones, not in turn
  const busy = states.slice(0, 3).map((s, i) => pool.worker(0)!.run(image(S, i), 140, s));
  await Promise.all(states.slice(3, 5).map((s, i) => pool.run(image(S, i), 140, s)));
  await Promise.all(busy);
  t.same(pool.stats().perWorker.map((w) => w?.steps), [5, 3, 3], 'the busy worker got none of them');
  await pool.close();
});

t.test('ModelWorkerPool: a worker that dies fails only what it held; the others go on and it is replaced', async (t) => {
  const lines: string[] = [];
  const pool = await ModelWorkerPool.create(MODEL, { workers: 2, threads: 1, restartDelayMs: 50, log: (l) => lines.push(l) });
  const S = pool.contract.cropSize;
  const died: number[] = [];
  pool.on('workerDied', (_e, slot) => died.push(slot));
  const states = [pool.createState(), pool.createState()];
  for (const s of states) await pool.run(image(S, 1), 140, s);
  t.ok(states.every((s) => s.cacheValid[6] === 1), 'both sessions have a frame in their window');
  // worker 0 dies with a step waiting in it; the other step is on worker 1
  pool.worker(0)!.crashForTest();
  const steps = states.map((s, i) => pool.run(image(S, 2 + i), 140, s));
  t.same([pool.worker(0)!.inFlight, pool.worker(1)!.inFlight], [1, 1], 'one step on each worker');
  const settled = await Promise.allSettled(steps);
  const failed = settled.findIndex((r) => r.status === 'rejected');
  t.equal(settled.filter((r) => r.status === 'rejected').length, 1, 'only the dead worker\'s step rejects');
  t.match((settled[failed] as PromiseRejectedResult).reason, { name: 'InvalidStateError', message: /inference worker died: crash requested/ });
  t.equal(states[failed].cache.length, pool.createState().cache.length, 'its session got a whole, empty window back');
  t.same(Array.from(states[failed].cacheValid), [0, 0, 0, 0, 0, 0, 0]);
  t.same(Array.from(states[1 - failed].cacheValid).slice(-2), [1, 1], 'the other session\'s window goes on');
  t.same(died, [0]);
  // while worker 0 is being replaced the pool runs on worker 1
  t.equal(pool.stats().alive, 1);
  await pool.run(image(S, 4), 140, states[failed]);
  t.same(Array.from(states[failed].cacheValid).slice(-1), [1], 'the failed session goes on with a new window');
  for (let i = 0; i < 200 && pool.stats().alive < 2; i++) await new Promise((r) => setTimeout(r, 50));
  const s = pool.stats();
  t.equal(s.alive, 2, 'the dead worker was replaced');
  t.equal(s.deaths, 1);
  t.equal(s.restarts, 1);
  t.equal(s.total.steps, 4, 'the dead worker\'s answered step stays counted');
  t.match(lines.join('\n'), /model worker 1 of 2 died \(crash requested\): the requests it held failed; starting another/);
  await Promise.all(states.map((st, i) => pool.run(image(S, 5 + i), 140, st)));
  t.equal(pool.stats().perWorker[0]!.steps, 1, 'two steps at once: the new worker takes one');
  await pool.close();
});

t.test('ModelWorkerPool: with its only worker dead and being replaced, requests reject; close() stops the restart', async (t) => {
  const pool = await ModelWorkerPool.create(MODEL, { workers: 1, threads: 1, restartDelayMs: 10_000, log: () => undefined });
  const S = pool.contract.cropSize;
  const dead = new Promise((r) => pool.once('workerDied', r));
  pool.worker(0)!.crashForTest();
  await dead;
  await t.rejects(pool.run(image(S, 1), 140, pool.createState()), { name: 'InvalidStateError', message: /no model worker is running \(1 died; 1 starting\)/ });
  await t.rejects(pool.detect(image(128, 1)), { name: 'InvalidStateError' });
  await pool.close();
  await t.rejects(pool.run(image(S, 1), 140, pool.createState()), { name: 'InvalidStateError', message: /closed/ });
  t.equal(pool.stats().restarts, 0, 'closing stopped the pending restart');
});

t.test('ModelWorkerPool: a worker slot that keeps dying is given up, then `died`', async (t) => {
  const lines: string[] = [];
  const pool = await ModelWorkerPool.create(MODEL, { workers: 1, threads: 1, restartDelayMs: 10, log: (l) => lines.push(l) });
  let died: Error | null = null;
  pool.on('died', (e) => (died = e));
  for (let i = 0; i < 5; i++) {
    for (let k = 0; k < 250 && !pool.worker(0); k++) await new Promise((r) => setTimeout(r, 20));
    const dead = new Promise((r) => pool.once('workerDied', r));
    pool.worker(0)!.crashForTest();
    await dead;
  }
  t.ok(died, '`died` after the fifth death within a minute');
  t.equal(pool.stats().alive, 0);
  t.equal(pool.stats().restarts, 4);
  t.match(lines[lines.length - 1], /5th death within a minute: not restarted/);
  await pool.close();
});

t.test('ModelWorkerPool.create() rejects with the loader\'s error and leaves no worker running', async (t) => {
  await t.rejects(ModelWorkerPool.create(join(projectRoot(), 'models', 'nope.onnx'), { workers: 2 }), { name: 'InputError', message: /cannot read it/ });
  await t.rejects(ModelWorkerPool.create(MODEL, { workers: 0 }), RangeError);
});
