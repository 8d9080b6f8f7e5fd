/** `facelive client`: stream a video, a folder of images or one image to a live server over WebRTC. */
import { resolve } from 'node:path';
import type { PeerStack } from '../../client/node/clientPeer.js';
import { releaseNodeDataChannel } from '../../client/node/ndcPeer.js';
import { NodeClient } from '../../client/node/nodeClient.js';
import { ResultRecorder } from '../../client/node/resultRecorder.js';
import { InvalidStateError, UsageError } from '../../shared/errors.js';
import { connectWithRetry } from '../../client/sdk/retry.js';
import { DEFAULT_SESSION_OPTIONS, RECORDING_MAPS_STRIDE, SESSION_OPTION_LIMITS } from '../../shared/sessionOptions.js';
import { rgbToI420 } from '../../shared/io/y4m.js';
import type { I420Frame } from '../../node/media/vp8Codec.js';
import { openFrameSource } from '../offline/frameSource.js';
import { intFlag, numberFlag, parseFlags, tokenFlag } from './args.js';
import { stopOnSignal, Progress } from './progress.js';

export const CLIENT_USAGE = `Usage: facelive client --server URL --input <video|folder|image> [--out DIR] [--fps F] [--frames N]
                       [--fov DEG] [--maps-every N] [--maps-stride N] [--peer node-datachannel|werift] [--loopback]
                       [--token SECRET] [--relay-only] [--retries N] [--quiet]

Streams the input to a running "facelive serve" as a WebRTC peer (VP8 video, the same protocol as the browser
page), receives its results, and reports frames/s and latency (send to result) at the end.

  --server      the server's signaling URL, e.g. ws://127.0.0.1:8080/signal
  --input       a video ffmpeg can read, a folder of .png/.jpg images or one image
  --out         save the results here, in the formats of "facelive reconstruct" (depth.npy, canonical.npy,
                confidence.npy, mask.npy, tracks, landmarks, pose.json) plus crops.json and summary.json
  --fps         sending rate, 1..60, decimals allowed (29.97; default 30)
  --frames      stop after N frames (default: the whole input)
  --fov         horizontal field of view of the camera, degrees, 20..120 (default 60)
  --maps-every  maps with every N-th result, 0..1000 (default 1; 0: none)
  --maps-stride maps at 1/N of the model's resolution per side, 1..4 (default 1: full; live pages use 2)
  --peer        WebRTC stack: node-datachannel (default) or werift
  --loopback    ICE on 127.0.0.1 only (the server runs with --loopback on this machine)
  --token       the server's shared secret, if it has one (better: the FACELIVE_TOKEN environment variable,
                which other users of the machine cannot read from the process list)
  --relay-only  send everything through the TURN server the server hands out (ICE relay candidates only)
  --retries     a session lost midway (the server stopped or drains, the network broke) is opened again up to N
                times, 0..100, waiting 0.5 s, 1 s, 2 s... up to 8 s between tries (default 8); the stream goes on
                from the frame it had reached`;

const PEERS: readonly PeerStack[] = ['node-datachannel', 'werift'];

export function parseClientArgs(argv: string[]) {
  const v = parseFlags('client', argv, {
    server: { type: 'string' }, input: { type: 'string' }, out: { type: 'string' }, fps: { type: 'string' }, frames: { type: 'string' },
    fov: { type: 'string' }, 'maps-every': { type: 'string' }, 'maps-stride': { type: 'string' }, peer: { type: 'string' }, loopback: { type: 'boolean' }, quiet: { type: 'boolean' },
    token: { type: 'string' }, 'relay-only': { type: 'boolean' }, retries: { type: 'string' },
  });
  if (typeof v.server !== 'string' || !/^wss?:\/\/.+/.test(v.server)) throw new UsageError('client: --server ws://HOST:PORT/signal is required');
  if (typeof v.input !== 'string' || !v.input) throw new UsageError('client: --input is required (a video, a folder of images or an image)');
  if (v.out !== undefined && (typeof v.out !== 'string' || !v.out)) throw new UsageError('client: --out needs a folder');
  const peer = (v.peer ?? 'node-datachannel') as PeerStack;
  if (!PEERS.includes(peer)) throw new UsageError(`client: --peer: expected ${PEERS.join(' or ')}, got "${String(v.peer)}"`);
  return {
    server: v.server, input: resolve(v.input), out: typeof v.out === 'string' ? resolve(v.out) : null,
    fps: numberFlag('client', v, 'fps', 30, 1, 60),
    frames: v.frames === undefined ? Infinity : intFlag('client', v, 'frames', 0, 1, 10_000_000),
    fovDeg: numberFlag('client', v, 'fov', DEFAULT_SESSION_OPTIONS.fovDeg, ...SESSION_OPTION_LIMITS.fovDeg),
    mapsEvery: intFlag('client', v, 'maps-every', DEFAULT_SESSION_OPTIONS.mapsEvery, ...SESSION_OPTION_LIMITS.mapsEvery),
    mapsStride: intFlag('client', v, 'maps-stride', RECORDING_MAPS_STRIDE, ...SESSION_OPTION_LIMITS.mapsStride),
    peer, loopback: v.loopback === true, quiet: v.quiet === true,
    token: tokenFlag('client', v),
    relayOnly: v['relay-only'] === true,
    retries: intFlag('client', v, 'retries', 8, 0, 100),
  };
}

export async function clientCommand(argv: string[]): Promise<number> {
  const a = parseClientArgs(argv);
  // videos come from ffmpeg as I420 at even sizes, ready for the encoder; images are converted here
  const source = openFrameSource(a.input, { videoFormat: 'i420' });
  const width = source.width & ~1, height = source.height & ~1;
  const ticks = 90_000 / a.fps;
  const recorder = a.out ? new ResultRecorder(a.out, (frameId) => Math.round(frameId / ticks)) : null;
  const progress = new Progress('client', process.stderr, a.quiet);
  const stop = stopOnSignal(progress);
  const sentAt = new Map<number, number>(), latency: number[] = [];
  let faces = 0, results = 0, reconnects = 0, bytesEarlier = 0;
  const open = async (): Promise<NodeClient> => {
    const c = await NodeClient.connect(a.server, { width, height, fps: a.fps, loopbackOnly: a.loopback, peer: a.peer, token: a.token, relayOnly: a.relayOnly, session: { fovDeg: a.fovDeg, mapsEvery: a.out ? a.mapsEvery : 0, mapsStride: a.mapsStride } });
    if (recorder && c.hello) recorder.onHello(c.hello);
    c.on('hello', (h) => recorder?.onHello(h));
    c.on('result', (r) => {
      results++;
      if (r.face) faces++;
      const t = sentAt.get(r.frameId);
      const ms = t === undefined ? null : performance.now() - t;
      if (ms !== null) latency.push(ms);
      recorder?.onResult(r, ms);
    });
    c.on('maps', (m) => recorder?.onMaps(m));
    return c;
  };
  let client = await open();
  // a session lost midway (a replica stopped, drained or went away): open another and go on from this frame
  const reconnect = async (reason: string): Promise<void> => {
    bytesEarlier += client.stream.bytesIn;
    client = await connectWithRetry(open, { tries: a.retries }, reason, (n) => {
      process.stderr.write(`client: session lost (${n.reason}); connecting again in ${(n.delayMs / 1000).toFixed(1)} s (try ${n.attempt} of ${n.tries})\n`);
    }, () => stop.requested());
    reconnects++;
    process.stderr.write(`client: connected again (session ${client.sessionId})\n`);
  };
  let lost: string | null = null;
  const watch = (c: NodeClient) => c.once('close', (why) => c === client && !stop.requested() && (lost = why));
  watch(client);
  try {
    progress.start(source.frameCount === null ? null : Math.min(source.frameCount, a.frames));
    let start = performance.now();
    let n = 0;
    for await (const f of source.frames()) {
      if (n >= a.frames || stop.requested()) break;
      const timestamp = Math.round(n * ticks);
      if (lost !== null) {
        if (a.retries === 0) throw new InvalidStateError(`client: the session ended: ${lost} (--retries 0)`);
        const why: string = lost;
        lost = null;
        const away = performance.now();
        await reconnect(why);
        watch(client);
        // the pace goes on from here: the frames due while away are not sent in a burst to the new session
        start += performance.now() - away;
      }
      sentAt.set(timestamp, performance.now());
      await client.sendFrame(toI420(f.pixels, width, height), timestamp).catch((e) => {
        // the session closed between the check above and this frame: the next frame reconnects
        if (!client.isClosed) throw e;
      });
      n++;
      progress.tick();
      await new Promise((r) => setTimeout(r, Math.max(0, start + (n * 1000) / a.fps - performance.now())));
    }
    const seconds = (performance.now() - start) / 1000;
    // results of the last frames are still on their way
    await new Promise((r) => setTimeout(r, 1000));
    progress.finish();
    latency.sort((x, y) => x - y);
    const summary = {
      frames_sent: n, fps_sent: n / seconds, results, faces, results_per_s: Math.min(results, n) / seconds,
      latency_ms: { p50: latency[latency.length >> 1] ?? null, p95: latency[Math.floor(latency.length * 0.95)] ?? null },
      bytes_received: bytesEarlier + client.stream.bytesIn, peer: a.peer, reconnects,
    };
    process.stdout.write(`sent ${n} frames (${summary.fps_sent.toFixed(1)}/s); ${results} results (${faces} with a face, ${summary.results_per_s.toFixed(1)}/s); ` +
      `latency send→result p50 ${summary.latency_ms.p50?.toFixed(0) ?? '-'} ms, p95 ${summary.latency_ms.p95?.toFixed(0) ?? '-'} ms; ` +
      `${((bytesEarlier + client.stream.bytesIn) / 1e6).toFixed(2)} MB received${reconnects ? `; ${reconnects} reconnects` : ''}\n`);
    if (recorder) {
      const w = recorder.write(summary);
      process.stdout.write(`saved ${w.results} results (${w.withMaps} with maps) to ${a.out}\n`);
    }
    return stop.requested() ? 130 : 0;
  } finally {
    stop.dispose();
    await client.close();
    if (a.peer === 'node-datachannel') releaseNodeDataChannel();
  }
}

/** The encoder's input: I420 at the even size, from I420 (ffmpeg) or RGB (images). */
function toI420(p: { format: 'rgb' | 'i420'; width: number; height: number; data: Uint8Array }, width: number, height: number): I420Frame {
  if (p.format === 'i420' && p.width === width && p.height === height) return { width, height, data: p.data };
  if (p.format === 'i420') throw new UsageError(`client: a frame of ${p.width}x${p.height} in a ${width}x${height} stream`);
  const rgb = p.width === width && p.height === height ? p.data : cropRgb(p.data, p.width, width, height);
  return { width, height, data: rgbToI420(rgb, width, height) };
}

function cropRgb(rgb: Uint8Array, srcWidth: number, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) out.set(rgb.subarray(y * srcWidth * 3, y * srcWidth * 3 + width * 3), y * width * 3);
  return out;
}
