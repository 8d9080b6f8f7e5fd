/**
 * Connecting again after a lost session, for the page, the typed client's users and the Node client alike:
 * exponential backoff with jitter (a replica that went away sends all its clients back at once; spread out, they
 * do not arrive at the proxy in one burst), a bounded number of tries, and a verdict on which failures are worth
 * another try. Browser-safe.
 */
import { InvalidStateError } from '../../shared/errors.js';
import { ServerRefusal } from './offerExchange.js';

export interface RetryOptions {
  /** tries after the first failure (default 8; 0: none) */
  readonly tries?: number;
  /** the first wait (default 500 ms); each next one doubles, up to maxDelayMs (default 8 s) */
  readonly firstDelayMs?: number;
  readonly maxDelayMs?: number;
  /** 0..1 of each wait drawn at random (default 0.25) */
  readonly jitter?: number;
}

export interface RetryNotice {
  /** 1 for the first retry */
  readonly attempt: number;
  readonly tries: number;
  readonly delayMs: number;
  /** why the previous try failed or the session ended */
  readonly reason: string;
}

/** The wait before retry `attempt` (1-based). `random` in [0, 1). */
export function backoffDelay(attempt: number, o: RetryOptions = {}, random = Math.random()): number {
  const first = o.firstDelayMs ?? 500, max = o.maxDelayMs ?? 8000, jitter = o.jitter ?? 0.25;
  const base = Math.min(max, first * 2 ** (attempt - 1));
  return Math.round(base * (1 - jitter + 2 * jitter * random));
}

/** Worth another try: the server was busy or draining or unreachable, the socket or the peer went away; not a wrong token or a refused offer. */
export function retryable(e: unknown): boolean {
  if (e instanceof ServerRefusal) return e.retryable || e.code === 'closed';
  return e instanceof InvalidStateError;
}

/**
 * `connect()` until it succeeds, waiting backoffDelay() between tries; `notify` hears of each wait. Rejects with the
 * last error when the tries are spent, at once for an error that is not retryable, or when `cancelled()` says so.
 */
export async function connectWithRetry<T>(connect: () => Promise<T>, o: RetryOptions, firstReason: string, notify: (n: RetryNotice) => void, cancelled: () => boolean = () => false): Promise<T> {
  const tries = o.tries ?? 8;
  let reason = firstReason;
  for (let attempt = 1; ; attempt++) {
    const delayMs = backoffDelay(attempt, o);
    notify({ attempt, tries, delayMs, reason });
    await new Promise((r) => setTimeout(r, delayMs));
    if (cancelled()) throw new InvalidStateError('reconnecting was cancelled');
    try {
      return await connect();
    } catch (e) {
      if (attempt >= tries || !retryable(e) || cancelled()) throw e;
      reason = (e as Error).message;
    }
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new InvalidStateError(`${what} within ${ms / 1000} s`)), ms);
    p.then((v) => (clearTimeout(timer), resolve(v)), (e) => (clearTimeout(timer), reject(e)));
  });
}
