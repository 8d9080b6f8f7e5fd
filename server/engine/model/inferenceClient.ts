/**
 * Runs a face model in a worker thread: `run()` sends a step and resolves with its outputs, in order. If the
 * worker dies, every pending run rejects with InvalidStateError (its state gets an empty window) and `died` is
 * emitted (as mediasoup's Channel). modelWorkerPool.ts runs several of these side by side.
 */
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { AssetError, InputError, InvalidStateError, ModelContractError } from '../../../shared/errors.js';
import type { ModelContract } from '../../../shared/model/modelContract.js';
import { PendingReplies } from '../../pendingReplies.js';
import { stopWorker } from '../../stopWorker.js';
import { OFFLINE_MODEL_THREADS, type ModelDevice } from './defaults.js';
import { DEFAULT_DETECTOR_PATH, type DetectorOutputs } from './detectorModel.js';
import type { StepOutputs, StreamState } from './faceModel.js';
import type { RunCost, WorkerReply, WorkerRequest, WorkerSetup } from './inferenceMessages.js';

export interface InferenceClientOptions {
  /** onnxruntime's execution provider for the face model (default cpu) */
  readonly device?: ModelDevice;
  readonly detectorPath?: string;
}

/** What one worker has done since it started. */
export interface InferenceWorkerStats {
  /** its Linux thread id, null elsewhere */
  readonly threadId: number | null;
  steps: number;
  detections: number;
  /** requests sent and not yet answered, now and at most */
  inFlight: number;
  maxInFlight: number;
  /** time spent running steps and detections (wall), and this worker's thread's CPU time in them (Linux; with
   *  more than one model thread onnxruntime's other threads are not counted) */
  stepMs: number;
  stepCpuMs: number;
  detectMs: number;
  detectCpuMs: number;
}

export interface InferenceClientEvents {
  died: [Error];
}

const ERRORS: Record<string, new (m: string) => Error> = { InputError, ModelContractError, AssetError };
const rebuild = (name: string, message: string): Error => new (ERRORS[name] ?? Error)(message);

export class InferenceClient extends EventEmitter<InferenceClientEvents> {
  private readonly pending = new PendingReplies<StepOutputs, { state: StreamState }>();
  private readonly detections = new PendingReplies<DetectorOutputs>();
  private closed = false;
  private readonly counts: InferenceWorkerStats;

  private constructor(
    private readonly worker: Worker,
    readonly contract: ModelContract,
    threadId: number | null,
  ) {
    super();
    this.counts = { threadId, steps: 0, detections: 0, inFlight: 0, maxInFlight: 0, stepMs: 0, stepCpuMs: 0, detectMs: 0, detectCpuMs: 0 };
    worker.on('message', (m: WorkerReply) => this.onReply(m));
    worker.on('error', (e) => this.fail(e));
    worker.on('exit', (code) => this.fail(new InvalidStateError(`inference worker exited (code ${code})`)));
  }

  /**
   * Starts a worker and loads the model and the face detector in it; rejects with the model's own error (contract,
   * file, a device onnxruntime cannot use).
   */
  static create(modelPath: string, threads = OFFLINE_MODEL_THREADS, options: InferenceClientOptions = {}): Promise<InferenceClient> {
    const setup: WorkerSetup = { modelPath, detectorPath: options.detectorPath ?? DEFAULT_DETECTOR_PATH, threads, device: options.device ?? 'cpu' };
    const worker = new Worker(new URL('./inferenceWorker.js', import.meta.url), { workerData: setup });
    return new Promise((resolve, reject) => {
      const onFirst = (m: WorkerReply) => {
        worker.off('error', onError);
        if (m.kind === 'ready') resolve(new InferenceClient(worker, m.contract, m.threadId));
        else {
          const error = m.kind === 'failed' ? rebuild(m.name, m.message) : new InvalidStateError(`inference worker: unexpected first message ${m.kind}`);
          // rejected once the worker is gone: a caller that exits at once would otherwise abort the process
          const timer = setTimeout(() => void worker.terminate(), 2000);
          worker.once('exit', () => {
            clearTimeout(timer);
            reject(error);
          });
        }
      };
      const onError = (e: Error) => reject(e);
      worker.once('message', onFirst);
      worker.once('error', onError);
    });
  }

  createState(): StreamState {
    const n = this.contract.cacheShape.reduce((a, b) => a * b, 1);
    return { cache: new Float32Array(n), cacheValid: new Float32Array(this.contract.window - 1) };
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.counts.inFlight;
  }

  /** False once closed or dead. */
  get alive(): boolean {
    return !this.closed;
  }

  stats(): Readonly<InferenceWorkerStats> {
    return { ...this.counts };
  }

  /**
   * One step; `state` is updated when the step resolves. The image buffers are transferred (do not reuse them);
   * `expressionImage` is the contract's expression crop, for a model that has one.
   */
  run(image: Float32Array, focalPx: number, state: StreamState, expressionImage?: Float32Array): Promise<StepOutputs> {
    if (this.closed) return Promise.reject(new InvalidStateError('InferenceClient is closed'));
    this.sent();
    const reply = this.pending.request({ state }, (id) => {
      // the state's buffers move to the worker (no 6.4 MB copy per step) and the result brings new ones back;
      // until then the state is detached and must not be touched (process() runs one step at a time)
      const req: WorkerRequest = { kind: 'step', id, image, focalPx, cache: state.cache, cacheValid: state.cacheValid, ...(expressionImage ? { expressionImage } : {}) };
      const moved = [image.buffer as ArrayBuffer, req.cache.buffer as ArrayBuffer, req.cacheValid.buffer as ArrayBuffer];
      this.worker.postMessage(req, expressionImage ? [...moved, expressionImage.buffer as ArrayBuffer] : moved);
    });
    return reply.catch((e: Error) => {
      // closed, died, or the step failed in the worker: its buffers went there, so the session starts an empty window
      if (state.cache.length === 0) Object.assign(state, this.createState());
      throw e;
    });
  }

  /** The face detector on one square view ([3*128*128] RGB channels first, 0..1; the buffer is transferred). */
  detect(image: Float32Array): Promise<DetectorOutputs> {
    if (this.closed) return Promise.reject(new InvalidStateError('InferenceClient is closed'));
    this.sent();
    return this.detections.request({}, (id) => {
      this.worker.postMessage({ kind: 'detect', id, image } satisfies WorkerRequest, [image.buffer as ArrayBuffer]);
    });
  }

  /**
   * Tests: the worker throws an uncaught error (after the run in progress, if any), as a bug in it would; what it
   * holds rejects and `died` is emitted. (worker.terminate() during a run aborts the process inside onnxruntime.)
   */
  crashForTest(): void {
    this.worker.postMessage({ kind: 'crash' } satisfies WorkerRequest);
  }

  /** Idempotent: rejects pending runs, stops the worker. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pending.rejectAll(new InvalidStateError('InferenceClient closed'));
    this.detections.rejectAll(new InvalidStateError('InferenceClient closed'));
    this.counts.inFlight = 0;
    await stopWorker(this.worker, { kind: 'close' } satisfies WorkerRequest);
  }

  private sent(): void {
    this.counts.inFlight++;
    this.counts.maxInFlight = Math.max(this.counts.maxInFlight, this.counts.inFlight);
  }

  private answered(kind: 'step' | 'detect', cost?: RunCost): void {
    this.counts.inFlight = Math.max(0, this.counts.inFlight - 1);
    if (!cost) return;
    const c = this.counts;
    if (kind === 'step') {
      c.steps++;
      c.stepMs += cost.runMs;
      c.stepCpuMs += cost.cpuMs ?? 0;
    } else {
      c.detections++;
      c.detectMs += cost.runMs;
      c.detectCpuMs += cost.cpuMs ?? 0;
    }
  }

  private onReply(m: WorkerReply): void {
    if (m.kind === 'detected') {
      const p = this.detections.take(m.id);
      if (p) this.answered('detect', m);
      p?.resolve({ scores: m.scores, regressors: m.regressors });
      return;
    }
    if (m.kind === 'detectError') {
      const p = this.detections.take(m.id);
      if (p) this.answered('detect');
      p?.reject(rebuild(m.name, m.message));
      return;
    }
    if (m.kind !== 'result' && m.kind !== 'error') return;
    const p = this.pending.take(m.id);
    if (!p) return;
    this.answered('step', m.kind === 'result' ? m : undefined);
    // its buffers stay with the worker: run()'s catch gives the state a fresh (empty) window
    if (m.kind === 'error') return p.reject(rebuild(m.name, m.message));
    p.state.cache = m.cache;
    p.state.cacheValid = m.cacheValid;
    p.resolve({ depth: m.depth, canonical: m.canonical, confidence: m.confidence, parts: m.parts, ...(m.expression ? { expression: m.expression } : {}) });
  }

  private fail(e: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.pending.rejectAll(new InvalidStateError(`inference worker died: ${e.message}`));
    this.detections.rejectAll(new InvalidStateError(`inference worker died: ${e.message}`));
    this.counts.inFlight = 0;
    this.emit('died', e);
  }
}
