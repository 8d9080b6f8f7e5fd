/** The defaults every command and bench shares: which model file, and how many threads its worker runs. */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../../node/projectRoot.js';

/** the shipped model (its card: models/README.md) */
export const DEFAULT_MODEL_PATH = join(projectRoot(), 'models', 'facestream-small.onnx');

/** Model threads for offline work (reconstruct, benches): the whole of a 2-core machine. */
export const OFFLINE_MODEL_THREADS = 2;

/**
 * Model threads for the live server: 1 on machines with up to 2 cores (the main thread's WebRTC and the decoders
 * need a core: on 2 cores, 2 model threads doubled the latency in the live bench), else 2.
 */
export function liveModelThreads(): number {
  return availableParallelism() <= 2 ? 1 : 2;
}
