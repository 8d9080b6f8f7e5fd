/**
 * Where the model's square face crop lies in the frame, how crop pixels map to frame pixels and back, and its focal
 * length: the server crops with it, the client places the maps it receives with it.
 *
 * Coordinates: pixel centres at integers in both the frame and the crop (as everywhere in the project).
 */
import { InputError } from './errors.js';

/** A square region of the frame, in frame pixels, turned by `angle` about its centre. */
export interface CropBox {
  readonly centerX: number;
  readonly centerY: number;
  /** side length, frame pixels */
  readonly side: number;
  /**
   * radians from the frame's x axis to the crop's x axis (frame pixels, y down: positive turns clockwise on the
   * screen); 0 or absent: an upright square. The engine turns the crop so that a rolled face stands upright in it.
   */
  readonly angle?: number;
}

/**
 * A crop box in the frame and the crop's side in pixels (the model's crop_size): crop pixel (xc, yc) lies at
 * frame pixel centre + R(angle) · (xc − m, yc − m) · scale, m = (size − 1) / 2. A turned crop mixes the axes, so each
 * mapping takes both coordinates.
 */
export class CropPlacement {
  /** frame pixels per crop pixel */
  readonly scale: number;
  readonly angle: number;
  private readonly cos: number;
  private readonly sin: number;
  private readonly mid: number;

  constructor(
    readonly box: CropBox,
    /** crop side, pixels (the model's crop_size) */
    readonly size: number,
  ) {
    if (!(box.side > 0) || !Number.isFinite(box.side)) throw new InputError(`crop side must be positive, got ${box.side}`);
    if (box.angle !== undefined && !Number.isFinite(box.angle)) throw new InputError(`crop angle must be finite, got ${box.angle}`);
    this.scale = box.side / size;
    this.angle = box.angle ?? 0;
    this.cos = Math.cos(this.angle);
    this.sin = Math.sin(this.angle);
    this.mid = (size - 1) / 2;
  }

  /** Frame x of crop pixel (xc, yc) (either may be fractional). */
  frameX(xc: number, yc: number): number {
    return this.box.centerX + ((xc - this.mid) * this.cos - (yc - this.mid) * this.sin) * this.scale;
  }

  frameY(xc: number, yc: number): number {
    return this.box.centerY + ((xc - this.mid) * this.sin + (yc - this.mid) * this.cos) * this.scale;
  }

  /** Crop x of frame pixel (x, y). */
  cropX(x: number, y: number): number {
    return this.mid + ((x - this.box.centerX) * this.cos + (y - this.box.centerY) * this.sin) / this.scale;
  }

  cropY(x: number, y: number): number {
    return this.mid + (-(x - this.box.centerX) * this.sin + (y - this.box.centerY) * this.cos) / this.scale;
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
