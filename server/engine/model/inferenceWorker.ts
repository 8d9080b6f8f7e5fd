/**
 * worker_threads entry: owns one FaceModel and the face detector, and runs them off the main thread
 * (onnxruntime's run blocks the event loop; the live server's WebRTC stack must keep running). Messages are
 * typed in inferenceMessages.ts. Each reply says how long its run took and how much CPU this thread spent on it.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { DetectorModel } from './detectorModel.js';
import { FaceModel } from './faceModel.js';
import type { RunCost, WorkerReply, WorkerRequest, WorkerSetup } from './inferenceMessages.js';

const port = parentPort;
if (!port) throw new Error('inferenceWorker.ts must run in a worker thread');

const { modelPath, detectorPath, threads, device } = workerData as WorkerSetup;

/** This thread's CPU time in ms (Linux: /proc/thread-self/schedstat, nanoseconds on a CPU); null elsewhere. */
function threadCpuMs(): number | null {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]) / 1e6;
  } catch {
    return null;
  }
}

/** This thread's Linux id ("PID/task/TID"), null elsewhere. */
function threadId(): number | null {
  try {
    const m = /task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Runs `work`, and says what it cost. */
async function measured<T>(work: () => Promise<T>): Promise<[T, RunCost]> {
  const t0 = performance.now(), c0 = threadCpuMs();
  const out = await work();
  const c1 = threadCpuMs();
  return [out, { runMs: performance.now() - t0, cpuMs: c0 === null || c1 === null ? null : c1 - c0 }];
}

// both load, or neither stays: a half-loaded worker torn down by the process's exit aborts inside onnxruntime
async function loadBoth(): Promise<[FaceModel, DetectorModel]> {
  const [m, d] = await Promise.allSettled([FaceModel.load(modelPath, { threads, device }), DetectorModel.load(detectorPath)]);
  if (m.status === 'fulfilled' && d.status === 'fulfilled') return [m.value, d.value];
  await Promise.allSettled([m.status === 'fulfilled' ? m.value.close() : null, d.status === 'fulfilled' ? d.value.close() : null]);
  throw m.status === 'rejected' ? m.reason : (d as PromiseRejectedResult).reason;
}

loadBoth().then(
  ([model, detector]) => {
    port.postMessage({ kind: 'ready', contract: model.contract, threadId: threadId() } satisfies WorkerReply);
    const fail = (kind: 'error' | 'detectError', id: number) => (e: Error) => port.postMessage({ kind, id, name: e.name, message: e.message } satisfies WorkerReply);
    const handle = async (req: WorkerRequest): Promise<void> => {
      if (req.kind === 'crash') return;
      if (req.kind === 'close') {
        await Promise.allSettled([model.close(), detector.close()]);
        port.close();
        return;
      }
      if (req.kind === 'detect') {
        await measured(() => detector.run(req.image)).then(([out, cost]) => {
          const reply: WorkerReply = { kind: 'detected', id: req.id, ...out, ...cost };
          port.postMessage(reply, [out.scores.buffer, out.regressors.buffer] as ArrayBuffer[]);
        }, fail('detectError', req.id));
        return;
      }
      const state = { cache: req.cache, cacheValid: req.cacheValid };
      await measured(() => model.step(req.image, req.focalPx, state, req.expressionImage)).then(
        ([out, cost]) => {
          const reply: WorkerReply = { kind: 'result', id: req.id, ...out, ...cost, cache: state.cache, cacheValid: state.cacheValid };
          port.postMessage(reply, [out.depth.buffer, out.canonical.buffer, out.confidence.buffer, out.parts.buffer, state.cache.buffer, state.cacheValid.buffer] as ArrayBuffer[]);
        },
        fail('error', req.id),
      );
    };
    // one request at a time, in order: a run's measured time is its own, not also the one queued before it
    // (onnxruntime-node defers each run by a setImmediate), and `close` comes after what was sent before it
    let queue = Promise.resolve();
    port.on('message', (req: WorkerRequest) => {
      if (req.kind === 'crash') {
        // not worker.terminate(): ending the thread inside onnxruntime's run aborts the whole process
        setImmediate(() => {
          throw new Error('crash requested');
        });
        return;
      }
      queue = queue.then(() => handle(req)).catch((e: Error) => console.error(`inference worker: ${e.message}`));
    });
  },
  (e: Error) => {
    port.postMessage({ kind: 'failed', name: e.name, message: e.message } satisfies WorkerReply);
    port.close();
  },
);
