/**
 * Decoded maps as a coloured point cloud in the camera frame (x right, y down, z forward, metres): every map pixel
 * on the face surface, back-projected with its depth through the intrinsics the server assumed. A map of size s
 * is the model's crop (cropSize) sampled on a MapGrid (server/egress subsampleMaps), which says which crop pixel
 * each map pixel is, and the crop box places crop pixels in the frame.
 */
import { CANONICAL_NORMALIZATION } from '../../shared/canonical.js';
import { CropPlacement, MapGrid } from '../../shared/cropPlacement.js';
import { hasCanonical } from '../../shared/parts.js';
import type { PlainMaps } from '../../shared/wire/mapCodec.js';
import type { CropBoxWire } from '../../shared/wire/schema.js';

export interface CloudPoints {
  /** [n*3] metres, camera frame */
  readonly positions: Float32Array;
  /** [n*3] 0..255: canonical coordinate as RGB (the same colour for the same spot of the face in every frame) */
  readonly colors: Uint8Array;
  /** [n*2] frame pixel each point came from (to colour it from the camera image) */
  readonly framePixels: Float32Array;
  readonly count: number;
}

/** Frame pixel (x, y) of map pixel (i, j). */
export function mapPixelToFrame(box: CropBoxWire, cropSize: number, mapSize: number, i: number, j: number): [number, number] {
  return mapPlacement(box, cropSize, mapSize)(i, j);
}

/** The frame pixel of each map pixel of a map of size mapSize cut from this crop. */
function mapPlacement(box: CropBoxWire, cropSize: number, mapSize: number): (i: number, j: number) => [number, number] {
  const placement = new CropPlacement(box, cropSize), grid = MapGrid.ofMapSize(cropSize, mapSize);
  return (i, j) => [placement.frameX(grid.cropPixel(i), grid.cropPixel(j)), placement.frameY(grid.cropPixel(i), grid.cropPixel(j))];
}

/** `intrinsics`: [fx, fy, cx, cy] in frame pixels (result.intrinsics). */
export function mapsToCloud(maps: PlainMaps, box: CropBoxWire, cropSize: number, intrinsics: ArrayLike<number>): CloudPoints {
  const S = maps.size, n = S * S;
  const [fx, fy, cx, cy] = [intrinsics[0], intrinsics[1], intrinsics[2], intrinsics[3]];
  const { centerM, halfExtentM } = CANONICAL_NORMALIZATION;
  const toFrame = mapPlacement(box, cropSize, S);
  let count = 0;
  for (let i = 0; i < n; i++) if (hasCanonical(maps.mask[i]) && maps.depth[i] > 0) count++;
  const positions = new Float32Array(count * 3), colors = new Uint8Array(count * 3), framePixels = new Float32Array(count * 2);
  let k = 0;
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
    const i = y * S + x, d = maps.depth[i];
    if (!hasCanonical(maps.mask[i]) || !(d > 0)) continue;
    const [u, v] = toFrame(x, y);
    positions[k * 3] = ((u - cx) / fx) * d;
    positions[k * 3 + 1] = ((v - cy) / fy) * d;
    positions[k * 3 + 2] = d;
    framePixels[k * 2] = u;
    framePixels[k * 2 + 1] = v;
    for (let c = 0; c < 3; c++) {
      const t = (maps.canonical[c * n + i] - centerM[c]) / halfExtentM;
      colors[k * 3 + c] = Math.max(0, Math.min(255, Math.round((t * 0.5 + 0.5) * 255)));
    }
    k++;
  }
  return { positions, colors, framePixels, count };
}
