/** `facelive client`: stream a video, a folder of images or a generator sequence to a live server over WebRTC. */
import { resolve } from 'node:path';
import { NodeClient } from '../../client/node/nodeClient.js';
import { UsageError } from '../../shared/errors.js';
import { y4mFrame } from '../../shared/io/y4m.js';
import { openFrameSource } from '../offline/frameSource.js';
import { intFlag, parseFlags } from './args.js';
import { stopOnSignal, Progress } from './progress.js';

export const CLIENT_USAGE = `Usage: facelive client --server URL --input <video|folder|image> [--fps F] [--frames N] [--loopback] [--quiet]

Streams the input to a running "facelive serve" as a WebRTC peer (VP8 video, the same protocol as the browser
page), receives its results, and reports frames/s and latency (send to result) at the end.

  --server    the server's signaling URL, e.g. ws://127.0.0.1:8080/signal
  --input     a video ffmpeg can read, a folder of .png/.jpg images or one image
  --fps       sending rate, 1..60 (default 30)
  --frames    stop after N frames (default: the whole input)
  --loopback  ICE on 127.0.0.1 only (the server runs with --loopback on this machine)`;

export function parseClientArgs(argv: string[]) {
  const v = parseFlags('client', argv, { server: { type: 'string' }, input: { type: 'string' }, fps: { type: 'string' }, frames: { type: 'string' }, loopback: { type: 'boolean' }, quiet: { type: 'boolean' } });
  if (typeof v.server !== 'string' || !/^wss?:\/\/.+/.test(v.server)) throw new UsageError('client: --server ws://HOST:PORT/signal is required');
  if (typeof v.input !== 'string' || !v.input) throw new UsageError('client: --input is required (a video, a folder of images or an image)');
  return {
    server: v.server, input: resolve(v.input),
    fps: intFlag('client', v, 'fps', 30, 1, 60),
    frames: v.frames === undefined ? Infinity : intFlag('client', v, 'frames', 0, 1, 10_000_000),
    loopback: v.loopback === true, quiet: v.quiet === true,
  };
}

export async function clientCommand(argv: string[]): Promise<number> {
  const a = parseClientArgs(argv);
  const source = openFrameSource(a.input);
  // VP8 in I420 needs even sizes: an odd last row or column is left out
  const width = source.width & ~1, height = source.height & ~1;
  const client = await NodeClient.connect(a.server, { width, height, fps: a.fps, loopbackOnly: a.loopback });
  const progress = new Progress('client', process.stderr, a.quiet);
  const stop = stopOnSignal(progress);
  const sentAt = new Map<number, number>(), latency: number[] = [];
  let faces = 0, results = 0;
  client.on('result', (r) => {
    results++;
    if (r.face) faces++;
    const t = sentAt.get(r.frameId);
    if (t !== undefined) latency.push(performance.now() - t);
  });
  try {
    progress.start(source.frameCount === null ? null : Math.min(source.frameCount, a.frames));
    const start = performance.now();
    let n = 0;
    for await (const f of source.frames()) {
      if (n >= a.frames || stop.requested()) break;
      const rgb = f.pixels.format === 'rgb' ? f.pixels.data : null;
      if (!rgb) throw new UsageError('client: the source gave I420 frames; use a video or images');
      const cropped = width === f.pixels.width && height === f.pixels.height ? rgb : cropRgb(rgb, f.pixels.width, width, height);
      const timestamp = Math.round((n * 90000) / a.fps);
      sentAt.set(timestamp, performance.now());
      await client.sendFrame({ width, height, data: y4mFrame(cropped, width, height).subarray(6) }, timestamp);
      n++;
      progress.tick();
      await new Promise((r) => setTimeout(r, Math.max(0, start + (n * 1000) / a.fps - performance.now())));
    }
    await new Promise((r) => setTimeout(r, 1000));
    progress.finish();
    latency.sort((x, y) => x - y);
    const seconds = (performance.now() - start) / 1000;
    process.stdout.write(`sent ${n} frames (${(n / seconds).toFixed(1)}/s); ${results} results (${faces} with a face, ${(results / seconds).toFixed(1)}/s); ` +
      `latency send→result p50 ${latency[latency.length >> 1]?.toFixed(0) ?? '-'} ms, p95 ${latency[Math.floor(latency.length * 0.95)]?.toFixed(0) ?? '-'} ms; ` +
      `${(client.stream.bytesIn / 1e6).toFixed(2)} MB received\n`);
    return stop.requested() ? 130 : 0;
  } finally {
    stop.dispose();
    await client.close();
  }
}

function cropRgb(rgb: Uint8Array, srcWidth: number, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) out.set(rgb.subarray(y * srcWidth * 3, y * srcWidth * 3 + width * 3), y * width * 3);
  return out;
}
