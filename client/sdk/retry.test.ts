import t from 'tap';
import { InputError, InvalidStateError } from '../../shared/errors.js';
import { ServerRefusal } from './offerExchange.js';
import { backoffDelay, connectWithRetry, retryable } from './retry.js';

t.test('backoff doubles from the first wait up to the cap, jittered both ways', async (t) => {
  const o = { firstDelayMs: 100, maxDelayMs: 1000, jitter: 0.25 };
  t.same([1, 2, 3, 4, 5, 9].map((n) => backoffDelay(n, o, 0.5)), [100, 200, 400, 800, 1000, 1000]);
  t.equal(backoffDelay(1, o, 0), 75);
  t.equal(backoffDelay(1, o, 0.999999), 125);
});

t.test('busy, draining, a lost socket or an unreachable server are retried; a wrong token is not', async (t) => {
  t.ok(retryable(new ServerRefusal('busy', 'full')));
  t.ok(retryable(new ServerRefusal('draining', 'shutting down')));
  t.ok(retryable(new ServerRefusal('closed', 'socket closed')));
  t.ok(retryable(new InvalidStateError('cannot reach the server')));
  t.notOk(retryable(new ServerRefusal('unauthorized', 'wrong token')));
  t.notOk(retryable(new ServerRefusal('protocol', 'bad offer')));
  t.notOk(retryable(new InputError('bad input')));
});

t.test('connectWithRetry: waits, tells each try, stops at success, at the last try or at a final error', async (t) => {
  const o = { firstDelayMs: 1, maxDelayMs: 2, tries: 3 };
  let calls = 0;
  const notices: number[] = [];
  const v = await connectWithRetry(async () => {
    if (++calls < 3) throw new ServerRefusal('busy', 'full');
    return 'connected';
  }, o, 'lost', (n) => notices.push(n.attempt));
  t.equal(v, 'connected');
  t.same(notices, [1, 2, 3]);
  calls = 0;
  await t.rejects(connectWithRetry(async () => {
    calls++;
    throw new ServerRefusal('draining', 'x');
  }, o, 'lost', () => undefined), /draining/);
  t.equal(calls, 3, 'three tries, then the last error');
  calls = 0;
  await t.rejects(connectWithRetry(async () => {
    calls++;
    throw new ServerRefusal('unauthorized', 'wrong token');
  }, o, 'lost', () => undefined), /unauthorized/);
  t.equal(calls, 1, 'a wrong token is final');
  await t.rejects(connectWithRetry(async () => 'x', o, 'lost', () => undefined, () => true), /cancelled/);
});
