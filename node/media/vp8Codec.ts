/**
 * VP8 in and out through libvpx compiled to WebAssembly (@libav.js/variant-webm): the live server decodes what
 * browsers send, the Node client encodes what it streams. Synchronous calls on an instance that lives in the
 * calling thread: run these in a worker (a 640x480 frame costs a few milliseconds, and WebRTC runs on the main
 * thread). Frames are tight I420 (BT.601 limited range, as the engine's crop expects).
 */
import LibAVFactory from '@libav.js/variant-webm';
import { InputError } from '../../shared/errors.js';

type LibAV = Awaited<ReturnType<typeof LibAVFactory.LibAV>>;

export interface I420Frame {
  readonly width: number;
  readonly height: number;
  /** Y (width*height), then U and V ((width+1)/2 * (height+1)/2 each) */
  readonly data: Uint8Array;
}

export interface EncodedVp8 {
  readonly data: Uint8Array;
  readonly keyframe: boolean;
}

async function loadLibav(): Promise<LibAV> {
  const libav = await LibAVFactory.LibAV({ noworker: true, nothreads: true });
  // libvpx announces its version, size changes and each corrupt frame on stderr; callers count errors instead
  await libav.av_log_set_level(libav.AV_LOG_FATAL);
  return libav;
}

export class Vp8Decoder {
  private constructor(
    private readonly libav: LibAV,
    private readonly c: number,
    private readonly pkt: number,
    private readonly frame: number,
  ) {}

  static async create(): Promise<Vp8Decoder> {
    const libav = await loadLibav();
    const [, c, pkt, frame] = await libav.ff_init_decoder('libvpx');
    return new Vp8Decoder(libav, c, pkt, frame);
  }

  /** One VP8 frame (as depacketized from RTP) in; the picture out, or null if the decoder holds it. */
  async decode(data: Uint8Array): Promise<I420Frame | null> {
    const frames = await this.libav.ff_decode_multi(this.c, this.pkt, this.frame, [{ data }], { ignoreErrors: false });
    const f = frames[frames.length - 1];
    return f ? tightI420(f) : null;
  }

  async close(): Promise<void> {
    await this.libav.ff_free_decoder(this.c, this.pkt, this.frame);
  }
}

export interface Vp8EncoderOptions {
  readonly width: number;
  readonly height: number;
  readonly bitrate: number;
  readonly fps: number;
  /** a keyframe at least every this many frames */
  readonly keyframeInterval: number;
}

export class Vp8Encoder {
  private pts = 0;
  private forceKey = false;

  private constructor(
    private readonly libav: LibAV,
    private readonly c: number,
    private readonly frame: number,
    private readonly pkt: number,
    readonly options: Vp8EncoderOptions,
  ) {}

  static async create(o: Vp8EncoderOptions): Promise<Vp8Encoder> {
    if (!(o.width >= 16 && o.height >= 16 && o.width % 2 === 0 && o.height % 2 === 0)) throw new InputError(`VP8 encoder: even sizes of at least 16 needed, got ${o.width}x${o.height}`);
    const libav = await loadLibav();
    const [, c, frame, pkt] = await libav.ff_init_encoder('libvpx', {
      ctx: { bit_rate: o.bitrate, pix_fmt: libav.AV_PIX_FMT_YUV420P, width: o.width, height: o.height, framerate_num: o.fps, framerate_den: 1, gop_size: o.keyframeInterval },
      time_base: [1, o.fps],
      // live: no look-ahead, fastest preset (a browser's own encoder makes the same trade)
      options: { deadline: 'realtime', 'cpu-used': '8', 'lag-in-frames': '0', 'error-resilient': '1' },
    });
    return new Vp8Encoder(libav, c, frame, pkt, o);
  }

  /** The next frame is a keyframe (answering a receiver's picture-loss indication). */
  requestKeyframe(): void {
    this.forceKey = true;
  }

  async encode(f: I420Frame): Promise<EncodedVp8[]> {
    const { width, height } = this.options;
    if (f.width !== width || f.height !== height) throw new InputError(`VP8 encoder: frame ${f.width}x${f.height}, encoder ${width}x${height}`);
    const frame = { data: f.data, format: this.libav.AV_PIX_FMT_YUV420P, width, height, pts: this.pts++, key_frame: this.forceKey ? 1 : 0, pict_type: this.forceKey ? 1 : 0 };
    this.forceKey = false;
    const packets = await this.libav.ff_encode_multi(this.c, this.frame, this.pkt, [frame]);
    // AV_PKT_FLAG_KEY = 1
    return packets.map((p) => ({ data: p.data, keyframe: ((p.flags ?? 0) & 1) === 1 }));
  }

  async close(): Promise<void> {
    await this.libav.ff_free_encoder(this.c, this.frame, this.pkt);
  }
}

/** libav's planes carry row padding; the engine wants them tight. */
function tightI420(f: { data: Uint8Array; width?: number; height?: number; layout?: { offset: number; stride: number }[] }): I420Frame {
  const width = f.width ?? 0, height = f.height ?? 0;
  const cw = (width + 1) >> 1, ch = (height + 1) >> 1;
  const out = new Uint8Array(width * height + 2 * cw * ch);
  const layout = f.layout ?? [{ offset: 0, stride: width }, { offset: width * height, stride: cw }, { offset: width * height + cw * ch, stride: cw }];
  let at = 0;
  [[width, height], [cw, ch], [cw, ch]].forEach(([w, h], p) => {
    const { offset, stride } = layout[p];
    for (let y = 0; y < h; y++, at += w) out.set(f.data.subarray(offset + y * stride, offset + y * stride + w), at);
  });
  return { width, height, data: out };
}
