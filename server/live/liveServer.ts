/**
 * `facelive serve` without the command line: one HTTP server for signaling (WebSocket on /signal) and health,
 * the browser page (build/web) on the same port, one engine (a pool of model workers) shared by every session, one
 * LiveSession per peer connection. Limits: at most `maxSessions` sessions (a further offer is answered with error
 * "busy"); signaling messages over 128 KiB are refused by the socket. A bad message gets an `error` reply and the socket stays up; a closed socket closes its
 * session and frees its place.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RTCPeerConnection } from 'werift';
import { WebSocketServer, type WebSocket } from 'ws';
import { InputError, ProtocolError } from '../../shared/errors.js';
import { loadRuntimeFacekit } from '../../node/facekit/loadFacekit.js';
import { candidateAddress, candidateFromWire, candidateToWire, parseClientSignal, type ServerSignal } from '../../shared/signaling.js';
import { WIRE_VERSION, type HelloMessage } from '../../shared/wire/schema.js';
import { FaceEngine } from '../engine/engine.js';
import { buildFaceTemplate } from '../engine/faceTemplate.js';
import { TrackedMesh } from '../engine/trackedMesh.js';
import { Decoder } from '../ingest/decoder.js';
import { LiveSession } from './liveSession.js';
import { advertisedSdp, advertises, peerConfig, withoutUnnamedStun } from '../../node/webrtc/peerConfig.js';
import { StaticFiles } from './staticFiles.js';
import { liveModelThreads, liveModelWorkers, type ModelDevice } from '../engine/model/defaults.js';
import { iceServersFor, type TurnConfig } from './turnCredentials.js';

export interface LiveServerOptions {
  readonly host: string;
  /** 0: any free port */
  readonly port: number;
  readonly modelPath: string;
  readonly maxSessions: number;
  /** ICE on 127.0.0.1 only (tests, a demo on one machine) */
  readonly loopbackOnly: boolean;
  /** onnxruntime threads in each model worker (default 1; see `facelive serve --help`) */
  readonly threads?: number;
  /** model workers side by side, shared by every session (default: one per core but one, 1 to 8) */
  readonly modelWorkers?: number;
  /** the face model's execution provider (default cpu) */
  readonly device?: ModelDevice;
  /** open TCP connections at most (page, health, signaling sockets); beyond, new ones are closed at once (256) */
  readonly maxConnections?: number;
  /** a connection that has not sent its request headers, or a signaling socket without an offer, is closed after
   *  this long (10 s): idle connections cannot hold the places of others */
  readonly idleMs?: number;
  /** open TCP connections from one address at most (32) */
  readonly maxConnectionsPerAddress?: number;
  /** a shared secret every offer must carry (none: anyone who reaches the port may open a session) */
  readonly token?: string;
  /** pages of other origins (`https://app.example`) whose scripts may open sessions; the server's own page may */
  readonly allowedOrigins?: readonly string[];
  /** TURN servers handed to clients with short-lived credentials (a client behind a NAT or a firewall) */
  readonly turn?: TurnConfig;
  /** this replica's name in /health (several behind one proxy) */
  readonly replica?: string;
}

/** An offer whose peer is not connected by then gives its place back (a client that never finishes ICE). */
const CONNECT_TIMEOUT_MS = 20_000;

/** a connection silent this long before its request, or a signaling socket without an offer, is closed */
const DEFAULT_IDLE_MS = 10_000;

/** signaling messages per socket: a burst of this many, then this many per second */
const SIGNAL_BURST = 200;
const SIGNAL_RATE = 20;

/** Every HTTP answer: no sniffing, no framing by other sites, no referrer. */
const SECURITY_HEADERS = { 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer' } as const;

/** What the server refused or closed, since it started (in /health): an operator sees an attack or a misconfigured client. */
export interface RefusalCounters {
  /** connections closed at once: over --max-connections or the per-address cap */
  connectionsOverCap: number;
  /** signaling sockets closed for sending no offer in time */
  signalingIdle: number;
  /** signaling sockets closed for sending too many messages */
  signalingFlood: number;
  /** WebSocket handshakes refused for their Origin */
  originRefused: number;
  /** offers without the token or with a wrong one */
  unauthorized: number;
  /** signaling messages answered with a protocol error */
  badSignals: number;
  /** offers told the server is busy */
  busy: number;
  /** offers and ICE requests told the replica is draining (it stops once its sessions end) */
  draining: number;
}

export class LiveServer {
  readonly sessions = new Map<string, LiveSession>();
  readonly refused: RefusalCounters = { connectionsOverCap: 0, signalingIdle: 0, signalingFlood: 0, originRefused: 0, unauthorized: 0, badSignals: 0, busy: 0, draining: 0 };
  /** offers being answered: they hold a place before their session exists (the cap counts them) */
  private pending = 0;
  private closed = false;
  /** refusing new sessions while the running ones finish (SIGTERM): /health answers 503, so a proxy sends none here */
  private drainingSince: number | null = null;
  private readonly drained: Array<() => void> = [];
  /** the tracked mesh's topology for every hello (its vertex count fits 16 bits: half the bytes of 32) */
  private readonly meshTriangles: Uint16Array;

  private constructor(
    private readonly http: Server,
    private readonly wss: WebSocketServer,
    private readonly engine: FaceEngine,
    private readonly mesh: TrackedMesh,
    private readonly o: LiveServerOptions,
    /** the browser page is built and served */
    readonly pageReady: boolean,
  ) {
    if (mesh.sourceVertex.length > 0xffff) throw new RangeError(`the tracked mesh has ${mesh.sourceVertex.length} vertices: more than 16-bit indices reach`);
    this.meshTriangles = Uint16Array.from(mesh.triangles);
  }

  static async start(o: LiveServerOptions): Promise<LiveServer> {
    const facekit = loadRuntimeFacekit();
    const engine = await FaceEngine.create({ modelPath: o.modelPath, threads: o.threads ?? liveModelThreads(), modelWorkers: o.modelWorkers ?? liveModelWorkers(), device: o.device, template: buildFaceTemplate(facekit) });
    const idleMs = o.idleMs ?? DEFAULT_IDLE_MS;
    // checked every second, not node's 30 s: an idle connection is gone soon after idleMs
    const http = createServer({ headersTimeout: idleMs, requestTimeout: 30_000, keepAliveTimeout: 5_000, connectionsCheckingInterval: Math.min(1000, idleMs) });
    http.maxConnections = o.maxConnections ?? 256;
    http.on('drop', () => server.refused.connectionsOverCap++);
    // a connection that sends nothing at all is not covered by headersTimeout: inactivity closes it (a signaling
    // socket leaves this behind when it is upgraded: ws clears the timeout, and its own idle rule is below)
    http.setTimeout(idleMs);
    // one address cannot take every place: the cap above would otherwise lock out everyone else
    const perAddress = new Map<string, number>();
    const addressCap = o.maxConnectionsPerAddress ?? 32;
    http.on('connection', (socket) => {
      const from = socket.remoteAddress ?? '';
      const n = (perAddress.get(from) ?? 0) + 1;
      if (n > addressCap) {
        server.refused.connectionsOverCap++;
        return void socket.destroy();
      }
      perAddress.set(from, n);
      socket.once('close', () => {
        const left = (perAddress.get(from) ?? 1) - 1;
        if (left > 0) perAddress.set(from, left);
        else perAddress.delete(from);
      });
    });
    // a page on any site could otherwise open a session from a visitor's browser (WebSockets cross origins)
    const wss = new WebSocketServer({ server: http, path: '/signal', maxPayload: 128 * 1024, verifyClient: (info: { origin?: string; req: IncomingMessage }) => {
      const allowed = originAllowed(info.origin, info.req.headers.host, o.allowedOrigins ?? []);
      if (!allowed) server.refused.originRefused++;
      return allowed;
    } });
    const page = new StaticFiles();
    const server = new LiveServer(http, wss, engine, new TrackedMesh(facekit), o, page.ready);
    http.on('request', (req, res) => {
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
      if (page.serve(req, res)) return;
      if (req.url === '/health') {
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' });
          res.end('/health answers GET\n');
          return;
        }
        // a draining replica is unhealthy to a load balancer (no new sessions come) yet keeps its running ones
        res.writeHead(server.draining ? 503 : 200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : JSON.stringify(server.health()));
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found: the page is at /, signaling is a WebSocket on /signal, health on /health\n');
    });
    wss.on('connection', (ws) => server.onSocket(ws));
    // before listening, the HTTP server's own error (a port in use) comes here too: start() reports that one
    wss.on('error', (e) => http.listening && console.error(`signaling server: ${e.message}`));
    try {
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen(o.port, o.host, () => resolve());
      });
    } catch (e) {
      // the model workers would keep the process alive after the failure
      await engine.close();
      wss.close();
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'EADDRINUSE' ? 'the port is in use' : code === 'EACCES' ? 'not allowed (a port under 1024 needs privileges)'
        : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'no such address on this machine' : (e as Error).message;
      throw new InputError(`cannot listen on ${o.host}:${o.port}: ${why}${code ? ` (${code})` : ''}`);
    }
    return server;
  }

  /** What /health reports. */
  health(): Record<string, unknown> {
    const e = this.engine.contract;
    return {
      status: this.draining ? 'draining' : 'ok', replica: this.o.replica ?? null, sessions: this.sessions.size, maxSessions: this.o.maxSessions,
      model: e.name, modelVersion: e.version, turn: (this.o.turn?.urls.length ?? 0) > 0, refused: this.refused, sessionTotals: this.sessionTotals(),
      inference: this.engine.modelStats(),
    };
  }

  get draining(): boolean {
    return this.drainingSince !== null;
  }

  /**
   * Stops taking sessions (offers are told `draining`, /health answers 503) and resolves once the running ones
   * have ended, or after `timeoutMs` (then they are closed: their clients reconnect elsewhere). The server stays
   * open until close().
   */
  async drain(timeoutMs: number): Promise<{ finished: number; closed: number }> {
    if (this.drainingSince === null) this.drainingSince = Date.now();
    const running = this.sessions.size + this.pending;
    if (running > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.drained.push(() => (clearTimeout(timer), resolve()));
      });
    }
    const left = [...this.sessions.values()];
    await Promise.allSettled(left.map((s) => s.close()));
    return { finished: running - left.length, closed: left.length };
  }

  private sessionEnded(): void {
    if (this.drainingSince === null || this.sessions.size + this.pending > 0) return;
    for (const f of this.drained.splice(0)) f();
  }

  /** Every live session's counters summed: the summary (frames in, decoded, dropped, bad client messages, ...) and each stage's ("stage.counter"). */
  sessionTotals(): Record<string, number> {
    const totals: Record<string, number> = {};
    for (const s of this.sessions.values()) for (const [k, v] of Object.entries({ ...s.stats, ...s.counters() })) totals[k] = (totals[k] ?? 0) + v;
    return totals;
  }

  /** places taken: sessions, and offers still being answered */
  get places(): number {
    return this.sessions.size + this.pending;
  }

  get url(): string {
    const a = this.http.address() as AddressInfo;
    return `http://${a.address}:${a.port}`;
  }

  get signalUrl(): string {
    return this.url.replace(/^http/, 'ws') + '/signal';
  }

  private onSocket(ws: WebSocket): void {
    let session: LiveSession | null = null;
    let pc: RTCPeerConnection | null = null;
    let socketClosed = false;
    // a socket that never offers would hold a connection for good
    const idle = setTimeout(() => {
      if (pc) return;
      this.refused.signalingIdle++;
      ws.close(1008, 'no offer in time');
    }, this.o.idleMs ?? DEFAULT_IDLE_MS);
    idle.unref();
    ws.once('close', () => clearTimeout(idle));
    /** settles once the offer is the remote description: a client's candidates can overtake the answer */
    let described: Promise<void> | null = null;
    const reply = (m: ServerSignal) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
    };
    // signaling is a handful of messages per session (an offer, tens of candidates): a flood is closed
    let budget = SIGNAL_BURST, refilled = performance.now();
    ws.on('message', async (data, isBinary) => {
      const now = performance.now();
      budget = Math.min(SIGNAL_BURST, budget + ((now - refilled) / 1000) * SIGNAL_RATE);
      refilled = now;
      if (--budget < 0) {
        if (ws.readyState === ws.OPEN) this.refused.signalingFlood++;
        return void ws.close(1008, 'too many messages');
      }
      try {
        if (isBinary) throw new ProtocolError('signal: expected a text message');
        const m = parseClientSignal(data.toString());
        if (m.type === 'ice' || m.type === 'offer') {
          if (pc) throw new ProtocolError(`signal: this socket already has a session (${m.type === 'ice' ? 'ask for ICE servers before the offer' : 'one offer per socket'})`);
          if (this.o.token !== undefined && !sameSecret(m.token, this.o.token)) {
            this.refused.unauthorized++;
            reply({ type: 'error', code: 'unauthorized', message: m.token === undefined ? 'this server needs a token' : 'wrong token' });
            return void ws.close(1008, 'unauthorized');
          }
          // a draining replica takes no session: the client connects again and the proxy sends it to another
          if (this.draining) {
            this.refused.draining++;
            reply({ type: 'error', code: 'draining', message: 'this server is shutting down: connect again' });
            return void ws.close(1013, 'draining');
          }
        }
        if (m.type === 'ice') {
          // TURN credentials only for a client that may open a session (the token was checked above)
          reply({ type: 'ice', iceServers: iceServersFor(this.o.turn), ttlSeconds: this.o.turn?.ttlSeconds ?? 0 });
        } else if (m.type === 'offer') {
          // the place is taken now, before anything is awaited: offers arriving together cannot all pass the check
          if (this.sessions.size + this.pending >= this.o.maxSessions) {
            this.refused.busy++;
            return reply({ type: 'error', code: 'busy', message: `the server holds its maximum of ${this.o.maxSessions} sessions` });
          }
          this.pending++;
          let holding = true;
          const release = () => holding && ((holding = false), this.pending--, this.sessionEnded());
          try {
            const id = randomUUID();
            const net = { loopbackOnly: this.o.loopbackOnly, bindAddress: this.o.host };
            pc = new RTCPeerConnection(peerConfig(net));
            // candidates gathered while the answer is made follow it: a browser refuses one before the answer
            let early: ServerSignal[] | null = [];
            pc.onIceCandidate.subscribe((c) => {
              const candidate = candidateToWire(c);
              if (!candidate || !advertises(net, candidateAddress(candidate.candidate) ?? '')) return;
              if (early) early.push({ type: 'candidate', candidate });
              else reply({ type: 'candidate', candidate });
            });
            const peer = pc;
            described = (async () => {
              const decoder = await Decoder.create();
              const contract = this.engine.contract;
              const hello: HelloMessage = { t: 'hello', v: WIRE_VERSION, sessionId: id, model: { name: contract.name, cropSize: contract.cropSize, window: contract.window }, expressionNames: this.mesh.expressionNames, meshTriangles: this.meshTriangles };
              const s = new LiveSession(id, peer, this.engine.openSession(), decoder, m.options, this.mesh, hello);
              session = s;
              // counted as a session before its place as an offer is given back: a drain never sees zero between
              this.sessions.set(id, s);
              release();
              s.once('close', () => {
                this.sessions.delete(id);
                ws.close();
                this.sessionEnded();
              });
              // the socket went away while the session was being made: nobody will ever close it otherwise
              if (socketClosed) return void s.close();
              // a peer that never connects gives its place back
              const timer = setTimeout(() => {
                if (peer.connectionState !== 'connected') {
                  console.error(`session ${id}: not connected ${CONNECT_TIMEOUT_MS / 1000} s after its offer; closed`);
                  void s.close();
                }
              }, CONNECT_TIMEOUT_MS);
              timer.unref();
              s.once('close', () => clearTimeout(timer));
              try {
                await peer.setRemoteDescription({ type: 'offer', sdp: m.sdp });
              } catch (e) {
                // the offer passed the parser's checks but not the WebRTC stack's: the client's fault, told without
                // the stack's internals (logged for the operator)
                console.warn(`session ${id}: the WebRTC stack refused the offer: ${(e as Error).message}`);
                throw new ProtocolError('signal.sdp: the WebRTC stack could not use this offer');
              }
            })();
            await described;
            // the socket went away (or the session closed) while the offer was described: nothing to answer; a
            // closed peer connection would throw from createAnswer, reported as an internal error
            if (socketClosed || pc.connectionState === 'closed') return;
            const answer = await pc.createAnswer();
            withoutUnnamedStun(pc);
            await pc.setLocalDescription(answer);
            reply({ type: 'answer', sdp: advertisedSdp(net, pc.localDescription!.sdp), sessionId: id });
            for (const c of early) reply(c);
            early = null;
          } catch (e) {
            // an offer that failed (a bad SDP, say) frees its place and its half-made session
            release();
            void (session as LiveSession | null)?.close();
            throw e;
          }
        } else if (m.type === 'candidate') {
          if (!pc) throw new ProtocolError('signal: a candidate before the offer');
          // a candidate that overtook the offer's processing waits for it: added before the remote description,
          // Firefox's candidates stalled werift's setRemoteDescription for 10 s (measured), past the client's timeout
          await described?.catch(() => undefined);
          try {
            await pc.addIceCandidate(candidateFromWire(m.candidate));
          } catch (e) {
            // the client's candidate, refused by the WebRTC stack: a protocol error (the standard's OperationError
            // names why; anything else is not passed on)
            throw new ProtocolError(`signal.candidate: the WebRTC stack could not use this candidate${(e as Error)?.name === 'OperationError' ? ` (${(e as Error).message})` : ''}`);
          }
        } else {
          await session?.close();
        }
      } catch (e) {
        if (e instanceof ProtocolError) {
          this.refused.badSignals++;
          return reply({ type: 'error', code: 'protocol', message: e.message });
        }
        // a library's own message says nothing useful to a client and something about the server: log it only
        const ref = randomUUID().slice(0, 8);
        console.error(`signaling error ${ref}${session ? ` (session ${(session as LiveSession).id})` : ''}: ${(e as Error).stack ?? (e as Error).message}`);
        reply({ type: 'error', code: 'internal', message: `the server could not handle that message (error ${ref}, logged)` });
      }
    });
    ws.on('close', () => {
      socketClosed = true;
      void session?.close();
    });
    // a malformed frame (over the size limit, bad UTF-8, a reserved opcode, an unmasked client frame...) makes ws
    // emit 'error' and close the socket; without a listener the process died of the unhandled event
    ws.on('error', (e) => {
      console.error(`signaling socket: ${e.message}`);
      ws.terminate();
    });
  }

  /** Idempotent: closes every session, the signaling sockets, the HTTP server and the engine. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.sessions.values()].map((s) => s.close()));
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    // keep-alive connections (a browser's, fetch's) would hold close() open until they time out
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
    await this.engine.close();
  }
}

/**
 * A browser names the page that opens a socket: the server's own page (its origin is the Host it asked for), or
 * one of `allowed`. No Origin: not a browser (the Node client), which the token, not the Origin, keeps out.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** Compared in constant time: the time a comparison takes must not tell how much of a guess was right. */
function sameSecret(given: string | undefined, secret: string): boolean {
  if (given === undefined) return false;
  const digest = (x: string) => createHash('sha256').update(x).digest();
  return timingSafeEqual(digest(given), digest(secret));
}
