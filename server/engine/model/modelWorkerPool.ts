/**
 * Several model workers side by side, so that sessions do not queue behind one (issue #21). Each request, a step
 * or a detection, goes to the worker with the fewest requests waiting (ties in turn): a step's window cache
 * travels with it, so any worker can run any session's next frame and no session is tied to a busy worker.
 * Same interface as one InferenceClient (contract, createState, run, detect, close).
 *
 * A worker that dies rejects what it held (InvalidStateError; those sessions start an empty window), the others
 * go on, and another worker is started in its place after `restartDelayMs`, again on failure (doubling the wait,
 * 5 tries); a worker slot that died 5 times within a minute is not restarted. `died` is emitted when no worker
 * is left and none is starting: every request then rejects.
 */
import { EventEmitter } from 'node:events';
import { InvalidStateError } from '../../../shared/errors.js';
import type { ModelContract } from '../../../shared/model/modelContract.js';
import { OFFLINE_MODEL_THREADS, type ModelDevice } from './defaults.js';
import type { DetectorOutputs } from './detectorModel.js';
import type { StepOutputs, StreamState } from './faceModel.js';
import { InferenceClient, type InferenceWorkerStats } from './inferenceClient.js';

export interface ModelWorkerPoolOptions {
  /** workers side by side (default 1) */
  readonly workers?: number;
  /** onnxruntime threads in each (default 2: offline work on this 2-core machine) */
  readonly threads?: number;
  /** execution provider of the face model (default cpu) */
  readonly device?: ModelDevice;
  readonly detectorPath?: string;
  /** wait before a dead worker's replacement starts (default 1000 ms) */
  readonly restartDelayMs?: number;
  /** where the pool says a worker died or could not be replaced (default console.error) */
  readonly log?: (line: string) => void;
}

export interface ModelWorkerPoolEvents {
  /** one worker died (its slot, from 0); the pool replaces it */
  workerDied: [Error, number];
  /** no worker is left and none is starting */
  died: [Error];
}

/** The pool as /health states it. */
export interface ModelPoolStats {
  readonly device: ModelDevice;
  readonly workers: number;
  readonly threadsPerWorker: number;
  /** workers running now */
  readonly alive: number;
  readonly deaths: number;
  readonly restarts: number;
  /** each slot's current worker (null while it is being replaced or was given up) */
  readonly perWorker: (Readonly<InferenceWorkerStats> | null)[];
  /** every worker's counts summed, those that died included */
  readonly total: { steps: number; detections: number; stepMs: number; stepCpuMs: number; detectMs: number; detectCpuMs: number };
}

const RESTART_TRIES = 5;
const MAX_DEATHS_PER_MINUTE = 5;

export class ModelWorkerPool extends EventEmitter<ModelWorkerPoolEvents> {
  private readonly slots: (InferenceClient | null)[];
  private readonly deathTimes: number[][];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly retired = { steps: 0, detections: 0, stepMs: 0, stepCpuMs: 0, detectMs: 0, detectCpuMs: 0 };
  private starting = 0;
  private deaths = 0;
  private restarts = 0;
  private turn = 0;
  private closed = false;
  /** the last worker started, for the contract once none is left */
  private last: InferenceClient;

  private constructor(
    private readonly modelPath: string,
    private readonly o: Required<Omit<ModelWorkerPoolOptions, 'detectorPath'>> & { detectorPath?: string },
    clients: InferenceClient[],
  ) {
    super();
    this.slots = clients;
    this.last = clients[0];
    this.deathTimes = clients.map(() => []);
    clients.forEach((c, i) => this.watch(c, i));
  }

  /** Starts the workers (one, then the rest in parallel); rejects with the first error (model file, contract, device), none left running. */
  static async create(modelPath: string, options: ModelWorkerPoolOptions = {}): Promise<ModelWorkerPool> {
    const o = {
      workers: options.workers ?? 1,
      threads: options.threads ?? OFFLINE_MODEL_THREADS,
      device: options.device ?? 'cpu',
      restartDelayMs: options.restartDelayMs ?? 1000,
      log: options.log ?? ((line: string) => console.error(line)),
      detectorPath: options.detectorPath,
    };
    if (!(Number.isInteger(o.workers) && o.workers >= 1)) throw new RangeError(`model workers: expected an integer >= 1, got ${o.workers}`);
    const start = () => InferenceClient.create(modelPath, o.threads, { device: o.device, detectorPath: o.detectorPath });
    // the first alone: a model or a device that cannot load fails once, not once per worker
    const first = await start();
    const started = await Promise.allSettled(Array.from({ length: o.workers - 1 }, start));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    const clients = [first, ...started.filter((s): s is PromiseFulfilledResult<InferenceClient> => s.status === 'fulfilled').map((s) => s.value)];
    if (failed) {
      await Promise.allSettled(clients.map((c) => c.close()));
      throw failed.reason;
    }
    return new ModelWorkerPool(modelPath, o, clients);
  }

  get contract(): ModelContract {
    const c = this.slots.find((s) => s !== null) ?? this.last;
    return c.contract;
  }

  createState(): StreamState {
    const n = this.contract.cacheShape.reduce((a, b) => a * b, 1);
    return { cache: new Float32Array(n), cacheValid: new Float32Array(this.contract.window - 1) };
  }

  /** One step on the least busy worker; as InferenceClient.run (the image and the state's buffers are transferred). */
  run(image: Float32Array, focalPx: number, state: StreamState, expressionImage?: Float32Array): Promise<StepOutputs> {
    const c = this.pick();
    return c ? c.run(image, focalPx, state, expressionImage) : Promise.reject(this.unavailable());
  }

  /** The face detector on one view, on the least busy worker; as InferenceClient.detect. */
  detect(image: Float32Array): Promise<DetectorOutputs> {
    const c = this.pick();
    return c ? c.detect(image) : Promise.reject(this.unavailable());
  }

  stats(): ModelPoolStats {
    const perWorker = this.slots.map((c) => (c ? c.stats() : null));
    const total = { ...this.retired };
    for (const s of perWorker) {
      if (!s) continue;
      total.steps += s.steps;
      total.detections += s.detections;
      total.stepMs += s.stepMs;
      total.stepCpuMs += s.stepCpuMs;
      total.detectMs += s.detectMs;
      total.detectCpuMs += s.detectCpuMs;
    }
    return {
      device: this.o.device, workers: this.o.workers, threadsPerWorker: this.o.threads, alive: this.slots.filter((c) => c?.alive).length,
      deaths: this.deaths, restarts: this.restarts, perWorker, total,
    };
  }

  /** The worker in `slot`, for tests (kill() one to see the pool go on). */
  worker(slot: number): InferenceClient | null {
    return this.slots[slot] ?? null;
  }

  /** Idempotent: rejects what is pending, stops every worker, starts no more. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled(this.slots.map((c) => c?.close()));
  }

  private pick(): InferenceClient | null {
    if (this.closed) return null;
    let best: InferenceClient | null = null;
    const n = this.slots.length;
    for (let k = 0; k < n; k++) {
      const c = this.slots[(this.turn + k) % n];
      if (c?.alive && (!best || c.inFlight < best.inFlight)) best = c;
    }
    this.turn = (this.turn + 1) % n;
    return best;
  }

  private unavailable(): Error {
    if (this.closed) return new InvalidStateError('ModelWorkerPool is closed');
    return new InvalidStateError(`no model worker is running (${this.deaths} died${this.starting ? `; ${this.starting} starting` : ''})`);
  }

  private watch(c: InferenceClient, slot: number): void {
    this.last = c;
    c.once('died', (e) => this.onDied(c, slot, e));
  }

  private onDied(c: InferenceClient, slot: number, e: Error): void {
    if (this.closed || this.slots[slot] !== c) return;
    this.deaths++;
    const s = c.stats();
    for (const k of Object.keys(this.retired) as (keyof typeof this.retired)[]) this.retired[k] += s[k];
    this.slots[slot] = null;
    const now = Date.now();
    const recent = (this.deathTimes[slot] = [...this.deathTimes[slot].filter((t) => now - t < 60_000), now]);
    this.emit('workerDied', e, slot);
    if (recent.length >= MAX_DEATHS_PER_MINUTE) {
      this.o.log(`model worker ${slot + 1} of ${this.o.workers} died (${e.message}), its ${recent.length}th death within a minute: not restarted`);
      this.checkEmpty(e);
      return;
    }
    this.o.log(`model worker ${slot + 1} of ${this.o.workers} died (${e.message}): the requests it held failed; starting another`);
    this.restart(slot, 0, e);
  }

  private restart(slot: number, attempt: number, cause: Error): void {
    this.starting++;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      InferenceClient.create(this.modelPath, this.o.threads, { device: this.o.device, detectorPath: this.o.detectorPath }).then(
        (c) => {
          this.starting--;
          if (this.closed) return void c.close();
          this.slots[slot] = c;
          this.restarts++;
          this.watch(c, slot);
        },
        (e: Error) => {
          this.starting--;
          if (this.closed) return;
          if (attempt + 1 < RESTART_TRIES) {
            this.o.log(`model worker ${slot + 1} of ${this.o.workers}: could not start another (${e.message}); trying again`);
            this.restart(slot, attempt + 1, cause);
          } else {
            this.o.log(`model worker ${slot + 1} of ${this.o.workers}: could not start another in ${RESTART_TRIES} tries (${e.message}); given up`);
            this.checkEmpty(e);
          }
        },
      );
    }, this.o.restartDelayMs * 2 ** attempt);
    this.timers.add(timer);
  }

  private checkEmpty(e: Error): void {
    if (!this.closed && this.starting === 0 && !this.slots.some((c) => c?.alive)) this.emit('died', e);
  }
}
