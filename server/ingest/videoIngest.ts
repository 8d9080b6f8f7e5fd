/**
 * RTP of one VP8 track in, whole encoded frames out, in order: werift's jitter buffer (reorders, reports gaps)
 * and VP8 depacketizer (assembles frames; before the first keyframe it says one is needed). After a gap the
 * depacketizer drops the broken frame but hands on the frames after it, which refer to it and decode into garbage
 * without an error (the recorded-RTP replay in live/liveStages.test.ts showed it), so a gap the jitter buffer
 * reports asks for a keyframe too. The caller skips to it (ingest/keyframeGate.ts) and turns `onNeedKeyframe`
 * into a picture-loss indication to the sender. Bad packets are counted, never thrown.
 */
import type { RtpPacket } from 'werift';
import { DepacketizeBase, JitterBufferBase } from 'werift/nonstandard';

export interface EncodedVideoFrame {
  readonly data: Uint8Array;
  readonly keyframe: boolean;
  /** RTP timestamp (90 kHz) of the frame */
  readonly rtpTimestamp: number;
}

export interface VideoIngestStats {
  packets: number;
  lostPackets: number;
  frames: number;
  keyframes: number;
  malformed: number;
}

export interface VideoIngestOptions {
  /** how long the jitter buffer waits for a missing packet, ms */
  readonly latencyMs: number;
  /** called when the stream cannot continue without a keyframe (start, loss) */
  readonly onNeedKeyframe: () => void;
}

export class VideoIngest {
  private readonly jitter: JitterBufferBase;
  private readonly depacketizer: DepacketizeBase;
  private readonly counters: VideoIngestStats = { packets: 0, lostPackets: 0, frames: 0, keyframes: 0, malformed: 0 };

  private readonly onNeedKeyframe: () => void;

  constructor(o: VideoIngestOptions) {
    this.onNeedKeyframe = o.onNeedKeyframe;
    this.jitter = new JitterBufferBase(90000, { latency: o.latencyMs, bufferSize: 2000 });
    this.depacketizer = new DepacketizeBase('vp8', { isFinalPacketInSequence: (h) => h.marker, waitForKeyframe: true });
    this.depacketizer.onNeedKeyFrame.subscribe(() => o.onNeedKeyframe());
  }

  push(rtp: RtpPacket): EncodedVideoFrame[] {
    this.counters.packets++;
    const frames: EncodedVideoFrame[] = [];
    try {
      for (const j of this.jitter.processInput({ rtp })) {
        if (j.isPacketLost) {
          // from: the sequence number expected; to: the newest packet that waited past the latency (one received
          // after the gap), so to - from is the gap where the packets after it are in order
          this.counters.lostPackets += Math.max(1, (j.isPacketLost.to - j.isPacketLost.from + 65536) % 65536);
          this.onNeedKeyframe();
        }
        if (!j.rtp) continue;
        for (const d of this.depacketizer.processInput({ rtp: j.rtp })) {
          if (!d.frame) continue;
          this.counters.frames++;
          if (d.frame.isKeyframe) this.counters.keyframes++;
          frames.push({ data: new Uint8Array(d.frame.data), keyframe: d.frame.isKeyframe, rtpTimestamp: j.rtp.header.timestamp });
        }
      }
    } catch {
      // a packet the depacketizer cannot parse: counted; the next keyframe recovers
      this.counters.malformed++;
    }
    return frames;
  }

  stats(): Readonly<VideoIngestStats> {
    return { ...this.counters };
  }
}
