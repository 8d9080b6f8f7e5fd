/**
 * Where the model's square face crop lies in the frame, how crop pixels map to frame pixels and back, and its focal
 * length: the server crops with it, the client places the maps it receives with it.
 *
 * Coordinates: pixel centres at integers in both the frame and the crop (as everywhere in the project).
 */
import { InputError } from './errors.js';

/** A square region of the frame, in frame pixels. */
export interface CropBox {
  readonly centerX: number;
  readonly centerY: number;
  /** side length, frame pixels */
  readonly side: number;
}

/** A crop box in the frame and the crop's side in pixels (the model's crop_size). */
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
