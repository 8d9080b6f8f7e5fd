/**
 * Where a live server's CPU went over a stretch of a bench run (Linux): every thread's CPU time from
 * /proc/PID/task/TID/schedstat, the main thread (TID = PID: WebRTC, the engine's own work, sending) and the model
 * workers (their thread ids and step counts from /health) apart from the rest (the VP8 decoders' workers,
 * onnxruntime's extra threads when a worker has more than one, V8's and libuv's helpers); and this bench
 * process's own CPU (the clients), which shares the machine.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { ModelPoolStats } from '../server/engine/model/modelWorkerPool.js';

export interface CpuSnapshot {
  readonly at: number;
  readonly pid: number;
  /** thread id → CPU ms */
  readonly threads: Map<number, number>;
  readonly inference: ModelPoolStats;
  readonly sessionTotals: Record<string, number>;
  readonly bench: NodeJS.CpuUsage;
  /** the whole machine's busy CPU ms (/proc/stat): what else ran beside the server and the bench */
  readonly machine: number;
  /** UDP datagrams the kernel dropped for a full receive buffer, machine-wide (/proc/net/snmp RcvbufErrors) */
  readonly udpRcvbufErrors: number;
}

function udpRcvbufErrors(): number {
  const lines = readFileSync('/proc/net/snmp', 'latin1').split('\n').filter((l) => l.startsWith('Udp:'));
  const names = lines[0].split(/\s+/), values = lines[1].split(/\s+/);
  return Number(values[names.indexOf('RcvbufErrors')]);
}

/** Busy CPU time of the whole machine, ms (every core's user, nice, system, irq, softirq, steal). */
function machineBusy(): number {
  const f = readFileSync('/proc/stat', 'latin1').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  return ((user + nice + system + irq + softirq + steal) * 1000) / 100;
}

function threadCpu(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.set(Number(tid), Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ')[0]) / 1e6);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

export async function cpuSnapshot(pid: number, httpUrl: string): Promise<CpuSnapshot> {
  const health = (await (await fetch(`${httpUrl}/health`)).json()) as { inference: ModelPoolStats; sessionTotals: Record<string, number> };
  return { at: performance.now(), pid, threads: threadCpu(pid), inference: health.inference, sessionTotals: health.sessionTotals, bench: process.cpuUsage(), machine: machineBusy(), udpRcvbufErrors: udpRcvbufErrors() };
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const r2 = (x: number) => Math.round(x * 100) / 100;

export function cpuAccount(a: CpuSnapshot, b: CpuSnapshot) {
  const seconds = (b.at - a.at) / 1000;
  const delta = new Map<number, number>();
  for (const [tid, ms] of b.threads) delta.set(tid, ms - (a.threads.get(tid) ?? 0));
  const total = [...delta.values()].reduce((x, y) => x + y, 0);
  const main = delta.get(b.pid) ?? 0;
  const modelTids = new Set(b.inference.perWorker.map((w) => w?.threadId).filter((t): t is number => typeof t === 'number'));
  const model = [...modelTids].reduce((x, t) => x + (delta.get(t) ?? 0), 0);
  const rest = total - main - model;
  const ta = a.inference.total, tb = b.inference.total;
  const steps = tb.steps - ta.steps, detections = tb.detections - ta.detections;
  const decoded = (b.sessionTotals.framesDecoded ?? 0) - (a.sessionTotals.framesDecoded ?? 0);
  const processed = (b.sessionTotals.framesProcessed ?? 0) - (a.sessionTotals.framesProcessed ?? 0);
  const benchUsage = process.cpuUsage(a.bench);
  const perCore = (ms: number) => r2(ms / 1000 / seconds);
  const benchMs = (benchUsage.user + benchUsage.system) / 1000;
  return {
    seconds: r1(seconds),
    /** cores kept busy on average: the server's threads by kind, the bench's clients, and anything else running (a
     *  row with restOfMachine well above 0.05 shared the machine with something else: rerun it) */
    coresBusy: { server: perCore(total), mainThread: perCore(main), modelWorkers: perCore(model), otherThreads: perCore(rest), benchClients: perCore(benchMs), restOfMachine: perCore(Math.max(0, b.machine - a.machine - total - benchMs)) },
    steps, detections, framesDecoded: decoded, framesProcessed: processed,
    /** a step's wall time in its worker, and that worker thread's CPU time in it (less: the thread waited for a core) */
    msPerStep: { wall: r1((tb.stepMs - ta.stepMs) / Math.max(1, steps)), cpu: r1((tb.stepCpuMs - ta.stepCpuMs) / Math.max(1, steps)) },
    msPerDetection: { wall: r1((tb.detectMs - ta.detectMs) / Math.max(1, detections)), cpu: r1((tb.detectCpuMs - ta.detectCpuMs) / Math.max(1, detections)) },
    /** the main thread's CPU per frame run by the engine (its own stages, WebRTC, sending the results) */
    mainThreadMsPerFrameProcessed: r1(main / Math.max(1, processed)),
    /** the other threads' CPU per frame decoded (mostly the VP8 decoders) */
    otherThreadsMsPerFrameDecoded: r1(rest / Math.max(1, decoded)),
    /** what the live path dropped: decoded frames replaced in the newest-frame slot while the engine was busy (the
     *  intended drop), frames skipped for a decoder backlog or while waiting for a keyframe (after a loss),
     *  keyframe requests, and the datagrams the kernel dropped */
    dropped: {
      ...Object.fromEntries(['slot.replaced', 'gate.decodeBacklog', 'gate.awaitingKeyframe', 'keyframeRequests'].map((k) => [k, (b.sessionTotals[k] ?? 0) - (a.sessionTotals[k] ?? 0)])),
      /** RTP packets the kernel dropped before the server read them (its receive buffers were full) */
      udpReceiveBufferFull: b.udpRcvbufErrors - a.udpRcvbufErrors,
    },
    /** the model workers' time running steps and detections, over their wall time */
    modelWorkerBusy: r2((tb.stepMs - ta.stepMs + tb.detectMs - ta.detectMs) / (seconds * 1000 * Math.max(1, b.inference.workers))),
  };
}
