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

/**
 * The pixels of a map sent at every `stride`-th crop pixel (server/egress subsampleMaps picks them; the client
 * places them): map pixel j is crop pixel j*stride + ((stride-1) >> 1), the middle of each stride x stride block
 * (for even strides the one just above-left of the middle), and the map has floor(cropSize / stride) pixels a side.
 */
export class MapGrid {
  readonly size: number;
  readonly offset: number;

  constructor(
    readonly cropSize: number,
    readonly stride: number,
  ) {
    if (!Number.isInteger(stride) || stride < 1 || stride > cropSize) {
      throw new InputError(`map stride must be an integer from 1 to the crop size ${cropSize}, got ${stride}`);
    }
    this.size = Math.floor(cropSize / stride);
    this.offset = (stride - 1) >> 1;
  }

  /** The grid a received map of `mapSize` pixels a side was cut on (the smallest stride giving that size). */
  static ofMapSize(cropSize: number, mapSize: number): MapGrid {
    if (Number.isInteger(mapSize) && mapSize >= 1 && mapSize <= cropSize) {
      const stride = Math.floor(cropSize / mapSize);
      // floor(cropSize / stride) falls as the stride grows: the stride that gives mapSize, if any, is this one
      if (Math.floor(cropSize / stride) === mapSize) return new MapGrid(cropSize, stride);
    }
    throw new InputError(`a map of ${mapSize} pixels a side is no subsampling of a ${cropSize}-pixel crop`);
  }

  /** Crop pixel (x or y) of map pixel j. */
  cropPixel(j: number): number {
    return j * this.stride + this.offset;
  }
}
