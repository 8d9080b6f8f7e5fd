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

/** How a view of the frame is resampled beyond the model crop's defaults. */
export interface ResampleOptions {
  /**
   * the value (0..1, every channel) of crop pixels outside the frame; by default the edge pixels are repeated
   * (a face at the border keeps a plausible context rather than a black band)
   */
  readonly fill?: number;
}

/**
 * Bilinear resampling of the crop into [3*S*S] RGB channels first, 0..1. Outside the frame the edge pixels are
 * repeated unless `fill` says otherwise.
 */
export function cropToModelInput(frame: FramePixels, placement: CropPlacement, out = new Float32Array(3 * placement.size * placement.size), o: ResampleOptions = {}): Float32Array {
  checkFrame(frame);
  if (placement.angle === 0) bilinear(frame, placement, out);
  else turnedBilinear(frame, placement, out);
  if (o.fill !== undefined) fillOutside(frame, placement, out, o.fill);
  return out;
}

/**
 * The same resampling for a turned crop: each crop pixel's frame position mixes both axes, so the taps are found
 * per pixel rather than per row and column (about twice the work of an upright crop).
 */
function turnedBilinear(frame: FramePixels, placement: CropPlacement, out: Float32Array): void {
  const S = placement.size, W = frame.width, H = frame.height, n = S * S, d = frame.data;
  const cw = (W + 1) >> 1, ch = (H + 1) >> 1, uOff = W * H, vOff = uOff + cw * ch;
  for (let yc = 0; yc < S; yc++) {
    for (let xc = 0; xc < S; xc++) {
      const fx = Math.min(W - 1, Math.max(0, placement.frameX(xc, yc))), fy = Math.min(H - 1, Math.max(0, placement.frameY(xc, yc)));
      const a = Math.min(W - 2, Math.floor(fx)), ya = Math.min(H - 2, Math.floor(fy));
      const x0 = Math.max(0, a), x1 = Math.min(W - 1, a + 1), y0 = Math.max(0, ya), y1 = Math.min(H - 1, ya + 1);
      const wx = fx - a, wy = fy - ya, o = yc * S + xc;
      const lerp2 = (p00: number, p01: number, p10: number, p11: number) => (p00 * (1 - wx) + p01 * wx) * (1 - wy) + (p10 * (1 - wx) + p11 * wx) * wy;
      if (frame.format === 'rgb') {
        for (let k = 0; k < 3; k++) out[k * n + o] = lerp2(d[(y0 * W + x0) * 3 + k], d[(y0 * W + x1) * 3 + k], d[(y1 * W + x0) * 3 + k], d[(y1 * W + x1) * 3 + k]) / 255;
        continue;
      }
      const Y = 1.164 * (lerp2(d[y0 * W + x0], d[y0 * W + x1], d[y1 * W + x0], d[y1 * W + x1]) - 16);
      const c00 = (y0 >> 1) * cw + (x0 >> 1), c01 = (y0 >> 1) * cw + (x1 >> 1), c10 = (y1 >> 1) * cw + (x0 >> 1), c11 = (y1 >> 1) * cw + (x1 >> 1);
      const U = lerp2(d[uOff + c00], d[uOff + c01], d[uOff + c10], d[uOff + c11]) - 128;
      const V = lerp2(d[vOff + c00], d[vOff + c01], d[vOff + c10], d[vOff + c11]) - 128;
      out[o] = clamp255(Y + 1.596 * V) / 255;
      out[n + o] = clamp255(Y - 0.392 * U - 0.813 * V) / 255;
      out[2 * n + o] = clamp255(Y + 2.017 * U) / 255;
    }
  }
}

function bilinear(frame: FramePixels, placement: CropPlacement, out: Float32Array): Float32Array {
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
  // upright: crop column k samples frame x frameX(k, ·) whatever the row, and row k frame y frameY(·, k)
  for (let k = 0; k < S; k++) {
    taps(placement.frameX(k, 0), W, x0, x1, tx, k);
    taps(placement.frameY(0, k), H, y0, y1, ty, k);
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

/** Crop pixels whose centre lies outside the frame get `value` in every channel. */
function fillOutside(frame: FramePixels, placement: CropPlacement, out: Float32Array, value: number): void {
  const S = placement.size, n = S * S;
  for (let yc = 0; yc < S; yc++) {
    for (let xc = 0; xc < S; xc++) {
      const x = placement.frameX(xc, yc), y = placement.frameY(xc, yc);
      if (x >= -0.5 && x <= frame.width - 0.5 && y >= -0.5 && y <= frame.height - 0.5) continue;
      const o = yc * S + xc;
      out[o] = out[n + o] = out[2 * n + o] = value;
    }
  }
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

/**
 * The frame at half its size (each pixel the mean of a 2×2 block; an odd last row or column averages what it
 * has), as packed RGB: frame pixel x is pixel (x + 0.5) / 2 − 0.5 of the result. Views that shrink a large frame
 * many times over (the detector's whole-frame views) sample a halving of it, which bilinear sampling alone
 * would alias. I420 chroma is already at half size: each output pixel converts once.
 */
export function halveFrame(frame: FramePixels): FramePixels & { format: 'rgb' } {
  checkFrame(frame);
  const W = frame.width, H = frame.height, w = (W + 1) >> 1, h = (H + 1) >> 1, d = frame.data;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const y0 = 2 * y, y1 = Math.min(H - 1, y0 + 1);
    for (let x = 0; x < w; x++) {
      const x0 = 2 * x, x1 = Math.min(W - 1, x0 + 1), o = (y * w + x) * 3;
      if (frame.format === 'rgb') {
        const a = (y0 * W + x0) * 3, b = (y0 * W + x1) * 3, c = (y1 * W + x0) * 3, e = (y1 * W + x1) * 3;
        data[o] = (d[a] + d[b] + d[c] + d[e] + 2) >> 2;
        data[o + 1] = (d[a + 1] + d[b + 1] + d[c + 1] + d[e + 1] + 2) >> 2;
        data[o + 2] = (d[a + 2] + d[b + 2] + d[c + 2] + d[e + 2] + 2) >> 2;
      } else {
        const Y = 1.164 * ((d[y0 * W + x0] + d[y0 * W + x1] + d[y1 * W + x0] + d[y1 * W + x1]) / 4 - 16);
        const U = d[W * H + y * w + x] - 128, V = d[W * H + w * h + y * w + x] - 128;
        data[o] = clamp255(Y + 1.596 * V + 0.5);
        data[o + 1] = clamp255(Y - 0.392 * U - 0.813 * V + 0.5);
        data[o + 2] = clamp255(Y + 2.017 * U + 0.5);
      }
    }
  }
  return { format: 'rgb', width: w, height: h, data };
}
