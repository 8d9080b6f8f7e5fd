/**
 * One client, one peer connection, one engine session: the session's lifecycle, and the stages of its frames
 * wired in order, each in the folder that names it and each with its own counters:
 *   track RTP → ingest/videoIngest (jitter buffer, whole VP8 frames) → ingest/keyframeGate (skip to a keyframe
 *   after a gap, refuse oversized frames) → ingest/decodeChain (the decoder worker, in order) → live/newestFrameSlot
 *   (only the newest decoded frame waits for the engine) → engine session → egress/resultSender (cadence of maps
 *   and mesh, encoding) → egress/channelSink ("results" and "maps" data channels, chunked, bounded).
 * Every decoded frame is a candidate, but one that would wait behind a busy engine is replaced by the next one;
 * sends never queue without bound. stats() sums the stages for the client's stats message and /health.
 */
import { EventEmitter } from 'node:events';
import { RtcpSrPacket, type RTCDataChannel, type RTCPeerConnection, type MediaStreamTrack } from 'werift';
import { ProtocolError } from '../../shared/errors.js';
import type { SessionOptionsWire } from '../../shared/sessionOptions.js';
import { decodeClientMessage, encodeMessage, type ServerMessage } from '../../shared/wire/schema.js';
import { ChannelSink, MessageIds, type ChannelSinkStats } from '../egress/channelSink.js';
import { ResultSender, type ResultSenderStats } from '../egress/resultSender.js';
import { defaultIntrinsics, type EngineSession, type FaceResult } from '../engine/engine.js';
import { SessionMesh, type TrackedMesh } from '../engine/trackedMesh.js';
import { DecodeChain, type DecodeChainStats, type DecodedPicture } from '../ingest/decodeChain.js';
import type { Decoder } from '../ingest/decoder.js';
import { KeyframeGate, type KeyframeGateStats } from '../ingest/keyframeGate.js';
import { SenderClock } from '../ingest/senderClock.js';
import { VideoIngest, type VideoIngestStats } from '../ingest/videoIngest.js';
import { NewestFrameSlot, type NewestFrameSlotStats } from './newestFrameSlot.js';

/** The session's summary counters (the client's stats message and /health carry these and every stage's). */
export interface LiveSessionStats {
  framesIn: number;
  framesDecoded: number;
  /** frames above MAX_FRAME_PIXELS, answered with a "frameTooLarge" result instead of run */
  framesTooLarge: number;
  /** VP8 frames the decoder rejected */
  decodeErrors: number;
  /** frames the engine failed on */
  engineErrors: number;
  /** results whose sending or listeners threw */
  deliverErrors: number;
  /** messages from the client that did not parse */
  badClientMessages: number;
  framesProcessed: number;
  /** frames skipped to a keyframe or past a decoder backlog, and decoded frames replaced while the engine was busy */
  framesDropped: number;
  resultsDropped: number;
  mapsDropped: number;
  keyframeRequests: number;
}

/** Every stage's own counters. */
export interface LiveStageStats {
  readonly ingest: Readonly<VideoIngestStats>;
  readonly gate: Readonly<KeyframeGateStats>;
  readonly decode: Readonly<DecodeChainStats>;
  readonly slot: Readonly<NewestFrameSlotStats>;
  readonly sender: Readonly<ResultSenderStats>;
  readonly results: Readonly<ChannelSinkStats>;
  readonly maps: Readonly<ChannelSinkStats>;
  readonly client: { readonly messages: number; readonly bad: number };
}

export interface LiveSessionEvents {
  result: [FaceResult];
  close: [];
}

/** Above this many buffered bytes a channel's new message is dropped (maps: a 128² frame is ~6 KB). */
const MAPS_BUFFER_LIMIT = 256 * 1024;
const RESULTS_BUFFER_LIMIT = 512 * 1024;
/** larger frames are not run: the engine's cost grows with the frame (crop, face search) */
const MAX_FRAME_PIXELS = 1920 * 1080;
/** decoded in a few ms each: this many waiting means the machine cannot keep up */
const MAX_DECODE_BACKLOG = 8;
/** while waiting for a keyframe, ask again this often */
const KEYFRAME_RETRY_MS = 500;
/** how long the jitter buffer waits for a missing packet */
const JITTER_LATENCY_MS = 60;

const NO_INGEST: Readonly<VideoIngestStats> = Object.freeze({ packets: 0, lostPackets: 0, frames: 0, keyframes: 0, malformed: 0 });

export class LiveSession extends EventEmitter<LiveSessionEvents> {
  private ingest: VideoIngest | null = null;
  private readonly gate: KeyframeGate;
  private readonly decode: DecodeChain;
  private readonly slot: NewestFrameSlot<DecodedPicture, { result: FaceResult; waitMs: number }>;
  private readonly resultsSink: ChannelSink;
  private readonly mapsSink: ChannelSink;
  private readonly sender: ResultSender;
  private readonly clientMessages = { messages: 0, bad: 0 };
  /** sends a picture-loss indication on the video track, once there is one */
  private requestKeyframe: () => void = () => undefined;
  private closed = false;
  private readonly statsTimer: NodeJS.Timeout;
  /** the client's capture clock, from its RTCP sender reports */
  private readonly senderClock = new SenderClock();

  constructor(
    readonly id: string,
    private readonly pc: RTCPeerConnection,
    private readonly engine: EngineSession,
    private readonly decoder: Decoder,
    private options: SessionOptionsWire,
    trackedMesh: TrackedMesh,
    private readonly hello: ServerMessage,
  ) {
    super();
    this.gate = new KeyframeGate({ maxFramePixels: MAX_FRAME_PIXELS, maxDecodeBacklog: MAX_DECODE_BACKLOG, retryMs: KEYFRAME_RETRY_MS, requestKeyframe: () => this.requestKeyframe() });
    this.decode = new DecodeChain(decoder, {
      maxFramePixels: MAX_FRAME_PIXELS,
      onPicture: (p) => this.slot.offer(p),
      // (a keyframe's header said otherwise) decoded, but not run
      onTooLarge: (w, h, frameId) => this.refuseTooLarge(w, h, frameId),
    });
    this.slot = new NewestFrameSlot((p) => this.run(p), (r, p) => this.deliver(r, p), `session ${id}`);
    const ids = new MessageIds();
    this.resultsSink = new ChannelSink(RESULTS_BUFFER_LIMIT, ids);
    this.mapsSink = new ChannelSink(MAPS_BUFFER_LIMIT, ids);
    this.sender = new ResultSender(this.resultsSink, this.mapsSink, new SessionMesh(trackedMesh));
    pc.onTrack.subscribe((track) => this.onTrack(track));
    pc.onDataChannel.subscribe((ch) => this.onChannel(ch));
    pc.connectionStateChange.subscribe((s) => {
      if (s === 'failed' || s === 'closed' || s === 'disconnected') void this.close();
    });
    this.statsTimer = setInterval(() => this.sendStats(), 1000);
  }

  /** The summary counters, from the stages. */
  get stats(): LiveSessionStats {
    const s = this.stageStats();
    return {
      framesIn: s.ingest.frames,
      framesDecoded: s.decode.decoded,
      framesTooLarge: s.gate.tooLarge + s.decode.tooLarge,
      decodeErrors: s.decode.decodeErrors,
      engineErrors: s.slot.processErrors,
      deliverErrors: s.slot.deliverErrors,
      badClientMessages: s.client.bad,
      framesProcessed: s.slot.processed,
      framesDropped: s.gate.awaitingKeyframe + s.gate.decodeBacklog + s.slot.replaced,
      resultsDropped: s.results.dropped + s.results.failed,
      mapsDropped: s.maps.dropped + s.maps.failed,
      keyframeRequests: s.gate.keyframeRequests,
    };
  }

  stageStats(): LiveStageStats {
    return {
      ingest: this.ingest?.stats() ?? NO_INGEST, gate: this.gate.stats(), decode: this.decode.stats(), slot: this.slot.stats(),
      sender: this.sender.stats(), results: this.resultsSink.stats(), maps: this.mapsSink.stats(), client: { ...this.clientMessages },
    };
  }

  /** Every stage's counters as "stage.counter" → value. */
  counters(): Record<string, number> {
    const flat: Record<string, number> = {};
    for (const [stage, values] of Object.entries(this.stageStats())) for (const [k, v] of Object.entries(values)) flat[`${stage}.${k}`] = v as number;
    return flat;
  }

  private onTrack(track: MediaStreamTrack): void {
    if (track.kind !== 'video') return;
    const receiver = this.pc.getTransceivers().find((t) => t.receiver.track === track)?.receiver;
    this.requestKeyframe = () => {
      if (receiver && track.ssrc !== undefined) void receiver.sendRtcpPLI(track.ssrc).catch(() => undefined);
    };
    receiver?.onRtcp.subscribe((p) => {
      if (p instanceof RtcpSrPacket && (track.ssrc === undefined || p.ssrc === track.ssrc)) this.senderClock.onSenderReport(p.senderInfo.ntpTimestamp, p.senderInfo.rtpTimestamp);
    });
    // after a loss the frames that follow cannot decode: the gate skips them too, not only asks
    const ingest = new VideoIngest({ latencyMs: JITTER_LATENCY_MS, onNeedKeyframe: () => this.gate.needKeyframe() });
    this.ingest = ingest;
    track.onReceiveRtp.subscribe((rtp) => {
      if (this.closed) return;
      for (const f of ingest.push(rtp)) {
        const verdict = this.gate.admit(f, this.decode.backlog);
        if (verdict.pass) this.decode.push(f.data, f.rtpTimestamp);
        else if (verdict.reason === 'tooLarge') this.refuseTooLarge(verdict.width, verdict.height, f.rtpTimestamp);
      }
    });
  }

  private async run(p: DecodedPicture): Promise<{ result: FaceResult; waitMs: number }> {
    const waitMs = performance.now() - p.decodedAt;
    const result = await this.engine.process({ frameId: p.frameId, captureTimeMs: this.senderClock.captureTimeMs(p.frameId) ?? undefined, intrinsics: defaultIntrinsics(p.width, p.height, this.options.fovDeg), pixels: { format: 'i420', width: p.width, height: p.height, data: p.data } });
    return { result, waitMs };
  }

  private deliver({ result, waitMs }: { result: FaceResult; waitMs: number }, p: DecodedPicture): void {
    // the live path's own stages beside the engine's: decode (in its worker, with the hand-over) and the wait
    this.sender.send(result, p, this.options, { decode: p.decodeMs, wait: waitMs });
    this.emit('result', result);
  }

  /** The client is told why, frame by frame. */
  private refuseTooLarge(width: number, height: number, frameId: number): void {
    const reason = `frameTooLarge: ${width}x${height}, at most ${MAX_FRAME_PIXELS} pixels (1920x1080)`;
    this.resultsSink.send(encodeMessage({ t: 'result', frameId, captureTimeMs: null, face: false, reason }));
  }

  private onChannel(ch: RTCDataChannel): void {
    if (ch.label === 'results') {
      this.resultsSink.attach(ch);
      const greet = () => this.resultsSink.send(encodeMessage(this.hello));
      if (ch.readyState === 'open') greet();
      else ch.stateChanged.subscribe((s) => s === 'open' && greet());
      ch.onMessage.subscribe((m) => this.onClientMessage(m));
    } else if (ch.label === 'maps') {
      this.mapsSink.attach(ch);
    }
  }

  private onClientMessage(m: string | Buffer): void {
    this.clientMessages.messages++;
    try {
      const msg = decodeClientMessage(typeof m === 'string' ? new TextEncoder().encode(m) : new Uint8Array(m));
      if (msg.t === 'options') this.options = { mapsEvery: msg.mapsEvery, meshEvery: msg.meshEvery, mapsStride: msg.mapsStride, fovDeg: msg.fovDeg };
    } catch (e) {
      // whatever a peer sends, the session goes on: a message that does not parse is counted and dropped
      // (a non-ProtocolError here is a parser bug, logged; rethrown it took the process down)
      if (!(e instanceof ProtocolError)) console.error(`session ${this.id}: a client message broke the parser: ${(e as Error).message}`);
      this.clientMessages.bad++;
    }
  }

  private sendStats(): void {
    const s = this.stats;
    this.resultsSink.send(encodeMessage({ t: 'stats', framesIn: s.framesIn, framesProcessed: s.framesProcessed, framesDropped: s.framesDropped, mapsDropped: s.mapsDropped, counters: this.counters() }));
  }

  /** Idempotent: the stages stop, the peer, the engine session and the decoder go; `close` is emitted once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.statsTimer);
    this.decode.close();
    this.slot.close();
    this.engine.close();
    await Promise.allSettled([this.pc.close(), this.decoder.close()]);
    this.emit('close');
  }
}
