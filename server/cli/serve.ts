/** `facelive serve`: the live server (see server/live/liveServer.ts). */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../../shared/errors.js';
import { LiveServer } from '../live/liveServer.js';
import { choiceFlag, intFlag, parseFlags, tokenFlag } from './args.js';
import { DEFAULT_MODEL_PATH, liveModelThreads, liveModelWorkers, MODEL_DEVICES } from '../engine/model/defaults.js';

export const SERVE_USAGE = `Usage: facelive serve [--host ADDR] [--port N] [--model FILE] [--max-sessions N] [--max-connections N]
                      [--model-workers N] [--model-threads N] [--device cpu|webgpu|cuda] [--loopback] [--token SECRET]
                      [--allow-origin URL,...]

Runs the live server: WebRTC peers signal over a WebSocket at ws://HOST:PORT/signal, send VP8 video, and get
results (points, landmarks, pose, blendshapes, mesh) and maps (depth, canonical, confidence, mask) back on
data channels. The browser page is served at http://HOST:PORT/; GET /health reports the sessions and the model
(name, version, device, its workers and what each has done).

  --host          address to listen on (default 127.0.0.1: this machine only; 0.0.0.0: every interface, then
                  set a token)
  --port          port (default 8080; 0 picks a free one)
  --model         ONNX model (default models/facestream-small.onnx)
  --max-sessions  sessions at once, 1..64 (default 4); a further client is told the server is busy
  --max-connections  open TCP connections at once, 8..65536 (default 256); beyond, new ones are closed; a connection
                  idle for 10 s before its request (or a signaling socket without an offer) is closed
  --model-workers  model workers, 1..16, shared by every session: each frame's step goes to the least busy one
                  (default: one per core this process may use, at most 8)
  --model-threads onnxruntime threads in each model worker, 1..16 (default 1: a second thread made a step only
                  11 % faster, a second worker runs another session's step beside it); --threads is its old name
  --device        where onnxruntime runs the face model: cpu (default), webgpu (needs a GPU with a Vulkan driver),
                  cuda (needs onnxruntime's CUDA provider libraries, not in its npm package, CUDA 12, cuDNN 9);
                  one it cannot open stops the server with the reason (the face detector stays on the CPU)
  --loopback      ICE on 127.0.0.1 only (a client on the same machine, tests)
  --token         a shared secret every session must present (16+ characters; better: the FACELIVE_TOKEN
                  environment variable, which other users cannot read from the process list); the page takes it
                  from its address: http://HOST:PORT/#token=SECRET
  --allow-origin  pages of other sites whose scripts may open sessions, e.g. https://app.example (the server's
                  own page always may; a browser page of any other origin is refused)`;

export function parseServeArgs(argv: string[]) {
  const v = parseFlags('serve', argv, { host: { type: 'string' }, port: { type: 'string' }, model: { type: 'string' }, 'max-sessions': { type: 'string' }, 'max-connections': { type: 'string' }, threads: { type: 'string' }, 'model-threads': { type: 'string' }, 'model-workers': { type: 'string' }, device: { type: 'string' }, loopback: { type: 'boolean' }, token: { type: 'string' }, 'allow-origin': { type: 'string' } });
  const model = resolve(typeof v.model === 'string' ? v.model : DEFAULT_MODEL_PATH);
  if (!existsSync(model)) throw new UsageError(`serve: --model: ${model} not found`);
  return {
    host: typeof v.host === 'string' ? v.host : '127.0.0.1',
    port: intFlag('serve', v, 'port', 8080, 0, 65535),
    model,
    maxSessions: intFlag('serve', v, 'max-sessions', 4, 1, 64),
    maxConnections: intFlag('serve', v, 'max-connections', 256, 8, 65536),
    threads: v['model-threads'] !== undefined ? intFlag('serve', v, 'model-threads', 1, 1, 16) : intFlag('serve', v, 'threads', liveModelThreads(), 1, 16),
    modelWorkers: intFlag('serve', v, 'model-workers', liveModelWorkers(), 1, 16),
    device: choiceFlag('serve', v, 'device', 'cpu', MODEL_DEVICES),
    loopbackOnly: v.loopback === true,
    token: tokenFlag('serve', v),
    allowedOrigins: typeof v['allow-origin'] === 'string' ? v['allow-origin'].split(',').map((x) => parseOrigin(x.trim())) : [],
  };
}

function parseOrigin(text: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new UsageError(`serve: --allow-origin: expected an origin such as https://app.example, got "${text}"`);
  }
  if (!/^https?:$/.test(u.protocol) || u.origin !== text.replace(/\/$/, '')) throw new UsageError(`serve: --allow-origin: expected an origin such as https://app.example (scheme, host, port; no path), got "${text}"`);
  return u.origin;
}

export async function serveCommand(argv: string[]): Promise<number> {
  const a = parseServeArgs(argv);
  const server = await LiveServer.start({ host: a.host, port: a.port, modelPath: a.model, maxSessions: a.maxSessions, maxConnections: a.maxConnections, loopbackOnly: a.loopbackOnly, token: a.token, allowedOrigins: a.allowedOrigins, threads: a.threads, modelWorkers: a.modelWorkers, device: a.device });
  // the camera needs a secure origin: http://localhost is one, http://<LAN address> is not (use https there)
  const pageUrl = server.url.replace(/\/\/(0\.0\.0\.0|127\.0\.0\.1|\[::\])(?=:)/, '//localhost') + '/';
  process.stdout.write(`facelive serve: open ${pageUrl} in Chromium or Firefox and allow the camera\n`);
  process.stdout.write(`facelive serve: signaling on ${server.signalUrl}, health on ${server.url}/health (Ctrl-C stops)\n`);
  if (a.token) process.stdout.write(`facelive serve: sessions need the token (the page: ${pageUrl}#token=…)\n`);
  else if (!/^(127\.|::1$|localhost$)/.test(a.host)) {
    process.stdout.write(`facelive serve: listening on ${a.host} with no token: anyone who can reach port ${a.port} can open a session (set FACELIVE_TOKEN)\n`);
  }
  if (!server.pageReady) process.stdout.write('facelive serve: the page is not built: run `npm run build`\n');
  await new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  process.stdout.write('facelive serve: stopping\n');
  await server.close();
  return 0;
}
