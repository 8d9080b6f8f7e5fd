/**
 * One client, one peer connection, one engine session. The frame's path:
 *   track RTP → ingest/videoIngest (jitter buffer, VP8 frames) → ingest/decoder (worker) → the newest decoded
 *   frame waits here → engine session → egress/resultEncoder → "results" and "maps" data channels.
 * Every frame is decoded (VP8 frames depend on the previous ones), but a decoded frame that would wait behind a
 * busy engine is replaced by the next one: only the newest waits, the others are counted as dropped. Sends never
 * queue without bound: a data channel whose buffer is above its limit drops the message and counts it.
 */
import { EventEmitter } from 'node:events';
import { RtcpSrPacket, type RTCDataChannel, type RTCPeerConnection, type MediaStreamTrack } from 'werift';
import { InvalidStateError, ProtocolError } from '../../shared/errors.js';
import type { SessionOptionsWire } from '../../shared/signaling.js';
import { splitMessage } from '../../shared/wire/chunks.js';
import { decodeClientMessage, encodeMessage, type ServerMessage } from '../../shared/wire/schema.js';
import { encodeResult } from '../egress/resultEncoder.js';
import { defaultIntrinsics, type EngineSession, type FaceResult } from '../engine/engine.js';
import { SessionMesh, type TrackedMesh } from '../engine/trackedMesh.js';
import { Decoder } from '../ingest/decoder.js';
import { SenderClock } from '../ingest/senderClock.js';
import { VideoIngest } from '../ingest/videoIngest.js';
import { vp8KeyframeSize } from '../ingest/vp8Header.js';

export interface LiveSessionStats {
  framesIn: number;
  framesDecoded: number;
  /** decoded frames above MAX_FRAME_PIXELS, answered with a "frameTooLarge" result instead of run */
  framesTooLarge: number;
  /** VP8 frames the decoder rejected */
  decodeErrors: number;
  /** frames the engine failed on */
  engineErrors: number;
  /** messages from the client that did not parse */
  badClientMessages: number;
  framesProcessed: number;
  /** decoded frames replaced by a newer one while the engine was busy */
  framesDropped: number;
  resultsDropped: number;
  mapsDropped: number;
  keyframeRequests: number;
}

export interface LiveSessionEvents {
  result: [FaceResult];
  close: [];
}

/** Above this many buffered bytes a channel's new message is dropped (maps: a 128² frame is ~6 KB). */
const MAPS_BUFFER_LIMIT = 256 * 1024;
const RESULTS_BUFFER_LIMIT = 512 * 1024;
const CHUNK_BYTES = 16384;
/** larger frames are not run: the engine's cost grows with the frame (crop, face search) */
const MAX_FRAME_PIXELS = 1920 * 1080;
/** decoded in a few ms each: this many waiting means the machine cannot keep up */
const MAX_DECODE_BACKLOG = 8;
/** while waiting for a keyframe, ask again this often */
const KEYFRAME_RETRY_MS = 500;

export class LiveSession extends EventEmitter<LiveSessionEvents> {
  readonly stats: LiveSessionStats = { framesIn: 0, framesDecoded: 0, framesTooLarge: 0, decodeErrors: 0, engineErrors: 0, badClientMessages: 0, framesProcessed: 0, framesDropped: 0, resultsDropped: 0, mapsDropped: 0, keyframeRequests: 0 };
  private results: RTCDataChannel | null = null;
  private maps: RTCDataChannel | null = null;
  private waiting: { frameId: number; width: number; height: number; data: Uint8Array; decodeMs: number; decodedAt: number } | null = null;
  private busy = false;
  private decoding: Promise<void> = Promise.resolve();
  /** frames handed to the decoder and not yet decoded */
  private decodeBacklog = 0;
  /** skip frames until a keyframe starts the decoder's chain: at the start (a sender's first keyframe can be
   * lost) and after a backlog overflow */
  private skipUntilKeyframe = true;
  private closed = false;
  private messageId = 0;
  private processedSinceMaps = 0;
  private processedSinceMesh = 0;
  private readonly mesh: SessionMesh;
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
    this.mesh = new SessionMesh(trackedMesh);
    pc.onTrack.subscribe((track) => this.onTrack(track));
    pc.onDataChannel.subscribe((ch) => this.onChannel(ch));
    pc.connectionStateChange.subscribe((s) => {
      if (s === 'failed' || s === 'closed' || s === 'disconnected') void this.close();
    });
    this.statsTimer = setInterval(() => this.sendStats(), 1000);
  }

  private onTrack(track: MediaStreamTrack): void {
    if (track.kind !== 'video') return;
    const receiver = this.pc.getTransceivers().find((t) => t.receiver.track === track)?.receiver;
    let lastRequest = -Infinity;
    const requestKeyframe = () => {
      lastRequest = performance.now();
      this.stats.keyframeRequests++;
      if (receiver && track.ssrc !== undefined) void receiver.sendRtcpPLI(track.ssrc).catch(() => undefined);
    };
    receiver?.onRtcp.subscribe((p) => {
      if (p instanceof RtcpSrPacket && (track.ssrc === undefined || p.ssrc === track.ssrc)) this.senderClock.onSenderReport(p.senderInfo.ntpTimestamp, p.senderInfo.rtpTimestamp);
    });
    // after a loss the frames that follow cannot decode: skip them too, not only ask
    const ingest = new VideoIngest({ latencyMs: 60, onNeedKeyframe: () => {
      this.skipUntilKeyframe = true;
      requestKeyframe();
    } });
    track.onReceiveRtp.subscribe((rtp) => {
      if (this.closed) return;
      for (const f of ingest.push(rtp)) {
        this.stats.framesIn++;
        if (this.skipUntilKeyframe && !f.keyframe) {
          this.stats.framesDropped++;
          // a request can be lost or refused (senders rate-limit keyframes): ask again until one comes
          if (performance.now() - lastRequest > KEYFRAME_RETRY_MS) requestKeyframe();
          continue;
        }
        this.skipUntilKeyframe = false;
        // refused from its header, before libvpx allocates what it announces (up to 16383x16383 from a few KB);
        // the frames that depend on it are skipped too
        const announced = f.keyframe ? vp8KeyframeSize(f.data) : null;
        if (announced && announced.width * announced.height > MAX_FRAME_PIXELS) {
          this.skipUntilKeyframe = true;
          this.refuseTooLarge(announced.width, announced.height, f.rtpTimestamp);
          continue;
        }
        // a decoder that cannot keep up must not build a queue: drop to the next keyframe and ask for one
        if (this.decodeBacklog >= MAX_DECODE_BACKLOG) {
          this.skipUntilKeyframe = true;
          this.stats.framesDropped++;
          requestKeyframe();
          continue;
        }
        this.decodeBacklog++;
        // in order, one at a time: VP8 frames depend on the ones before
        this.decoding = this.decoding.then(() => this.decode(f.data, f.rtpTimestamp)).finally(() => this.decodeBacklog--);
      }
    });
  }

  private async decode(data: Uint8Array, rtpTimestamp: number): Promise<void> {
    if (this.closed) return;
    try {
      const t0 = performance.now();
      const pic = await this.decoder.decode(data);
      if (!pic) return;
      this.stats.framesDecoded++;
      if (pic.width * pic.height > MAX_FRAME_PIXELS) {
        // (a keyframe's header said otherwise) decoded, but not run: the client is told why, frame by frame
        this.refuseTooLarge(pic.width, pic.height, rtpTimestamp);
        return;
      }
      if (this.waiting) this.stats.framesDropped++;
      const decodedAt = performance.now();
      this.waiting = { frameId: rtpTimestamp, ...pic, decodeMs: decodedAt - t0, decodedAt };
      void this.pump();
    } catch (e) {
      if (e instanceof InvalidStateError) return; // closing
      this.stats.decodeErrors++;
    }
  }

  private refuseTooLarge(width: number, height: number, rtpTimestamp: number): void {
    this.stats.framesTooLarge++;
    const reason = `frameTooLarge: ${width}x${height}, at most ${MAX_FRAME_PIXELS} pixels (1920x1080)`;
    this.sendOn(this.results, encodeMessage({ t: 'result', frameId: rtpTimestamp, captureTimeMs: null, face: false, reason }), RESULTS_BUFFER_LIMIT, 'resultsDropped');
  }

  private async pump(): Promise<void> {
    if (this.busy || this.closed) return;
    while (this.waiting && !this.closed) {
      const f = this.waiting;
      this.waiting = null;
      this.busy = true;
      try {
        const startedAt = performance.now();
        const r = await this.engine.process({ frameId: f.frameId, captureTimeMs: this.senderClock.captureTimeMs(f.frameId) ?? undefined, intrinsics: defaultIntrinsics(f.width, f.height, this.options.fovDeg), pixels: { format: 'i420', width: f.width, height: f.height, data: f.data } });
        this.stats.framesProcessed++;
        // the live path's own stages beside the engine's: decode (in its worker, with the hand-over) and the wait
        // for the engine
        this.send(r, f.width, f.height, { decode: f.decodeMs, wait: startedAt - f.decodedAt });
        this.emit('result', r);
      } catch (e) {
        if (!(e instanceof InvalidStateError)) this.stats.engineErrors++;
      } finally {
        this.busy = false;
      }
    }
  }

  private send(r: FaceResult, frameWidth: number, frameHeight: number, liveTimings: Record<string, number>): void {
    let withMaps = this.options.mapsEvery > 0 && ++this.processedSinceMaps >= this.options.mapsEvery;
    const withMesh = this.options.meshEvery > 0 && ++this.processedSinceMesh >= this.options.meshEvery;
    if (withMaps) this.processedSinceMaps = 0;
    if (withMesh) this.processedSinceMesh = 0;
    // maps that the channel has no room for are not even coded (coding is ~2 ms per 128² frame)
    if (withMaps && !hasRoom(this.maps, MAPS_BUFFER_LIMIT)) {
      this.stats.mapsDropped++;
      withMaps = false;
    }
    const { result, maps } = encodeResult(r, { frameWidth, frameHeight, withMaps, withMesh, mesh: this.mesh, mapsStride: this.options.mapsStride, extraTimings: liveTimings });
    this.sendOn(this.results, encodeMessage(result), RESULTS_BUFFER_LIMIT, 'resultsDropped');
    if (maps) this.sendOn(this.maps, encodeMessage(maps), MAPS_BUFFER_LIMIT, 'mapsDropped');
  }

  /**
   * Every message goes in chunks of at most 16 KiB on both channels: the hello (mesh topology) and a result with
   * the mesh exceed the 64 KiB that some peers accept in one message (werift's default), and maps must anyway.
   */
  private sendOn(ch: RTCDataChannel | null, bytes: Uint8Array, limit: number, counter: 'resultsDropped' | 'mapsDropped'): void {
    if (!hasRoom(ch, limit)) {
      this.stats[counter]++;
      return;
    }
    try {
      for (const c of splitMessage(bytes, this.messageId++, CHUNK_BYTES)) ch.send(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
    } catch (e) {
      // a channel closing under us; the session's close follows
      if (ch.readyState === 'open') throw e;
      this.stats[counter]++;
    }
  }

  private onChannel(ch: RTCDataChannel): void {
    if (ch.label === 'results') {
      this.results = ch;
      const greet = () => this.sendOn(ch, encodeMessage(this.hello), RESULTS_BUFFER_LIMIT, 'resultsDropped');
      if (ch.readyState === 'open') greet();
      else ch.stateChanged.subscribe((s) => s === 'open' && greet());
      ch.onMessage.subscribe((m) => {
        try {
          const msg = decodeClientMessage(typeof m === 'string' ? new TextEncoder().encode(m) : new Uint8Array(m));
          if (msg.t === 'options') this.options = { mapsEvery: msg.mapsEvery, meshEvery: msg.meshEvery, mapsStride: msg.mapsStride, fovDeg: msg.fovDeg };
        } catch (e) {
          // whatever a peer sends, the session goes on: a message that does not parse is counted and dropped
          // (a non-ProtocolError here is a parser bug, logged; rethrown it took the process down)
          if (!(e instanceof ProtocolError)) console.error(`session ${this.id}: a client message broke the parser: ${(e as Error).message}`);
          this.stats.badClientMessages++;
        }
      });
    } else if (ch.label === 'maps') {
      this.maps = ch;
    }
  }

  private sendStats(): void {
    const s = this.stats;
    this.sendOn(this.results, encodeMessage({ t: 'stats', framesIn: s.framesIn, framesProcessed: s.framesProcessed, framesDropped: s.framesDropped, mapsDropped: s.mapsDropped }), RESULTS_BUFFER_LIMIT, 'resultsDropped');
  }

  /** Idempotent: the peer, the engine session and the decoder go; `close` is emitted once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.statsTimer);
    this.engine.close();
    await Promise.allSettled([this.pc.close(), this.decoder.close()]);
    this.emit('close');
  }
}

/** An open channel whose send buffer is below `limit` bytes. */
function hasRoom(ch: RTCDataChannel | null, limit: number): ch is RTCDataChannel {
  return ch !== null && ch.readyState === 'open' && ch.bufferedAmount <= limit;
}
