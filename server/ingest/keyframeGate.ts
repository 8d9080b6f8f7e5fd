/**
 * Which encoded frames may go to the decoder. VP8 frames depend on the ones before, so after a gap (the start: a
 * sender's first keyframe can be lost; a loss the depacketizer reported; a decoder backlog) every frame up to the
 * next keyframe is skipped, and a keyframe is asked for until one comes (a request can be lost, and senders
 * rate-limit keyframes). A keyframe whose header announces more pixels than the server runs is refused before
 * libvpx allocates them (up to 16383x16383 from a few KB), with the frames that depend on it.
 */
import { vp8KeyframeSize } from './vp8Header.js';
import type { EncodedVideoFrame } from './videoIngest.js';

export interface KeyframeGateOptions {
  /** frames announcing more pixels are refused */
  readonly maxFramePixels: number;
  /** frames waiting for the decoder beyond which the stream drops to the next keyframe */
  readonly maxDecodeBacklog: number;
  /** while waiting for a keyframe, ask again this often, ms */
  readonly retryMs: number;
  /** sends a picture-loss indication to the sender */
  readonly requestKeyframe: () => void;
  readonly now?: () => number;
}

export type GateVerdict =
  | { readonly pass: true }
  | { readonly pass: false; readonly reason: 'awaitingKeyframe' | 'decodeBacklog' }
  | { readonly pass: false; readonly reason: 'tooLarge'; readonly width: number; readonly height: number };

export interface KeyframeGateStats {
  /** frames handed on to the decoder */
  passed: number;
  /** frames skipped while waiting for a keyframe */
  awaitingKeyframe: number;
  /** frames dropped because the decoder had too many waiting */
  decodeBacklog: number;
  /** keyframes refused for their announced size */
  tooLarge: number;
  keyframeRequests: number;
}

export class KeyframeGate {
  private waitingForKeyframe = true;
  private lastRequest = -Infinity;
  private readonly counters: KeyframeGateStats = { passed: 0, awaitingKeyframe: 0, decodeBacklog: 0, tooLarge: 0, keyframeRequests: 0 };
  private readonly now: () => number;

  constructor(private readonly o: KeyframeGateOptions) {
    this.now = o.now ?? (() => performance.now());
  }

  /** The stream cannot continue without a keyframe (the depacketizer saw a loss): skip to one and ask for it. */
  needKeyframe(): void {
    this.waitingForKeyframe = true;
    this.request();
  }

  /** What to do with the next frame, `decodeBacklog` frames being in the decoder. */
  admit(frame: EncodedVideoFrame, decodeBacklog: number): GateVerdict {
    if (this.waitingForKeyframe && !frame.keyframe) {
      this.counters.awaitingKeyframe++;
      if (this.now() - this.lastRequest > this.o.retryMs) this.request();
      return { pass: false, reason: 'awaitingKeyframe' };
    }
    this.waitingForKeyframe = false;
    const announced = frame.keyframe ? vp8KeyframeSize(frame.data) : null;
    if (announced && announced.width * announced.height > this.o.maxFramePixels) {
      this.waitingForKeyframe = true;
      this.counters.tooLarge++;
      return { pass: false, reason: 'tooLarge', ...announced };
    }
    // a decoder that cannot keep up must not build a queue
    if (decodeBacklog >= this.o.maxDecodeBacklog) {
      this.counters.decodeBacklog++;
      this.needKeyframe();
      return { pass: false, reason: 'decodeBacklog' };
    }
    this.counters.passed++;
    return { pass: true };
  }

  stats(): Readonly<KeyframeGateStats> {
    return { ...this.counters };
  }

  private request(): void {
    this.lastRequest = this.now();
    this.counters.keyframeRequests++;
    this.o.requestKeyframe();
  }
}
