/**
 * Encoded frames decoded in order, one at a time (VP8 frames depend on the ones before), each decoded picture
 * handed on with how long it took. A frame the decoder rejects is counted and dropped; a picture larger than the
 * server runs (a keyframe's header said otherwise) is decoded but handed to `onTooLarge` instead.
 */
import { InvalidStateError } from '../../shared/errors.js';
import type { I420Frame } from '../../node/media/vp8Codec.js';

export interface DecodedPicture extends I420Frame {
  /** RTP timestamp (90 kHz) of the frame: its id on the way back */
  readonly frameId: number;
  readonly decodeMs: number;
  /** performance.now() when it was decoded */
  readonly decodedAt: number;
}

export interface PictureDecoder {
  decode(data: Uint8Array): Promise<I420Frame | null>;
}

export interface DecodeChainOptions {
  readonly maxFramePixels: number;
  readonly onPicture: (p: DecodedPicture) => void;
  readonly onTooLarge: (width: number, height: number, frameId: number) => void;
}

export interface DecodeChainStats {
  decoded: number;
  /** frames the decoder rejected */
  decodeErrors: number;
  /** decoded pictures above the size limit */
  tooLarge: number;
  /** frames in the chain now */
  backlog: number;
}

export class DecodeChain {
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly counters: DecodeChainStats = { decoded: 0, decodeErrors: 0, tooLarge: 0, backlog: 0 };

  constructor(private readonly decoder: PictureDecoder, private readonly o: DecodeChainOptions) {}

  get backlog(): number {
    return this.counters.backlog;
  }

  push(data: Uint8Array, frameId: number): void {
    if (this.closed) return;
    this.counters.backlog++;
    this.chain = this.chain.then(() => this.decode(data, frameId)).finally(() => this.counters.backlog--);
  }

  /** Resolves when every frame pushed so far has been decoded (or dropped). */
  drained(): Promise<void> {
    return this.chain;
  }

  /** Frames still in the chain are dropped uncounted. */
  close(): void {
    this.closed = true;
  }

  stats(): Readonly<DecodeChainStats> {
    return { ...this.counters };
  }

  private async decode(data: Uint8Array, frameId: number): Promise<void> {
    if (this.closed) return;
    try {
      const t0 = performance.now();
      const pic = await this.decoder.decode(data);
      if (!pic || this.closed) return;
      this.counters.decoded++;
      if (pic.width * pic.height > this.o.maxFramePixels) {
        this.counters.tooLarge++;
        this.o.onTooLarge(pic.width, pic.height, frameId);
        return;
      }
      const decodedAt = performance.now();
      this.o.onPicture({ ...pic, frameId, decodeMs: decodedAt - t0, decodedAt });
    } catch (e) {
      if (e instanceof InvalidStateError) return; // the decoder is closing
      this.counters.decodeErrors++;
    }
  }
}
