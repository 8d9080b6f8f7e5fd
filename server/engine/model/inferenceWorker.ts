/**
 * worker_threads entry: owns one FaceModel and runs its steps off the main thread (onnxruntime's run blocks
 * the event loop; the live server's WebRTC stack must keep running). Messages are typed in inferenceClient.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FaceModel } from './faceModel.js';
import type { WorkerReply, WorkerRequest } from './inferenceClient.js';

const port = parentPort;
if (!port) throw new Error('inferenceWorker.ts must run in a worker thread');

const { modelPath, threads } = workerData as { modelPath: string; threads: number };

FaceModel.load(modelPath, { threads }).then(
  (model) => {
    port.postMessage({ kind: 'ready', contract: model.contract } satisfies WorkerReply);
    port.on('message', (req: WorkerRequest) => {
      if (req.kind === 'close') {
        model.close().finally(() => port.close());
        return;
      }
      const state = { cache: req.cache, cacheValid: req.cacheValid };
      model.step(req.image, req.focalPx, state).then(
        (out) => {
          const reply: WorkerReply = { kind: 'result', id: req.id, ...out, cache: state.cache, cacheValid: state.cacheValid };
          port.postMessage(reply, [out.depth.buffer, out.canonical.buffer, out.confidence.buffer, out.parts.buffer, state.cache.buffer, state.cacheValid.buffer] as ArrayBuffer[]);
        },
        (e: Error) => port.postMessage({ kind: 'error', id: req.id, name: e.name, message: e.message } satisfies WorkerReply),
      );
    });
  },
  (e: Error) => {
    port.postMessage({ kind: 'failed', name: e.name, message: e.message } satisfies WorkerReply);
  },
);
