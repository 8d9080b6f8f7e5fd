/**
 * Dense tracking as a lookup: a point of the template face is where the predicted canonical map holds its
 * canonical coordinate. The landmarks and the tracked points are both such lookups, placed in frame pixels.
 */
import type { CropPlacement } from '../../../shared/cropPlacement.js';
import { hasCanonical } from '../../../shared/parts.js';
import type { PointVisibility, TrackedPoint } from '../types.js';
import { CanonicalIndex } from './canonicalIndex.js';
import { LANDMARK_SEEN } from './landmarkCompletion.js';

/** A point to track: its id and canonical coordinate (metres). */
export interface PointSeed {
  readonly id: number;
  readonly canonical: readonly [number, number, number];
}

/** The index of a frame's canonical map over the pixels whose part has canonical coordinates. */
export function canonicalIndexOf(canonical: Float32Array, mask: Uint8Array, size: number): CanonicalIndex {
  const valid = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) valid[i] = hasCanonical(mask[i]) ? 1 : 0;
  return CanonicalIndex.build(canonical, size, valid);
}

/**
 * [L*3] frame x, y, seen for each landmark's canonical coordinate ([L*3] metres): seen = LANDMARK_SEEN where the
 * lookup found it within `maxDistM`, else NaN, NaN, 0 (track/landmarkCompletion.ts places those).
 */
export function lookupLandmarks(index: CanonicalIndex, canonical: Float32Array, placement: CropPlacement, maxDistM: number): Float32Array {
  const count = canonical.length / 3;
  const landmarks = new Float32Array(count * 3);
  for (let l = 0; l < count; l++) {
    const m = index.locate(canonical[l * 3], canonical[l * 3 + 1], canonical[l * 3 + 2], maxDistM);
    landmarks[l * 3] = m ? placement.frameX(m.x, m.y) : NaN;
    landmarks[l * 3 + 1] = m ? placement.frameY(m.x, m.y) : NaN;
    landmarks[l * 3 + 2] = m ? LANDMARK_SEEN : 0;
  }
  return landmarks;
}

/** Each seed in frame pixels; not found: NaN and occluded; found where the model is unsure: lowConfidence. */
export function lookupPoints(
  index: CanonicalIndex, seeds: readonly PointSeed[], placement: CropPlacement, confidence: Float32Array, minConfidence: number, maxDistM: number,
): TrackedPoint[] {
  return seeds.map((p) => {
    const m = index.locate(p.canonical[0], p.canonical[1], p.canonical[2], maxDistM);
    if (!m) return { id: p.id, x: NaN, y: NaN, visibility: 'occluded' };
    const visibility: PointVisibility = confidence[m.pixel] >= minConfidence ? 'visible' : 'lowConfidence';
    return { id: p.id, x: placement.frameX(m.x, m.y), y: placement.frameY(m.x, m.y), visibility };
  });
}
