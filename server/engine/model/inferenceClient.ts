/**
 * Runs a face model in a worker thread: `run()` sends a step and resolves with its outputs, in order. If the
 * worker dies, every pending run rejects with InvalidStateError and `died` is emitted (as mediasoup's Channel).
 */
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { AssetError, InputError, InvalidStateError, ModelContractError } from '../../../shared/errors.js';
import type { ModelContract } from '../../../shared/model/modelContract.js';
import { PendingReplies } from '../../pendingReplies.js';
import { stopWorker } from '../../stopWorker.js';
import { OFFLINE_MODEL_THREADS } from './defaults.js';
import { DEFAULT_DETECTOR_PATH, type DetectorOutputs } from './detectorModel.js';
import type { StepOutputs, StreamState } from './faceModel.js';
import type { WorkerReply, WorkerRequest } from './inferenceMessages.js';

export interface InferenceClientEvents {
  died: [Error];
}

const ERRORS: Record<string, new (m: string) => Error> = { InputError, ModelContractError, AssetError };
const rebuild = (name: string, message: string): Error => new (ERRORS[name] ?? Error)(message);

export class InferenceClient extends EventEmitter<InferenceClientEvents> {
  private readonly pending = new PendingReplies<StepOutputs, { state: StreamState }>();
  private readonly detections = new PendingReplies<DetectorOutputs>();
  private closed = false;

  private constructor(
    private readonly worker: Worker,
    readonly contract: ModelContract,
  ) {
    super();
    worker.on('message', (m: WorkerReply) => this.onReply(m));
    worker.on('error', (e) => this.fail(e));
    worker.on('exit', (code) => this.fail(new InvalidStateError(`inference worker exited (code ${code})`)));
  }

  /** Starts a worker and loads the model and the face detector in it; rejects with the model's own error (contract, file). */
  static create(modelPath: string, threads = OFFLINE_MODEL_THREADS, detectorPath = DEFAULT_DETECTOR_PATH): Promise<InferenceClient> {
    const worker = new Worker(new URL('./inferenceWorker.js', import.meta.url), { workerData: { modelPath, detectorPath, threads } });
    return new Promise((resolve, reject) => {
      const onFirst = (m: WorkerReply) => {
        worker.off('error', onError);
        if (m.kind === 'ready') resolve(new InferenceClient(worker, m.contract));
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

  /** One step; `state` is updated when the step resolves. The image buffer is transferred (do not reuse it). */
  run(image: Float32Array, focalPx: number, state: StreamState): Promise<StepOutputs> {
    if (this.closed) return Promise.reject(new InvalidStateError('InferenceClient is closed'));
    return this.pending.request({ state }, (id) => {
      // the state's buffers move to the worker (no 1.8 MB copy per step) and the result brings new ones back;
      // until then the state is detached and must not be touched (process() runs one step at a time)
      const req: WorkerRequest = { kind: 'step', id, image, focalPx, cache: state.cache, cacheValid: state.cacheValid };
      this.worker.postMessage(req, [image.buffer as ArrayBuffer, req.cache.buffer as ArrayBuffer, req.cacheValid.buffer as ArrayBuffer]);
    });
  }

  /** The face detector on one square view ([3*128*128] RGB channels first, 0..1; the buffer is transferred). */
  detect(image: Float32Array): Promise<DetectorOutputs> {
    if (this.closed) return Promise.reject(new InvalidStateError('InferenceClient is closed'));
    return this.detections.request({}, (id) => {
      this.worker.postMessage({ kind: 'detect', id, image } satisfies WorkerRequest, [image.buffer as ArrayBuffer]);
    });
  }

  /** Idempotent: rejects pending runs, stops the worker. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pending.rejectAll(new InvalidStateError('InferenceClient closed'));
    this.detections.rejectAll(new InvalidStateError('InferenceClient closed'));
    await stopWorker(this.worker, { kind: 'close' } satisfies WorkerRequest);
  }

  private onReply(m: WorkerReply): void {
    if (m.kind === 'detected') {
      this.detections.take(m.id)?.resolve({ scores: m.scores, regressors: m.regressors });
      return;
    }
    if (m.kind === 'detectError') {
      this.detections.take(m.id)?.reject(rebuild(m.name, m.message));
      return;
    }
    if (m.kind !== 'result' && m.kind !== 'error') return;
    const p = this.pending.take(m.id);
    if (!p) return;
    if (m.kind === 'error') {
      // the state's buffers were handed over: give it a fresh (empty) window
      const fresh = this.createState();
      p.state.cache = fresh.cache;
      p.state.cacheValid = fresh.cacheValid;
      return p.reject(rebuild(m.name, m.message));
    }
    p.state.cache = m.cache;
    p.state.cacheValid = m.cacheValid;
    p.resolve({ depth: m.depth, canonical: m.canonical, confidence: m.confidence, parts: m.parts, ...(m.expression ? { expression: m.expression } : {}) });
  }

  private fail(e: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.pending.rejectAll(new InvalidStateError(`inference worker died: ${e.message}`));
    this.detections.rejectAll(new InvalidStateError(`inference worker died: ${e.message}`));
    this.emit('died', e);
  }
}
