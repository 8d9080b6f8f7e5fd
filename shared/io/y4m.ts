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
  const ySize = width * height;
  const cw = width >> 1, ch = height >> 1;
  const out = new Uint8Array(FRAME_TAG.length + ySize + 2 * cw * ch);
  out.set(FRAME_TAG);
  const Y = FRAME_TAG.length, U = Y + ySize, V = U + cw * ch;
  for (let i = 0, p = 0; i < ySize; i++, p += 3) {
    out[Y + i] = Math.round(16 + 0.257 * rgb[p] + 0.504 * rgb[p + 1] + 0.098 * rgb[p + 2]);
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
