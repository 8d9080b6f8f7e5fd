import t from 'tap';
import { InvalidStateError } from '../../shared/errors.js';
import { NewestFrameSlot } from './newestFrameSlot.js';

/** A process whose runs finish when the test says. */
function gatedProcess() {
  const started: number[] = [];
  const finishers: (() => void)[] = [];
  const process = (n: number) => new Promise<number>((resolve) => {
    started.push(n);
    finishers.push(() => resolve(n * 10));
  });
  return { process, started, finishNext: async () => { finishers.shift()?.(); await new Promise((r) => setImmediate(r)); } };
}

t.test('while the engine is busy only the newest frame waits; the others are counted as replaced', async (t) => {
  const { process, started, finishNext } = gatedProcess();
  const delivered: number[][] = [];
  const slot = new NewestFrameSlot(process, (r: number, n: number) => delivered.push([n, r]));
  slot.offer(1);
  slot.offer(2);
  slot.offer(3);
  slot.offer(4);
  t.same(started, [1], 'the first runs at once');
  await finishNext();
  t.same(started, [1, 4], 'then the newest, 2 and 3 replaced');
  await finishNext();
  await slot.idle();
  t.same(delivered, [[1, 10], [4, 40]]);
  t.match(slot.stats(), { offered: 4, processed: 2, replaced: 2, processErrors: 0, deliverErrors: 0 });
});

t.test('an engine error and a delivery error are counted apart, and the slot goes on', async (t) => {
  const errors: string[] = [];
  const original = console.error;
  console.error = (m: string) => errors.push(m);
  t.teardown(() => void (console.error = original));
  const slot = new NewestFrameSlot(async (n: number) => {
    if (n === 1) throw new Error('engine failed');
    if (n === 2) throw new InvalidStateError('session closing');
    return n;
  }, (r: number) => {
    if (r === 3) throw new Error('send failed');
  }, 'test');
  for (const n of [1, 2, 3, 4]) {
    slot.offer(n);
    await slot.idle();
  }
  t.match(slot.stats(), { offered: 4, processed: 2, processErrors: 1, deliverErrors: 1 }, 'closing is not an error');
  t.equal(errors.length, 1, 'the first delivery failure is logged');
});

t.test('a closed slot takes nothing and drops what waits', async (t) => {
  const { process, started, finishNext } = gatedProcess();
  const slot = new NewestFrameSlot(process, () => undefined);
  slot.offer(1);
  slot.offer(2);
  slot.close();
  slot.offer(3);
  await finishNext();
  await slot.idle();
  t.same(started, [1]);
});
