/**
 * A real WebRTC client in Node (werift): it signals over the server's WebSocket, sends frames as a VP8 video
 * track and receives results on the "results" and "maps" data channels, exactly as the browser page does.
 * Frames are I420; their RTP timestamp (90 kHz) comes back as the result's frameId, which gives latency.
 */
import { EventEmitter } from 'node:events';
import { MediaStreamTrack, RTCPeerConnection, type RTCDataChannel } from 'werift';
import { Vp8Packetizer } from 'werift/nonstandard';
import WebSocket from 'ws';
import { InvalidStateError, ProtocolError } from '../../shared/errors.js';
import { Vp8Encoder, type I420Frame } from '../../shared/media/vp8Codec.js';
import { candidateFromWire, candidateToWire, DEFAULT_SESSION_OPTIONS, parseServerSignal, type ClientSignal, type SessionOptionsWire } from '../../shared/signaling.js';
import type { HelloMessage, ResultMessage, StatsMessage } from '../../shared/wire/schema.js';
import { ResultStream, type DecodedMapsEvent } from '../sdk/resultStream.js';
import { peerConfig } from '../../server/live/peerConfig.js';

export interface NodeClientOptions {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly bitrate?: number;
  readonly session?: Partial<SessionOptionsWire>;
  /** ICE on 127.0.0.1 only */
  readonly loopbackOnly?: boolean;
}

export interface NodeClientEvents {
  hello: [HelloMessage];
  result: [ResultMessage];
  maps: [DecodedMapsEvent];
  stats: [StatsMessage];
  close: [];
}

export class NodeClient extends EventEmitter<NodeClientEvents> {
  readonly stream: ResultStream;
  sessionId = '';
  /** the server's hello (model, blendshape names); it arrives while connecting */
  hello: HelloMessage | null = null;
  private readonly packetizer = new Vp8Packetizer({ payloadType: 96, ssrc: (Math.random() * 2 ** 32) >>> 0 });
  private channels: RTCDataChannel[] = [];
  private closed = false;
  framesSent = 0;
  bytesSent = 0;

  private constructor(
    private readonly ws: WebSocket,
    private readonly pc: RTCPeerConnection,
    private readonly track: MediaStreamTrack,
    private readonly encoder: Vp8Encoder,
  ) {
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

  static async connect(signalUrl: string, o: NodeClientOptions): Promise<NodeClient> {
    const ws = new WebSocket(signalUrl);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', (e) => reject(new InvalidStateError(`cannot reach the server at ${signalUrl}: ${e.message}`)));
    });
    const pc = new RTCPeerConnection(peerConfig(o.loopbackOnly ?? false));
    const track = new MediaStreamTrack({ kind: 'video' });
    const transceiver = pc.addTransceiver(track, { direction: 'sendonly' });
    const encoder = await Vp8Encoder.create({ width: o.width, height: o.height, fps: o.fps, bitrate: o.bitrate ?? 1_500_000, keyframeInterval: o.fps * 4 });
    const client = new NodeClient(ws, pc, track, encoder);
    // the server asks for a keyframe at the start and after a loss
    transceiver.sender.onRtcp.subscribe((rtcp) => {
      if (rtcp.type === 206) encoder.requestKeyframe();
    });
    const results = pc.createDataChannel('results');
    const maps = pc.createDataChannel('maps', { ordered: false, maxRetransmits: 0 });
    client.channels = [results, maps];
    results.onMessage.subscribe((m) => client.stream.pushResults(typeof m === 'string' ? new TextEncoder().encode(m) : new Uint8Array(m)));
    maps.onMessage.subscribe((m) => typeof m !== 'string' && client.stream.pushMapsChunk(new Uint8Array(m)));
    const send = (m: ClientSignal) => ws.send(JSON.stringify(m));
    // candidates found while the offer is being made wait for it (the server takes the offer first)
    let early: ClientSignal[] | null = [];
    pc.onIceCandidate.subscribe((c) => {
      const candidate = candidateToWire(c);
      if (!candidate) return;
      const m: ClientSignal = { type: 'candidate', candidate };
      if (early) early.push(m);
      else send(m);
    });
    const answered = new Promise<void>((resolve, reject) => {
      ws.on('message', async (data) => {
        try {
          const m = parseServerSignal(data.toString());
          if (m.type === 'answer') {
            client.sessionId = m.sessionId;
            await pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
            resolve();
          } else if (m.type === 'candidate') {
            await pc.addIceCandidate(candidateFromWire(m.candidate));
          } else {
            reject(new ProtocolError(`server: ${m.code}: ${m.message}`));
          }
        } catch (e) {
          reject(e);
        }
      });
    });
    ws.on('close', () => void client.close());
    answered.catch(() => undefined); // awaited below; this keeps an early refusal from being unhandled meanwhile
    try {
      await pc.setLocalDescription(await pc.createOffer());
      send({ type: 'offer', sdp: pc.localDescription!.sdp, options: { ...DEFAULT_SESSION_OPTIONS, ...o.session } });
      for (const m of early) send(m);
      early = null;
      await answered;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new InvalidStateError('the peer connection did not connect within 10 s')), 10_000);
        const check = () => {
          if (results.readyState === 'open') {
            clearTimeout(timer);
            resolve();
          }
        };
        results.stateChanged.subscribe(check);
        check();
      });
    } catch (e) {
      // a refused or failed connection leaves nothing running (socket, peer, encoder)
      await client.close();
      throw e;
    }
    return client;
  }

  /** Encodes and sends one frame; `rtpTimestamp` (90 kHz) comes back as the result's frameId. */
  async sendFrame(frame: I420Frame, rtpTimestamp: number): Promise<void> {
    if (this.closed) throw new InvalidStateError('NodeClient is closed');
    for (const p of await this.encoder.encode(frame)) {
      for (const rtp of this.packetizer.packetize(Buffer.from(p.data), rtpTimestamp >>> 0)) {
        this.bytesSent += rtp.payload.length;
        this.track.writeRtp(rtp);
      }
    }
    this.framesSent++;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close();
    for (const c of this.channels) c.close();
    await this.pc.close();
    await this.encoder.close();
    this.emit('close');
  }
}
