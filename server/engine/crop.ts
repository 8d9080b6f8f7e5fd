/**
 * The square face crop: where it lies in the frame, how crop pixels map back to frame pixels, its focal length,
 * and the resampling of RGB or I420 frames into the model's input (RGB, channels first, 0..1).
 *
 * Coordinates: pixel centres at integers in both the frame and the crop (as everywhere in the project).
 */
import { InputError } from '../../shared/errors.js';

/** A square region of the frame, in frame pixels. */
export interface CropBox {
  readonly centerX: number;
  readonly centerY: number;
  /** side length, frame pixels */
  readonly side: number;
}

/** A decoded frame: packed RGB (3 bytes per pixel) or planar I420 (BT.601 limited range). */
export type FramePixels =
  | { readonly format: 'rgb'; readonly width: number; readonly height: number; readonly data: Uint8Array }
  | { readonly format: 'i420'; readonly width: number; readonly height: number; readonly data: Uint8Array };

export class CropPlacement {
  /** frame pixels per crop pixel */
  readonly scale: number;

  constructor(
    readonly box: CropBox,
    /** crop side, pixels (the model's crop_size) */
    readonly size: number,
  ) {
    if (!(box.side > 0) || !Number.isFinite(box.side)) throw new InputError(`crop side must be positive, got ${box.side}`);
    this.scale = box.side / size;
  }

  /** Frame x of crop x (either may be fractional). */
  frameX(xc: number): number {
    return this.box.centerX + (xc - (this.size - 1) / 2) * this.scale;
  }

  frameY(yc: number): number {
    return this.box.centerY + (yc - (this.size - 1) / 2) * this.scale;
  }

  cropX(xf: number): number {
    return (xf - this.box.centerX) / this.scale + (this.size - 1) / 2;
  }

  cropY(yf: number): number {
    return (yf - this.box.centerY) / this.scale + (this.size - 1) / 2;
  }

  /** The crop's focal length in crop pixels, for a frame focal length in frame pixels. */
  focalPx(frameFocalPx: number): number {
    return frameFocalPx / this.scale;
  }
}

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
  const cw = (W + 1) >> 1, chH = (H + 1) >> 1;
  const uOff = W * H, vOff = uOff + cw * chH;
  const d = frame.data;
  const rgbAt = (x: number, y: number, k: number): number => {
    if (frame.format === 'rgb') return d[(y * W + x) * 3 + k];
    const Y = 1.164 * (d[y * W + x] - 16);
    const c = (y >> 1) * cw + (x >> 1);
    const U = d[uOff + c] - 128, V = d[vOff + c] - 128;
    const v = k === 0 ? Y + 1.596 * V : k === 1 ? Y - 0.392 * U - 0.813 * V : Y + 2.017 * U;
    return v < 0 ? 0 : v > 255 ? 255 : v;
  };
  for (let yc = 0; yc < S; yc++) {
    const fy = Math.min(H - 1, Math.max(0, placement.frameY(yc)));
    const y0 = Math.min(H - 2, Math.floor(fy)), ty = fy - y0, y1 = Math.min(H - 1, y0 + 1);
    for (let xc = 0; xc < S; xc++) {
      const fx = Math.min(W - 1, Math.max(0, placement.frameX(xc)));
      const x0 = Math.min(W - 2, Math.floor(fx)), tx = fx - x0, x1 = Math.min(W - 1, x0 + 1);
      for (let k = 0; k < 3; k++) {
        const top = rgbAt(Math.max(0, x0), Math.max(0, y0), k) * (1 - tx) + rgbAt(x1, Math.max(0, y0), k) * tx;
        const bottom = rgbAt(Math.max(0, x0), y1, k) * (1 - tx) + rgbAt(x1, y1, k) * tx;
        out[k * n + yc * S + xc] = (top * (1 - ty) + bottom * ty) / 255;
      }
    }
  }
  return out;
}

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
