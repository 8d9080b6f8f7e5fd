/**
 * The square face crop: the resampling of RGB or I420 frames into the model's input (RGB, channels first, 0..1);
 * where it lies in the frame and its focal length are CropPlacement's (shared: the client places maps with it).
 *
 * Coordinates: pixel centres at integers in both the frame and the crop (as everywhere in the project).
 */
import { CropPlacement } from '../../shared/cropPlacement.js';
import { InputError } from '../../shared/errors.js';

/** A decoded frame: packed RGB (3 bytes per pixel) or planar I420 (BT.601 limited range). */
export type FramePixels =
  | { readonly format: 'rgb'; readonly width: number; readonly height: number; readonly data: Uint8Array }
  | { readonly format: 'i420'; readonly width: number; readonly height: number; readonly data: Uint8Array };

function checkFrame(f: FramePixels): void {
  const need = f.format === 'rgb' ? f.width * f.height * 3 : f.width * f.height + 2 * ((f.width + 1) >> 1) * ((f.height + 1) >> 1);
  if (!(f.width >= 2 && f.height >= 2) || f.data.length !== need) {
    throw new InputError(`${f.format} frame ${f.width}x${f.height} needs ${need} bytes, got ${f.data.length}`);
  }
}

/**
 * Bilinear resampling of the crop into [3*S*S] RGB channels first, 0..1. Outside the frame the edge pixels are
 * repeated (a face at the border keeps a plausible context rather than a black band).
 */
export function cropToModelInput(frame: FramePixels, placement: CropPlacement, out = new Float32Array(3 * placement.size * placement.size)): Float32Array {
  checkFrame(frame);
  const S = placement.size, W = frame.width, H = frame.height, n = S * S;
  // per column and row: the two source pixels and the weight of the second (edges repeat outside the frame)
  const x0 = new Int32Array(S), x1 = new Int32Array(S), tx = new Float32Array(S);
  const y0 = new Int32Array(S), y1 = new Int32Array(S), ty = new Float32Array(S);
  const taps = (v: number, size: number, i0: Int32Array, i1: Int32Array, t: Float32Array, k: number) => {
    const f = Math.min(size - 1, Math.max(0, v));
    const a = Math.min(size - 2, Math.floor(f));
    i0[k] = Math.max(0, a);
    i1[k] = Math.min(size - 1, a + 1);
    t[k] = f - a;
  };
  for (let k = 0; k < S; k++) {
    taps(placement.frameX(k), W, x0, x1, tx, k);
    taps(placement.frameY(k), H, y0, y1, ty, k);
  }
  const d = frame.data;
  if (frame.format === 'rgb') {
    for (let yc = 0; yc < S; yc++) {
      const ra = y0[yc] * W, rb = y1[yc] * W, wy = ty[yc];
      for (let xc = 0; xc < S; xc++) {
        const a = x0[xc], b = x1[xc], wx = tx[xc];
        const o = yc * S + xc;
        for (let k = 0; k < 3; k++) {
          const top = d[(ra + a) * 3 + k] * (1 - wx) + d[(ra + b) * 3 + k] * wx;
          const bottom = d[(rb + a) * 3 + k] * (1 - wx) + d[(rb + b) * 3 + k] * wx;
          out[k * n + o] = (top * (1 - wy) + bottom * wy) / 255;
        }
      }
    }
    return out;
  }
  // I420 (BT.601 limited range): interpolate Y, U and V, then convert once per output pixel
  const cw = (W + 1) >> 1, ch = (H + 1) >> 1, uOff = W * H, vOff = uOff + cw * ch;
  for (let yc = 0; yc < S; yc++) {
    const ya = y0[yc], yb = y1[yc], wy = ty[yc];
    const ca = (ya >> 1) * cw, cb = (yb >> 1) * cw;
    for (let xc = 0; xc < S; xc++) {
      const a = x0[xc], b = x1[xc], wx = tx[xc];
      const lerp2 = (p00: number, p01: number, p10: number, p11: number) => (p00 * (1 - wx) + p01 * wx) * (1 - wy) + (p10 * (1 - wx) + p11 * wx) * wy;
      const Y = 1.164 * (lerp2(d[ya * W + a], d[ya * W + b], d[yb * W + a], d[yb * W + b]) - 16);
      const ua = a >> 1, ub = b >> 1;
      const U = lerp2(d[uOff + ca + ua], d[uOff + ca + ub], d[uOff + cb + ua], d[uOff + cb + ub]) - 128;
      const V = lerp2(d[vOff + ca + ua], d[vOff + ca + ub], d[vOff + cb + ua], d[vOff + cb + ub]) - 128;
      const o = yc * S + xc;
      out[o] = clamp255(Y + 1.596 * V) / 255;
      out[n + o] = clamp255(Y - 0.392 * U - 0.813 * V) / 255;
      out[2 * n + o] = clamp255(Y + 2.017 * U) / 255;
    }
  }
  return out;
}

const clamp255 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);

/** An S x S RGB image that already is the model's crop (generator frames, fixtures), channels first, 0..1. */
export function imageToModelInput(rgb: Uint8Array, S: number): Float32Array {
  const whole = new CropPlacement({ centerX: (S - 1) / 2, centerY: (S - 1) / 2, side: S }, S);
  return cropToModelInput({ format: 'rgb', width: S, height: S, data: rgb }, whole);
}

/** The model input back as packed RGB bytes (previews, pictures of what the model saw). */
export function modelInputToRgb(chw: Float32Array, S: number): Uint8Array {
  const n = S * S, rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) rgb[i * 3 + k] = Math.round(chw[k * n + i] * 255);
  return rgb;
}
