/** The defaults every command and bench shares: which model file, how many model workers and threads, which device. */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../../node/projectRoot.js';

/** the shipped model (its card: models/README.md) */
export const DEFAULT_MODEL_PATH = join(projectRoot(), 'models', 'facestream-small.onnx');

/** Model threads for offline work (reconstruct, benches): the whole of a 2-core machine. */
export const OFFLINE_MODEL_THREADS = 2;

/** Where onnxruntime runs the face model: `--device` of serve and reconstruct (the face detector stays on the CPU). */
export const MODEL_DEVICES = ['cpu', 'webgpu', 'cuda'] as const;
export type ModelDevice = (typeof MODEL_DEVICES)[number];

/**
 * onnxruntime threads per model worker for the live server: 1. A second thread made a step 11 % faster (14.5 ->
 * 12.9 ms, `npm run bench -- model-batch`) for twice the cores, and on 2 cores a 2-thread worker gave fewer
 * results than a 1-thread one in the live bench; a second worker runs another session's step beside the first.
 */
export function liveModelThreads(): number {
  return 1;
}

/**
 * Model workers for the live server: one per core this process may use but one, at least 1 and at most 8
 * (`os.availableParallelism()` follows the CPU affinity: under `taskset -c 0` it is 1). The core left is for the
 * main thread (WebRTC, the engine's own stages, sending) and the VP8 decoders, which took 0.9-1.2 cores at 2-4
 * streams. On 2 cores (7 runs of `npm run bench -- live --replay --configs 1x1,2x1`) a second worker gave 2 streams
 * 22.8 results/s each against 21.0 (p95 97-132 ms against 86-109), and 4 streams 8.7 against 9.1, falling into a
 * keyframe storm in 4 of 5 runs against 1 of 5 (the starved main thread let RTP packets drop, and the gate then
 * skips to keyframes): a 2-core machine keeps one. Each step or detection goes to the worker with the least waiting.
 */
export function liveModelWorkers(): number {
  return Math.max(1, Math.min(8, availableParallelism() - 1));
}
