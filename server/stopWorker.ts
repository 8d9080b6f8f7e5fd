/** Shutting down a worker thread that owns native resources (an ONNX session, a libvpx context). */
import type { Worker } from 'node:worker_threads';

/**
 * Asks the worker to close (it frees what it owns and exits), and terminates it if it has not exited within
 * `graceMs`. Resolves once it is gone.
 */
export function stopWorker(worker: Worker, closeMessage: unknown, graceMs = 2000): Promise<void> {
  worker.postMessage(closeMessage);
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => void worker.terminate().then(() => resolve()), graceMs);
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
