/** `facelive serve`: the live server (see server/live/liveServer.ts). */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../../shared/errors.js';
import { LiveServer } from '../live/liveServer.js';
import { choiceFlag, intFlag, parseFlags, tokenFlag, withEnvironment, type FlagSpec } from './args.js';
import { DEFAULT_MODEL_PATH, liveModelThreads, liveModelWorkers, MODEL_DEVICES } from '../engine/model/defaults.js';

export const SERVE_USAGE = `Usage: facelive serve [--host ADDR] [--port N] [--model FILE] [--max-sessions N] [--max-connections N]
                      [--model-workers N] [--model-threads N] [--device cpu|webgpu|cuda] [--loopback] [--token SECRET]
                      [--allow-origin URL,...]
                      [--turn-url URL,...] [--turn-ttl S] [--replica NAME] [--drain-seconds S] [--behind-proxy]

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
                  (default: one per core this process may use but one, 1 to 8: the main thread and the VP8
                  decoders need that core)
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
                  own page always may; a browser page of any other origin is refused)
  --turn-url      TURN servers handed to clients, e.g. turn:turn.example.com:3478?transport=udp,turns:turn.example.com:5349
                  ?transport=tcp, with credentials valid for --turn-ttl seconds (default 3600) made from the secret
                  shared with coturn (use-auth-secret), which only the FACELIVE_TURN_SECRET environment variable gives
  --behind-proxy  every connection comes from a proxy (deploy/haproxy.cfg), which limits connections per client
                  itself: the limit of 32 per address is not applied here (it would count all clients as one)
  --replica       this server's name in /health (several replicas behind one proxy; default: none)
  --drain-seconds on SIGTERM, refuse new sessions (/health answers 503) and wait this long at most, 0..86400, for
                  the running ones to end before stopping (default 120); SIGINT (Ctrl-C) or a second signal stops now

Every flag can also come from the environment: FACELIVE_ and its name in capitals, "-" as "_" (FACELIVE_PORT,
FACELIVE_MAX_SESSIONS, FACELIVE_TURN_URL...); a flag on the command line wins.`;

export const SERVE_FLAGS = {
  host: { type: 'string' }, port: { type: 'string' }, model: { type: 'string' }, 'max-sessions': { type: 'string' }, 'max-connections': { type: 'string' },
  threads: { type: 'string' }, 'model-threads': { type: 'string' }, 'model-workers': { type: 'string' }, device: { type: 'string' }, loopback: { type: 'boolean' }, token: { type: 'string' }, 'allow-origin': { type: 'string' },
  'turn-url': { type: 'string' }, 'turn-ttl': { type: 'string' }, replica: { type: 'string' }, 'drain-seconds': { type: 'string' },
  'behind-proxy': { type: 'boolean' },
} satisfies FlagSpec;

export function parseServeArgs(argv: string[], env: NodeJS.ProcessEnv = process.env) {
  // FACELIVE_TOKEN is read by tokenFlag itself
  const { values: v, check } = withEnvironment('serve', parseFlags('serve', argv, SERVE_FLAGS), { ...SERVE_FLAGS, token: undefined as never }, env);
  const model = resolve(typeof v.model === 'string' ? v.model : DEFAULT_MODEL_PATH);
  if (!existsSync(model)) throw new UsageError(`serve: --model: ${model} not found`);
  const turnUrls = check('turn-url', () => (typeof v['turn-url'] === 'string' ? v['turn-url'].split(',').map((x) => parseTurnUrl(x.trim())) : []));
  const turnSecret = env.FACELIVE_TURN_SECRET || undefined;
  if (turnUrls.length && !turnSecret) throw new UsageError('serve: --turn-url needs the secret shared with the TURN server in FACELIVE_TURN_SECRET (coturn: use-auth-secret, static-auth-secret)');
  if (turnSecret !== undefined && !/^[\x21-\x7e]{16,256}$/.test(turnSecret)) throw new UsageError('serve: FACELIVE_TURN_SECRET must be 16 to 256 printable characters without spaces');
  const replica = check('replica', () => {
    const name = typeof v.replica === 'string' ? v.replica : undefined;
    if (name !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw new UsageError(`serve: --replica: expected 1 to 64 letters, digits, ".", "_" or "-", got "${name}"`);
    return name;
  });
  return {
    host: typeof v.host === 'string' ? v.host : '127.0.0.1',
    port: check('port', () => intFlag('serve', v, 'port', 8080, 0, 65535)),
    model,
    maxSessions: check('max-sessions', () => intFlag('serve', v, 'max-sessions', 4, 1, 64)),
    maxConnections: check('max-connections', () => intFlag('serve', v, 'max-connections', 256, 8, 65536)),
    threads: v['model-threads'] !== undefined ? check('model-threads', () => intFlag('serve', v, 'model-threads', 1, 1, 16)) : check('threads', () => intFlag('serve', v, 'threads', liveModelThreads(), 1, 16)),
    modelWorkers: check('model-workers', () => intFlag('serve', v, 'model-workers', liveModelWorkers(), 1, 16)),
    device: check('device', () => choiceFlag('serve', v, 'device', 'cpu', MODEL_DEVICES)),
    loopbackOnly: v.loopback === true,
    token: tokenFlag('serve', v),
    allowedOrigins: check('allow-origin', () => (typeof v['allow-origin'] === 'string' ? v['allow-origin'].split(',').map((x) => parseOrigin(x.trim())) : [])),
    turn: turnUrls.length && turnSecret ? { urls: turnUrls, secret: turnSecret, ttlSeconds: check('turn-ttl', () => intFlag('serve', v, 'turn-ttl', 3600, 60, 7 * 86400)) } : undefined,
    replica,
    behindProxy: v['behind-proxy'] === true,
    drainSeconds: check('drain-seconds', () => intFlag('serve', v, 'drain-seconds', 120, 0, 86400)),
  };
}

function parseTurnUrl(text: string): string {
  if (!/^turns?:[A-Za-z0-9.-]{1,253}(:\d{1,5})?(\?transport=(udp|tcp))?$/.test(text)) {
    throw new UsageError(`serve: --turn-url: expected turn:HOST[:PORT][?transport=udp|tcp] or turns:..., got "${text}"`);
  }
  return text;
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
  const server = await LiveServer.start({ host: a.host, port: a.port, modelPath: a.model, maxSessions: a.maxSessions, maxConnections: a.maxConnections, loopbackOnly: a.loopbackOnly, token: a.token, allowedOrigins: a.allowedOrigins, threads: a.threads, modelWorkers: a.modelWorkers, device: a.device, turn: a.turn, replica: a.replica, ...(a.behindProxy ? { maxConnectionsPerAddress: Infinity } : {}) });
  // the camera needs a secure origin: http://localhost is one, http://<LAN address> is not (use https there)
  const pageUrl = server.url.replace(/\/\/(0\.0\.0\.0|127\.0\.0\.1|\[::\])(?=:)/, '//localhost') + '/';
  process.stdout.write(`facelive serve: open ${pageUrl} in Chromium or Firefox and allow the camera\n`);
  process.stdout.write(`facelive serve: signaling on ${server.signalUrl}, health on ${server.url}/health (Ctrl-C stops)\n`);
  if (a.token) process.stdout.write(`facelive serve: sessions need the token (the page: ${pageUrl}#token=…)\n`);
  else if (!/^(127\.|::1$|localhost$)/.test(a.host)) {
    process.stdout.write(`facelive serve: listening on ${a.host} with no token: anyone who can reach port ${a.port} can open a session (set FACELIVE_TOKEN)\n`);
  }
  if (!server.pageReady) process.stdout.write('facelive serve: the page is not built: run `npm run build`\n');
  if (a.turn) process.stdout.write(`facelive serve: clients get TURN ${a.turn.urls.join(', ')} (credentials for ${a.turn.ttlSeconds} s)\n`);
  // SIGTERM (a container stopping, a rolling update): drain; SIGINT, or any second signal: stop now
  let stopNow!: () => void;
  const now = new Promise<void>((r) => (stopNow = r));
  const first = await new Promise<NodeJS.Signals>((resolveSignal) => {
    process.once('SIGINT', () => resolveSignal('SIGINT'));
    process.once('SIGTERM', () => resolveSignal('SIGTERM'));
  });
  process.once('SIGINT', () => stopNow());
  process.once('SIGTERM', () => stopNow());
  if (first === 'SIGTERM' && a.drainSeconds > 0) {
    process.stdout.write(`facelive serve: draining: no new sessions, waiting up to ${a.drainSeconds} s for ${server.sessions.size} running\n`);
    const drained = await Promise.race([server.drain(a.drainSeconds * 1000), now.then(() => null)]);
    if (drained) process.stdout.write(`facelive serve: drained: ${drained.finished} sessions ended, ${drained.closed} closed at the deadline\n`);
  }
  process.stdout.write('facelive serve: stopping\n');
  await server.close();
  return 0;
}
