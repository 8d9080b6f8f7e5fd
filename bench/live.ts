/**
 * The live path over loopback: a `facelive serve --loopback` child process, and either
 *   - 1 or more Node clients (real WebRTC peers in this process) each streaming the same 640x480 synthetic face
 *     video at 30 frames/s: latency is a frame's send → its result arriving, or
 *   - (--browser) one headless Chromium page whose fake camera plays that video: latency is capture → drawn
 *     (glass-to-glass without the camera's and the display's own delay), from the page's panel numbers.
 * Reported: results per second per stream, latency p50/p95, downlink bytes per result and Mbit/s, frames the
 * server dropped (newest wins), and the server's time per stage (median over the results).
 *
 *   npm run bench -- live [--streams 1,4] [--frames 150] [--maps-every 1] [--maps-stride 2] [--replay] [--peer node-datachannel|werift] [--threads N]
 *   npm run bench -- live --replay --streams 1,2,4,8 --frames 240 --configs 1x1,1x2,2x1
 *   npm run bench -- live --browser [--seconds 20]
 * --configs WxT,...: one server per configuration of W model workers with T threads each, side by side in one run
 * (for each stream count every configuration in turn, so the machine's drift falls on all alike); each row adds
 * where the CPU went (liveCpu.ts) and the latency by quarter of the run (a queue that grows shows as rising
 * quarters). Results in bench/results/live-scaling.json (live-scaling-1core.json under `taskset -c 0`).
 * Clients and server share the machine: on 2 cores the clients' VP8 encoding (or Chromium) costs the server time.
 * --replay takes the encoder out: the video is VP8-coded once before timing and each client replays it (from its
 * keyframe again when the server asks for one), which is what the server sees when its clients are elsewhere.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerStack } from '../client/node/clientPeer.js';
import { NodeClient } from '../client/node/nodeClient.js';
import { Vp8Encoder } from '../node/media/vp8Codec.js';
import { intFlag, parseFlags } from '../server/cli/args.js';
import { UsageError } from '../shared/errors.js';
import { loadHeadAssets } from '../synth/headAssets.js';
import { planSequence, SequenceRenderer } from '../synth/sequence.js';
import { y4mFile } from '../shared/io/y4m.js';
import { DEFAULT_SESSION_OPTIONS } from '../shared/signaling.js';
import { startServeProcess } from './serveProcess.js';
import { saveBenchResult } from './benchResult.js';
import { launchChromium, readPageState, type PageState } from './browsers.js';
import { median, percentile, widescreenI420 } from './engineAccuracy.js';
import { availableParallelism, cpus } from 'node:os';
import { cpuAccount, cpuSnapshot, type CpuSnapshot } from './liveCpu.js';

export async function benchLive(argv: string[]): Promise<void> {
  const v = parseFlags('bench live', argv, { streams: { type: 'string' }, frames: { type: 'string' }, 'maps-every': { type: 'string' }, 'maps-stride': { type: 'string' }, peer: { type: 'string' }, browser: { type: 'boolean' }, replay: { type: 'boolean' }, seconds: { type: 'string' }, threads: { type: 'string' }, configs: { type: 'string' } });
  if (v.configs !== undefined) return benchScaling(v);
  const streamCounts = String(v.streams ?? '1,4').split(',').map(Number);
  const frames = intFlag('bench live', v, 'frames', 150, 10, 10000);
  const mapsEvery = intFlag('bench live', v, 'maps-every', 1, 0, 100);
  const mapsStride = intFlag('bench live', v, 'maps-stride', DEFAULT_SESSION_OPTIONS.mapsStride, 1, 4);
  const peer = String(v.peer ?? 'node-datachannel') as PeerStack;
  const assets = loadHeadAssets();
  const plan = planSequence({ seed: 77, split: 'test', index: 1, frames: Math.min(frames, 90), size: 480, fps: 30 });
  const renderer = new SequenceRenderer(plan, assets);
  const video = Array.from({ length: plan.spec.frames }, (_, f) => widescreenI420(renderer.render(f), plan.intrinsics).pixels);
  const threads = v.threads === undefined ? null : intFlag('bench live', v, 'threads', 1, 1, 16);
  const { child: server, signalUrl: url } = await startServeProcess(['--max-sessions', '8', ...(threads === null ? [] : ['--threads', String(threads)])]);
  const report: Record<string, unknown> = {};
  try {
    if (v.browser) {
      const seconds = intFlag('bench live', v, 'seconds', 20, 5, 600);
      report.browser = await browserRun(url, video, seconds);
    } else {
      const replay = v.replay ? await encodeOnce(video) : null;
      for (const n of streamCounts) report[`streams${n}`] = await nodeRun(url, video, replay, n, frames, { mapsEvery, mapsStride }, peer);
    }
  } finally {
    server.kill('SIGINT');
  }
  const name = v.browser ? 'live-browser' : ['live', v.replay ? 'replay' : '', mapsEvery !== 1 ? `maps-every-${mapsEvery}` : '', mapsStride !== DEFAULT_SESSION_OPTIONS.mapsStride ? `maps-stride-${mapsStride}` : ''].filter(Boolean).join('-');
  console.log(`saved ${saveBenchResult(name, { streams: streamCounts, frames, mapsEvery, mapsStride, peer, replay: v.replay === true, browser: v.browser === true, threads }, report)}`);
}

/**
 * One server per configuration (W model workers x T threads), all started first and idle while another is
 * measured; for each stream count every configuration in turn.
 */
async function benchScaling(v: Record<string, string | boolean | undefined>): Promise<void> {
  const streamCounts = String(v.streams ?? '1,4,8').split(',').map(Number);
  const frames = intFlag('bench live', v, 'frames', 300, 10, 10000);
  const configs = String(v.configs).split(',').map((c) => {
    const m = /^(\d+)x(\d+)$/.exec(c.trim());
    if (!m) throw new UsageError(`bench live: --configs: expected WORKERSxTHREADS,... (1x1,2x1), got "${c}"`);
    return { workers: Number(m[1]), threads: Number(m[2]) };
  });
  const peer = String(v.peer ?? 'node-datachannel') as PeerStack;
  const assets = loadHeadAssets();
  const plan = planSequence({ seed: 77, split: 'test', index: 1, frames: 90, size: 480, fps: 30 });
  const renderer = new SequenceRenderer(plan, assets);
  const video = Array.from({ length: plan.spec.frames }, (_, f) => widescreenI420(renderer.render(f), plan.intrinsics).pixels);
  const replay = await encodeOnce(video);
  const servers = [];
  for (const c of configs) servers.push({ ...c, ...(await startServeProcess(['--max-sessions', '8', '--model-workers', String(c.workers), '--model-threads', String(c.threads)])) });
  const rows: Record<string, unknown>[] = [];
  try {
    for (const n of streamCounts) {
      for (const s of servers) {
        console.log(`${n} streams, ${s.workers} model workers x ${s.threads} threads`);
        const row = await nodeRun(s.signalUrl, video, replay, n, frames, { mapsEvery: 1, mapsStride: DEFAULT_SESSION_OPTIONS.mapsStride }, peer, { pid: s.child.pid!, httpUrl: s.httpUrl });
        rows.push({ modelWorkers: s.workers, modelThreads: s.threads, ...row });
      }
    }
  } finally {
    for (const s of servers) s.child.kill('SIGINT');
  }
  const cores = availableParallelism();
  const name = cores < cpus().length ? `live-scaling-${cores}core` : 'live-scaling';
  console.log(`saved ${saveBenchResult(name, { streams: streamCounts, frames, configs: String(v.configs), peer, replay: true, coresUsable: cores }, rows)}`);
}

/** Median of each server stage over the results (ms). */
function stageMedians(timings: Record<string, number>[]): Record<string, number> {
  const keys = [...new Set(timings.flatMap((t) => Object.keys(t)))];
  return Object.fromEntries(keys.map((k) => [k, Math.round(median(timings.map((t) => t[k]).filter((x) => x !== undefined)) * 10) / 10]));
}

/** The bench video VP8-coded once, keyframe first and no other (replayed from the start on a keyframe request). */
async function encodeOnce(video: { width: number; height: number; data: Uint8Array }[]): Promise<Uint8Array[]> {
  const encoder = await Vp8Encoder.create({ width: 640, height: 480, fps: 30, bitrate: 1_500_000, keyframeInterval: 100_000 });
  try {
    const out: Uint8Array[] = [];
    for (const f of video) {
      const packets = await encoder.encode(f);
      if (packets.length !== 1) throw new Error(`the encoder gave ${packets.length} packets for one frame`);
      out.push(packets[0].data);
    }
    return out;
  } finally {
    await encoder.close();
  }
}

/** The server under test, for where its CPU went: its process id and its /health. */
interface ServerProbe {
  readonly pid: number;
  readonly httpUrl: string;
}

async function nodeRun(url: string, video: { width: number; height: number; data: Uint8Array }[], replay: Uint8Array[] | null, n: number, frames: number, session: { mapsEvery: number; mapsStride: number }, peer: PeerStack, probe?: ServerProbe) {
  const clients = await Promise.all(Array.from({ length: n }, () => NodeClient.connect(url, { width: 640, height: 480, fps: 30, loopbackOnly: true, peer, session })));
  const latency: number[] = [], timings: Record<string, number>[] = [];
  // the second half on its own: a queue that grows shows as a later half slower than the whole; start-up
  // costs (first keyframe, the identity fit) fall in the first half
  const lateFrom = Math.floor(frames / 2) * 3000, late: number[] = [];
  // latency by quarter of the frames sent: a queue that grows shows as rising quarters
  const quarters: number[][] = [[], [], [], []];
  const perStream = clients.map(() => ({ results: 0, faces: 0 }));
  let dropped = 0;
  const sentAt = clients.map(() => new Map<number, number>());
  // a replay restarts at its keyframe when the server asks for one
  const replayAt = clients.map(() => 0);
  clients.forEach((c, i) => {
    c.on('keyframeRequest', () => (replayAt[i] = 0));
    c.on('result', (r) => {
      perStream[i].results++;
      if (r.face) {
        perStream[i].faces++;
        timings.push({ ...r.timings });
      }
      const t = sentAt[i].get(r.frameId);
      if (t !== undefined) latency.push(performance.now() - t);
      if (t !== undefined && r.frameId >= lateFrom) late.push(performance.now() - t);
      if (t !== undefined) quarters[Math.min(3, Math.floor((r.frameId / 3000 / frames) * 4))].push(performance.now() - t);
    });
    c.on('stats', (s) => (dropped = Math.max(dropped, s.framesDropped)));
  });
  const bytesBefore = clients.map((c) => c.stream.bytesIn);
  const cpuBefore: CpuSnapshot | null = probe ? await cpuSnapshot(probe.pid, probe.httpUrl) : null;
  const start = performance.now();
  for (let f = 0; f < frames; f++) {
    await Promise.all(clients.map((c, i) => {
      sentAt[i].set(f * 3000, performance.now());
      if (!replay) return c.sendFrame(video[f % video.length], f * 3000);
      c.sendEncoded(replay[replayAt[i]], f * 3000);
      replayAt[i] = (replayAt[i] + 1) % replay.length;
      return undefined;
    }));
    await new Promise((r) => setTimeout(r, Math.max(0, start + ((f + 1) * 1000) / 30 - performance.now())));
  }
  const seconds = (performance.now() - start) / 1000;
  const cpuAfter: CpuSnapshot | null = probe ? await cpuSnapshot(probe.pid, probe.httpUrl) : null;
  await new Promise((r) => setTimeout(r, 1500));
  const results = perStream.reduce((a, s) => a + s.results, 0);
  const bytes = clients.reduce((a, c, i) => a + c.stream.bytesIn - bytesBefore[i], 0);
  await Promise.all(clients.map((c) => c.close()));
  const row = {
    streams: n, peer, replay: replay !== null, framesSentPerStream: frames, sendFps: 30,
    resultsPerSecondPerStream: Math.round((results / n / seconds) * 10) / 10,
    latencyMs: { p50: Math.round(percentile(latency, 50)), p95: Math.round(percentile(latency, 95)) },
    secondHalf: { resultsPerSecondPerStream: Math.round((late.length / n / (seconds / 2)) * 10) / 10, latencyMs: { p50: Math.round(percentile(late, 50)), p95: Math.round(percentile(late, 95)) } },
    bytesPerResult: Math.round(bytes / Math.max(1, results)),
    downlinkMbitPerStream: Math.round(((bytes * 8) / seconds / n / 1e6) * 100) / 100,
    serverDroppedFramesMax: dropped,
    serverStageMsMedian: stageMedians(timings),
    latencyP50ByQuarterMs: quarters.map((q) => Math.round(percentile(q, 50))),
    resultsPerSecondPerStreamMinMax: [Math.min(...perStream.map((s) => s.results)), Math.max(...perStream.map((s) => s.results))].map((x) => Math.round((x / seconds) * 10) / 10),
    ...(cpuBefore && cpuAfter ? { cpu: cpuAccount(cpuBefore, cpuAfter) } : {}),
  };
  console.log(JSON.stringify(row));
  return row;
}

async function browserRun(signalUrl: string, video: { width: number; height: number; data: Uint8Array }[], seconds: number) {
  const dir = mkdtempSync(join(tmpdir(), 'facelive-bench-'));
  try {
    const camera = join(dir, 'camera.y4m');
    writeFileSync(camera, y4mFile(640, 480, 30, video.map((p) => p.data)));
    const browser = await launchChromium(dir, camera);
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1280, height: 720 });
      await page.goto(signalUrl.replace(/^ws/, 'http').replace(/\/signal$/, '/?autostart=1&width=640&height=480&fps=30'));
      await new Promise((r) => setTimeout(r, 3000)); // connect and warm up
      const read = () => readPageState(page);
      const seen = new Map<number, PageState['results'][number]>();
      let s = await read();
      const before = new Set(s.results.map((r) => r.frameId)); // from the warm-up
      const end = Date.now() + seconds * 1000;
      while (Date.now() < end) {
        await new Promise((r) => setTimeout(r, 2000));
        s = await read();
        for (const r of s.results) if (!before.has(r.frameId) && (r.drawnLatencyMs !== null || !seen.has(r.frameId))) seen.set(r.frameId, r);
      }
      const all = [...seen.values()], drawn = all.map((r) => r.drawnLatencyMs).filter((x): x is number => x !== null);
      const row = {
        state: s.state, results: all.length, resultsPerSecond: Math.round((all.length / seconds) * 10) / 10,
        captureToDrawnMs: { p50: Math.round(percentile(drawn, 50)), p95: Math.round(percentile(drawn, 95)), n: drawn.length },
        panel: s.panel,
        serverStageMsMedian: stageMedians(all.filter((r) => r.timings).map((r) => r.timings!)),
      };
      console.log(JSON.stringify(row));
      return row;
    } finally {
      await browser.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
