/** What the inference client (inferenceClient.ts) and its worker (inferenceWorker.ts) say to each other. */
import type { ModelContract } from '../../../shared/model/modelContract.js';
import type { ModelDevice } from './defaults.js';
import type { DetectorOutputs } from './detectorModel.js';
import type { StepOutputs } from './faceModel.js';

/** The worker's start-up data. */
export interface WorkerSetup {
  readonly modelPath: string;
  readonly detectorPath: string;
  readonly threads: number;
  readonly device: ModelDevice;
}

/** How long the worker ran a request: wall time, and its own thread's CPU time where Linux tells it (else null). */
export interface RunCost {
  runMs: number;
  cpuMs: number | null;
}

export type WorkerRequest =
  | { kind: 'step'; id: number; image: Float32Array; focalPx: number; cache: Float32Array; cacheValid: Float32Array; expressionImage?: Float32Array }
  | { kind: 'detect'; id: number; image: Float32Array }
  | { kind: 'close' }
  /** tests: the worker throws an uncaught error once the run in progress is done, as a bug in it would */
  | { kind: 'crash' };

export type WorkerReply =
  /** threadId: the worker's Linux thread id (for `top -H` and the live bench's CPU accounting), null elsewhere */
  | { kind: 'ready'; contract: ModelContract; threadId: number | null }
  | { kind: 'failed'; name: string; message: string }
  | ({ kind: 'result'; id: number; cache: Float32Array; cacheValid: Float32Array } & StepOutputs & RunCost)
  | ({ kind: 'detected'; id: number } & DetectorOutputs & RunCost)
  | { kind: 'detectError'; id: number; name: string; message: string }
  | { kind: 'error'; id: number; name: string; message: string };
