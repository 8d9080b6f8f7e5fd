/**
 * YUV4MPEG2 (.y4m), 4:2:0: the format Chromium's fake camera (--use-file-for-fake-video-capture) and ffmpeg read.
 * RGB is converted with BT.601 limited-range coefficients, which is what decoders assume for untagged video.
 */
import { InputError } from '../errors.js';

export function y4mHeader(width: number, height: number, fps: number): Uint8Array {
  if (width % 2 || height % 2) throw new InputError(`y4m 4:2:0 needs even sizes, got ${width}x${height}`);
  return new TextEncoder().encode(`YUV4MPEG2 W${width} H${height} F${Math.round(fps)}:1 Ip A1:1 C420jpeg\n`);
}

const FRAME_TAG = new TextEncoder().encode('FRAME\n');

/** One frame record (FRAME tag + Y, U, V planes) from [H*W*3] RGB. */
export function y4mFrame(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(FRAME_TAG.length + i420Size(width, height));
  out.set(FRAME_TAG);
  rgbToI420(rgb, width, height, out.subarray(FRAME_TAG.length));
  return out;
}

/** A whole .y4m file from frames that are already planar I420 (Y, U, V). */
export function y4mFile(width: number, height: number, fps: number, i420Frames: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat([y4mHeader(width, height, fps), ...i420Frames.flatMap((f) => [FRAME_TAG, f])]);
}

function i420Size(width: number, height: number): number {
  return width * height + 2 * (width >> 1) * (height >> 1);
}

/** [H*W*3] RGB to planar I420 (BT.601 limited range, chroma averaged over 2x2), into `out` when given. */
export function rgbToI420(rgb: Uint8Array, width: number, height: number, out = new Uint8Array(i420Size(width, height))): Uint8Array {
  const ySize = width * height;
  const cw = width >> 1, ch = height >> 1;
  const U = ySize, V = U + cw * ch;
  for (let i = 0, p = 0; i < ySize; i++, p += 3) {
    out[i] = Math.round(16 + 0.257 * rgb[p] + 0.504 * rgb[p + 1] + 0.098 * rgb[p + 2]);
  }
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      let r = 0, g = 0, b = 0;
      for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
        const p = ((2 * y + dy) * width + 2 * x + dx) * 3;
        r += rgb[p];
        g += rgb[p + 1];
        b += rgb[p + 2];
      }
      r /= 4;
      g /= 4;
      b /= 4;
      out[U + y * cw + x] = Math.round(128 - 0.148 * r - 0.291 * g + 0.439 * b);
      out[V + y * cw + x] = Math.round(128 + 0.439 * r - 0.368 * g - 0.071 * b);
    }
  }
  return out;
}
