/** What the inference client (inferenceClient.ts) and its worker (inferenceWorker.ts) say to each other. */
import type { ModelContract } from '../../../shared/model/modelContract.js';
import type { DetectorOutputs } from './detectorModel.js';
import type { StepOutputs } from './faceModel.js';

export type WorkerRequest =
  | { kind: 'step'; id: number; image: Float32Array; focalPx: number; cache: Float32Array; cacheValid: Float32Array }
  | { kind: 'detect'; id: number; image: Float32Array }
  | { kind: 'close' };

export type WorkerReply =
  | { kind: 'ready'; contract: ModelContract }
  | { kind: 'failed'; name: string; message: string }
  | ({ kind: 'result'; id: number; cache: Float32Array; cacheValid: Float32Array } & StepOutputs)
  | ({ kind: 'detected'; id: number } & DetectorOutputs)
  | { kind: 'detectError'; id: number; name: string; message: string }
  | { kind: 'error'; id: number; name: string; message: string };
