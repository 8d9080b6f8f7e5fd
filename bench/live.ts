/**
 * The live path over loopback: a `facelive serve --loopback` child process, and 1 or more Node clients (real
 * WebRTC peers in this process) each streaming the same 640x480 synthetic face video at 30 frames/s.
 *   latency     send of a frame → its result arriving (p50, p95): the Node analogue of glass-to-glass
 *   throughput  results per second per stream, frames dropped by the server (newest wins)
 *   downlink    bytes per result and Mbit/s on both data channels, maps every frame and every 4th
 *
 *   npm run bench -- live [--streams 1,4] [--frames 150] [--maps-every 1]
 * The clients' VP8 encoding shares the machine with the server: on 2 cores that costs the server time too.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { NodeClient } from '../client/node/nodeClient.js';
import { intFlag, parseFlags } from '../server/cli/args.js';
import { loadHeadAssets } from '../server/synth/headAssets.js';
import { planSequence, SequenceRenderer } from '../server/synth/sequence.js';
import { projectRoot } from '../shared/projectRoot.js';
import { saveBenchResult } from './benchResult.js';
import { percentile, widescreenI420 } from './engineAccuracy.js';

export async function benchLive(argv: string[]): Promise<void> {
  const v = parseFlags('bench live', argv, { streams: { type: 'string' }, frames: { type: 'string' }, 'maps-every': { type: 'string' } });
  const streamCounts = String(v.streams ?? '1,4').split(',').map(Number);
  const frames = intFlag('bench live', v, 'frames', 150, 10, 10000);
  const mapsEvery = intFlag('bench live', v, 'maps-every', 1, 0, 100);
  const assets = loadHeadAssets();
  const plan = planSequence({ seed: 77, split: 'test', index: 1, frames: Math.min(frames, 90), size: 480, fps: 30 });
  const renderer = new SequenceRenderer(plan, assets);
  const video = Array.from({ length: plan.spec.frames }, (_, f) => widescreenI420(renderer.render(f), plan.intrinsics).pixels);
  const server = spawn(process.execPath, [join(projectRoot(), 'build', 'server', 'cli', 'main.js'), 'serve', '--loopback', '--host', '127.0.0.1', '--port', '0', '--max-sessions', '8'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    server.stdout.on('data', (d: Buffer) => {
      const m = /signaling on (ws:\/\/[^\s,]+)/.exec(d.toString());
      if (m) resolve(m[1]);
    });
    server.once('exit', (code) => reject(new Error(`facelive serve exited (${code})`)));
  });
  const report: Record<string, unknown> = {};
  try {
    for (const n of streamCounts) {
      const clients = await Promise.all(Array.from({ length: n }, () => NodeClient.connect(url, { width: 640, height: 480, fps: 30, loopbackOnly: true, session: { mapsEvery } })));
      const latency: number[] = [];
      const perStream = clients.map(() => ({ results: 0, faces: 0 }));
      let dropped = 0;
      const sentAt = clients.map(() => new Map<number, number>());
      clients.forEach((c, i) => {
        c.on('result', (r) => {
          perStream[i].results++;
          if (r.face) perStream[i].faces++;
          const t = sentAt[i].get(r.frameId);
          if (t !== undefined) latency.push(performance.now() - t);
        });
        c.on('stats', (s) => (dropped = Math.max(dropped, s.framesDropped)));
      });
      const bytesBefore = clients.map((c) => c.stream.bytesIn);
      const start = performance.now();
      for (let f = 0; f < frames; f++) {
        await Promise.all(clients.map((c, i) => {
          sentAt[i].set(f * 3000, performance.now());
          return c.sendFrame(video[f % video.length], f * 3000);
        }));
        await new Promise((r) => setTimeout(r, Math.max(0, start + ((f + 1) * 1000) / 30 - performance.now())));
      }
      await new Promise((r) => setTimeout(r, 1500));
      const seconds = (performance.now() - start) / 1000;
      const results = perStream.reduce((a, s) => a + s.results, 0);
      const bytes = clients.reduce((a, c, i) => a + c.stream.bytesIn - bytesBefore[i], 0);
      await Promise.all(clients.map((c) => c.close()));
      const row = {
        streams: n, framesSentPerStream: frames, sendFps: 30,
        resultsPerSecondPerStream: Math.round((results / n / seconds) * 10) / 10,
        latencyMs: { p50: Math.round(percentile(latency, 50)), p95: Math.round(percentile(latency, 95)) },
        bytesPerResult: Math.round(bytes / Math.max(1, results)),
        downlinkMbitPerStream: Math.round(((bytes * 8) / seconds / n / 1e6) * 100) / 100,
        serverDroppedFramesMax: dropped,
      };
      report[`streams${n}`] = row;
      console.log(JSON.stringify(row));
    }
  } finally {
    server.kill('SIGINT');
  }
  const name = mapsEvery === 1 ? 'live' : `live-maps-every-${mapsEvery}`;
  console.log(`saved ${saveBenchResult(name, { streams: streamCounts, frames, mapsEvery }, report)}`);
}
