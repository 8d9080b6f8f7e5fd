/**
 * A real WebRTC client in Node (node-datachannel by default, or werift): it signals over the server's WebSocket,
 * sends frames as a VP8 video track and receives results on the "results" and "maps" data channels, exactly as
 * the browser page does.
 * Frames are I420; their RTP timestamp (90 kHz) comes back as the result's frameId, which gives latency.
 */
import { EventEmitter } from 'node:events';
import { RtpHeader, RtpPacket } from 'werift';
import { Vp8Packetizer } from 'werift/nonstandard';
import WebSocket from 'ws';
import { InvalidStateError } from '../../shared/errors.js';
import { Vp8Encoder, type I420Frame } from '../../node/media/vp8Codec.js';
import type { SessionOptionsWire } from '../../shared/signaling.js';
import { encodeMessage, type HelloMessage, type ResultMessage, type StatsMessage } from '../../shared/wire/schema.js';
import { OfferExchange } from '../sdk/offerExchange.js';
import { withTimeout } from '../sdk/retry.js';
import { namedBlendshapes, type NamedBlendshapes } from '../sdk/namedBlendshapes.js';
import { ResultStream, type DecodedMapsEvent } from '../sdk/resultStream.js';
import type { ClientPeer, ClientPeerHandlers, PeerStack } from './clientPeer.js';
import { NdcPeer } from './ndcPeer.js';
import { WeriftPeer } from './weriftPeer.js';

export interface NodeClientOptions {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly bitrate?: number;
  readonly session?: Partial<SessionOptionsWire>;
  /** the server's shared secret, when it was started with one (`facelive serve --token`) */
  readonly token?: string;
  /** ICE on 127.0.0.1 only */
  readonly loopbackOnly?: boolean;
  /** the WebRTC stack (default node-datachannel) */
  readonly peer?: PeerStack;
  /** relay candidates only: every packet through the TURN server the server hands out */
  readonly relayOnly?: boolean;
  /** give up connecting after this long (default 10 s) */
  readonly timeoutMs?: number;
}

export interface NodeClientEvents {
  hello: [HelloMessage];
  result: [ResultMessage];
  maps: [DecodedMapsEvent];
  stats: [StatsMessage];
  /** the server asked for a keyframe; sendFrame() honours it itself, a replay through sendEncoded() must */
  keyframeRequest: [];
  /** why: closed by the caller, the signaling socket closed, the peer connection failed */
  close: [string];
}

export class NodeClient extends EventEmitter<NodeClientEvents> {
  readonly stream: ResultStream;
  sessionId = '';
  /** the server's hello (model, blendshape names); it arrives while connecting */
  hello: HelloMessage | null = null;
  private packetizer: Vp8Packetizer | null = null;
  private peer: ClientPeer | null = null;
  private encoder: Vp8Encoder | null = null;
  private closed = false;
  framesSent = 0;
  bytesSent = 0;

  private constructor(private readonly ws: WebSocket) {
    super();
    this.stream = new ResultStream({
      hello: (m) => {
        this.hello = m;
        this.emit('hello', m);
      },
      result: (m) => this.emit('result', m),
      maps: (m) => this.emit('maps', m),
      stats: (m) => this.emit('stats', m),
    });
  }

  /** A result's blendshape weights by facekit's and ARKit's names (null without weights). */
  blendshapesOf(result: ResultMessage): NamedBlendshapes | null {
    return namedBlendshapes(result, this.hello);
  }

  static async connect(signalUrl: string, o: NodeClientOptions): Promise<NodeClient> {
    const ws = new WebSocket(signalUrl);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', (e) => reject(new InvalidStateError(`cannot reach the server at ${signalUrl}: ${e.message}`)));
    });
    const client = new NodeClient(ws);
    const exchange = new OfferExchange((text) => ws.readyState === WebSocket.OPEN && ws.send(text));
    const handlers: ClientPeerHandlers = {
      candidate: (candidate) => exchange.localCandidate(candidate),
      results: (b) => client.stream.pushResults(b),
      mapsChunk: (b) => client.stream.pushMapsChunk(b),
      keyframeRequest: () => {
        client.encoder?.requestKeyframe();
        client.emit('keyframeRequest');
      },
      closed: () => void client.close('the peer connection failed or closed'),
    };
    const timeoutMs = o.timeoutMs ?? 10_000;
    try {
      ws.on('message', (data) => void exchange.receive(data.toString()));
      ws.on('close', () => {
        exchange.socketClosed();
        void client.close('the signaling socket closed');
      });
      const iceServers = await withTimeout(exchange.iceServers(o.token), timeoutMs, 'the server did not say which ICE servers to use');
      const net = { loopbackOnly: o.loopbackOnly ?? false, iceServers, relayOnly: o.relayOnly ?? false };
      if (net.relayOnly && !iceServers.some((s) => s.urls.some((u) => /^turns?:/.test(u)))) throw new InvalidStateError('relay only: the server names no TURN server (facelive serve --turn-url)');
      const peer = (client.peer = (o.peer ?? 'node-datachannel') === 'werift' ? new WeriftPeer(net, handlers) : new NdcPeer(net, handlers));
      client.packetizer = new Vp8Packetizer({ payloadType: peer.payloadType, ssrc: peer.ssrc });
      // the encoder's time base is whole frames per second (29.97 paces the sending, not the bitrate budget)
      const encoderFps = Math.max(1, Math.round(o.fps));
      client.encoder = await Vp8Encoder.create({ width: o.width, height: o.height, fps: encoderFps, bitrate: o.bitrate ?? 1_500_000, keyframeInterval: encoderFps * 4 });
      exchange.offer(peer, await peer.createOffer(), o.session, o.token);
      client.sessionId = await withTimeout(exchange.answered, timeoutMs, 'the server did not answer');
      await withTimeout(peer.connected(), timeoutMs, 'the peer connection did not connect');
    } catch (e) {
      // a refused or failed connection leaves nothing running (socket, peer, encoder)
      await client.close((e as Error).message);
      throw e;
    }
    return client;
  }

  /** Encodes and sends one frame; `rtpTimestamp` (90 kHz) comes back as the result's frameId. */
  async sendFrame(frame: I420Frame, rtpTimestamp: number): Promise<void> {
    if (this.closed || !this.encoder) throw new InvalidStateError('NodeClient is closed');
    for (const p of await this.encoder.encode(frame)) this.sendPayload(p.data, rtpTimestamp);
    this.framesSent++;
  }

  /**
   * Sends one frame that was VP8-coded beforehand (a replay, e.g. the live bench's, which keeps the encoder's cost
   * off a machine that also runs the server). The caller answers 'keyframeRequest' by sending a keyframe next.
   */
  sendEncoded(vp8Frame: Uint8Array, rtpTimestamp: number): void {
    this.sendPayload(vp8Frame, rtpTimestamp);
    this.framesSent++;
  }

  private sendPayload(vp8Frame: Uint8Array, rtpTimestamp: number): void {
    if (this.closed || !this.peer || !this.packetizer) throw new InvalidStateError('NodeClient is closed');
    for (const rtp of this.packetizer.packetize(Buffer.from(vp8Frame), rtpTimestamp >>> 0)) {
      this.bytesSent += rtp.payload.length;
      this.peer.sendRtp(rtp.serialize(), rtpTimestamp >>> 0);
    }
  }

  /**
   * One RTP packet of this session's video track with any payload, not a VP8 frame's packetization: robustness
   * tests and the fuzz bench send what no encoder would.
   */
  sendRawRtp(payload: Uint8Array, rtpTimestamp: number, marker: boolean): void {
    if (this.closed || !this.peer || !this.packetizer) throw new InvalidStateError('NodeClient is closed');
    // the packetizer's own sequence: one stream, numbered as one (a jitter buffer drops what looks old)
    const numbering = this.packetizer as unknown as { sequenceNumber: number };
    const sequenceNumber = numbering.sequenceNumber;
    numbering.sequenceNumber = (sequenceNumber + 1) & 0xffff;
    const header = new RtpHeader({ payloadType: this.peer.payloadType, ssrc: this.peer.ssrc, sequenceNumber, timestamp: rtpTimestamp >>> 0, marker });
    this.peer.sendRtp(new RtpPacket(header, Buffer.from(payload)).serialize(), rtpTimestamp >>> 0);
  }

  /** Any bytes on the "results" channel (robustness tests; setOptions sends the real message). */
  sendRawResults(bytes: Uint8Array): void {
    if (this.closed || !this.peer) throw new InvalidStateError('NodeClient is closed');
    this.peer.sendResults(bytes);
  }

  /** Changes what the server sends for the rest of the session. */
  setOptions(o: SessionOptionsWire): void {
    if (this.closed || !this.peer) throw new InvalidStateError('NodeClient is closed');
    this.peer.sendResults(encodeMessage({ t: 'options', ...o }));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async close(reason = 'closed by the client'): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close();
    await this.peer?.close();
    await this.encoder?.close();
    this.emit('close', reason);
  }
}

