/**
 * The typed client for apps and the page: connect(url, { stream }) sends a camera (any MediaStream with a video
 * track) to a `facelive serve` over WebRTC and hands out, per frame, the sparse result (points, landmarks, pose,
 * blendshapes, mesh) and the decoded maps, each checked by shared/wire. Uses the platform's RTCPeerConnection and
 * WebSocket: current Chromium and Firefox.
 */
import { InvalidStateError } from '../../shared/errors.js';
import { candidateFromWire, candidateToWire, type IceCandidateWire, type SessionOptionsWire } from '../../shared/signaling.js';
import { encodeMessage, type HelloMessage, type ResultMessage, type StatsMessage } from '../../shared/wire/schema.js';
import { Emitter } from './emitter.js';
import { OfferExchange } from './offerExchange.js';
import { withTimeout } from './retry.js';
import { namedBlendshapes, type NamedBlendshapes } from './namedBlendshapes.js';
import { ResultStream, type DecodedMapsEvent } from './resultStream.js';

export interface ConnectOptions {
  /** what to send: its first video track */
  readonly stream: MediaStream;
  readonly session?: Partial<SessionOptionsWire>;
  /** ICE servers etc., added to the TURN servers the server hands out (default: those alone, often none: the
   *  server is reached directly); `iceTransportPolicy: 'relay'` sends everything through TURN */
  readonly rtcConfig?: RTCConfiguration;
  /** video bitrate cap, bits/s (default 1.5 Mbit/s) */
  readonly maxBitrate?: number;
  /** give up connecting after this long (default 10 s) */
  readonly timeoutMs?: number;
  /** the server's shared secret, when it was started with one (`facelive serve --token`) */
  readonly token?: string;
}

export interface ResultEvent {
  readonly result: ResultMessage;
  /** Date.now() when it arrived */
  readonly receivedAtMs: number;
  /** capture (sender clock, from its RTCP reports) to arrival, ms; null until the server knows the mapping */
  readonly latencyMs: number | null;
  /** the blendshape weights by facekit's and ARKit's names; null without weights */
  readonly blendshapes: NamedBlendshapes | null;
}

export interface FaceClientEvents {
  hello: [HelloMessage];
  result: [ResultEvent];
  maps: [DecodedMapsEvent];
  stats: [StatsMessage];
  close: [string];
}

export class FaceClient extends Emitter<FaceClientEvents> {
  hello: HelloMessage | null = null;
  sessionId = '';
  private readonly resultStream: ResultStream;
  private results: RTCDataChannel | null = null;
  private closed = false;

  private constructor(
    private readonly ws: WebSocket,
    readonly pc: RTCPeerConnection,
  ) {
    super();
    this.resultStream = new ResultStream({
      hello: (m) => {
        this.hello = m;
        this.emit('hello', m);
      },
      result: (m) => {
        const now = Date.now();
        this.emit('result', { result: m, receivedAtMs: now, latencyMs: m.captureTimeMs === null ? null : now - m.captureTimeMs, blendshapes: namedBlendshapes(m, this.hello) });
      },
      maps: (m) => this.emit('maps', m),
      stats: (m) => this.emit('stats', m),
    });
  }

  /** bytes received on both data channels */
  get bytesIn(): number {
    return this.resultStream.bytesIn;
  }

  /** messages that failed to decode, and the maps chunk counters */
  get invalidMessages(): number {
    return this.resultStream.invalid;
  }

  static async connect(signalUrl: string, o: ConnectOptions): Promise<FaceClient> {
    const track = o.stream.getVideoTracks()[0];
    if (!track) throw new InvalidStateError('connect: the stream has no video track');
    const ws = new WebSocket(signalUrl);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new InvalidStateError(`cannot reach the server at ${signalUrl}`));
    });
    const send = (text: string) => ws.readyState === WebSocket.OPEN && ws.send(text);
    const exchange = new OfferExchange(send);
    ws.onmessage = (e) => void exchange.receive(String(e.data));
    ws.onclose = () => exchange.socketClosed();
    const timeoutMs = o.timeoutMs ?? 10_000;
    let iceServers: RTCIceServer[];
    try {
      iceServers = (await withTimeout(exchange.iceServers(o.token), timeoutMs, 'the server did not say which ICE servers to use')).map((s) => ({ ...s, urls: [...s.urls] }));
    } catch (e) {
      ws.close();
      throw e;
    }
    const pc = new RTCPeerConnection({ ...o.rtcConfig, iceServers: [...iceServers, ...(o.rtcConfig?.iceServers ?? [])], bundlePolicy: 'max-bundle' });
    const client = new FaceClient(ws, pc);
    try {
      const transceiver = pc.addTransceiver(track, { direction: 'sendonly', streams: [o.stream] });
      const vp8 = RTCRtpSender.getCapabilities?.('video')?.codecs.filter((c) => /\/(VP8|rtx)$/i.test(c.mimeType));
      if (vp8?.length && transceiver.setCodecPreferences) transceiver.setCodecPreferences(vp8);
      const results = pc.createDataChannel('results');
      const maps = pc.createDataChannel('maps', { ordered: false, maxRetransmits: 0 });
      results.binaryType = maps.binaryType = 'arraybuffer';
      client.results = results;
      results.onmessage = (e) => client.resultStream.pushResults(typeof e.data === 'string' ? new TextEncoder().encode(e.data) : new Uint8Array(e.data as ArrayBuffer));
      maps.onmessage = (e) => typeof e.data !== 'string' && client.resultStream.pushMapsChunk(new Uint8Array(e.data as ArrayBuffer));
      results.onclose = () => void client.close('the results channel closed');
      pc.onicecandidate = (e) => exchange.localCandidate(candidateToWire(e.candidate ?? undefined));
      ws.onclose = () => {
        exchange.socketClosed();
        client.close('the signaling socket closed');
      };
      // a peer that fails (the server went away without closing its socket, a path through TURN that broke)
      pc.onconnectionstatechange = () => pc.connectionState === 'failed' && client.close('the peer connection failed');
      await pc.setLocalDescription(await pc.createOffer());
      const peer = { setAnswer: (sdp: string) => pc.setRemoteDescription({ type: 'answer', sdp }), addCandidate: (c: IceCandidateWire) => pc.addIceCandidate(candidateFromWire(c)) };
      exchange.offer(peer, pc.localDescription!.sdp, o.session, o.token);
      client.sessionId = await withTimeout(exchange.answered, timeoutMs, 'the server did not answer');
      await withTimeout(new Promise<void>((resolve) => {
        if (results.readyState === 'open') resolve();
        results.addEventListener('open', () => resolve());
      }), timeoutMs, 'the peer connection did not connect');
      const params = transceiver.sender.getParameters();
      if (params.encodings?.[0]) {
        params.encodings[0].maxBitrate = o.maxBitrate ?? 1_500_000;
        await transceiver.sender.setParameters(params).catch(() => undefined);
      }
    } catch (e) {
      client.close((e as Error).message);
      throw e;
    }
    return client;
  }

  /** Changes what the server sends (maps and mesh rates, map resolution) for the rest of the session. */
  setOptions(o: SessionOptionsWire): void {
    if (this.results?.readyState !== 'open') throw new InvalidStateError('setOptions: not connected');
    this.results.send(encodeMessage({ t: 'options', ...o }) as Uint8Array<ArrayBuffer>);
  }

  /** Idempotent. The camera track is the caller's: it is not stopped. */
  close(reason = 'closed by the client'): void {
    if (this.closed) return;
    this.closed = true;
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close();
    this.pc.close();
    this.emit('close', reason);
  }
}

