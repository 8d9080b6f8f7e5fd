/**
 * worker_threads entry: owns one FaceModel and the face detector, and runs them off the main thread
 * (onnxruntime's run blocks the event loop; the live server's WebRTC stack must keep running). Messages are
 * typed in inferenceClient.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DetectorModel } from './detectorModel.js';
import { FaceModel } from './faceModel.js';
import type { WorkerReply, WorkerRequest } from './inferenceMessages.js';

const port = parentPort;
if (!port) throw new Error('inferenceWorker.ts must run in a worker thread');

const { modelPath, detectorPath, threads } = workerData as { modelPath: string; detectorPath: string; threads: number };

// both load, or neither stays: a half-loaded worker torn down by the process's exit aborts inside onnxruntime
async function loadBoth(): Promise<[FaceModel, DetectorModel]> {
  const [m, d] = await Promise.allSettled([FaceModel.load(modelPath, { threads }), DetectorModel.load(detectorPath)]);
  if (m.status === 'fulfilled' && d.status === 'fulfilled') return [m.value, d.value];
  await Promise.allSettled([m.status === 'fulfilled' ? m.value.close() : null, d.status === 'fulfilled' ? d.value.close() : null]);
  throw m.status === 'rejected' ? m.reason : (d as PromiseRejectedResult).reason;
}

loadBoth().then(
  ([model, detector]) => {
    port.postMessage({ kind: 'ready', contract: model.contract } satisfies WorkerReply);
    const fail = (kind: 'error' | 'detectError', id: number) => (e: Error) => port.postMessage({ kind, id, name: e.name, message: e.message } satisfies WorkerReply);
    port.on('message', (req: WorkerRequest) => {
      if (req.kind === 'close') {
        Promise.all([model.close(), detector.close()]).finally(() => port.close());
        return;
      }
      if (req.kind === 'detect') {
        detector.run(req.image).then((out) => {
          const reply: WorkerReply = { kind: 'detected', id: req.id, ...out };
          port.postMessage(reply, [out.scores.buffer, out.regressors.buffer] as ArrayBuffer[]);
        }, fail('detectError', req.id));
        return;
      }
      const state = { cache: req.cache, cacheValid: req.cacheValid };
      model.step(req.image, req.focalPx, state).then(
        (out) => {
          const reply: WorkerReply = { kind: 'result', id: req.id, ...out, cache: state.cache, cacheValid: state.cacheValid };
          port.postMessage(reply, [out.depth.buffer, out.canonical.buffer, out.confidence.buffer, out.parts.buffer, state.cache.buffer, state.cacheValid.buffer] as ArrayBuffer[]);
        },
        fail('error', req.id),
      );
    });
  },
  (e: Error) => {
    port.postMessage({ kind: 'failed', name: e.name, message: e.message } satisfies WorkerReply);
    port.close();
  },
);
