/**
 * Head pose from one frame's maps. Every third face pixel (in x and y) whose predicted canonical coordinate lies
 * on the rigid part of the face is one correspondence (template point → pixel, depth): hundreds of them, no
 * lookup needed. A robust 3D fit of the back-projected points gives a first pose; their image positions refine
 * it (poseRefine.ts), since the model's depth errors (per cent of the distance) would otherwise tilt the head.
 */
import { PartId } from '../../../shared/parts.js';
import type { CropPlacement } from '../../../shared/cropPlacement.js';
import type { FrameIntrinsics } from '../types.js';
import { fitHeadPose, type RigidPose } from './headPose.js';
import { refinePoseByReprojection, REFINE_DEFAULTS } from './poseRefine.js';
import type { RigidRegion } from './rigidRegion.js';

export interface PoseMaps {
  /** [3*S*S] channels first, metres */
  readonly canonical: Float32Array;
  /** [S*S] metres */
  readonly depth: Float32Array;
  /** [S*S] */
  readonly confidence: Float32Array;
  /** [S*S] PartId */
  readonly mask: Uint8Array;
}

export function poseFromMaps(maps: PoseMaps, placement: CropPlacement, K: FrameIntrinsics, region: RigidRegion): RigidPose | null {
  const S = placement.size, n = S * S;
  const template: number[] = [], observed: number[] = [], weights: number[] = [], pixels: number[] = [], depth: number[] = [];
  for (let y = 1; y < S; y += 3) for (let x = 1; x < S; x += 3) {
    const i = y * S + x;
    if (maps.mask[i] !== PartId.FACE_SKIN && maps.mask[i] !== PartId.HEAD_SKIN) continue;
    const cx = maps.canonical[i], cy = maps.canonical[n + i], cz = maps.canonical[2 * n + i];
    if (!region.has(cx, cy, cz)) continue;
    const d = maps.depth[i];
    if (!(d > 0)) continue;
    const fx = placement.frameX(x, y), fy = placement.frameY(x, y);
    template.push(cx, cy, cz);
    observed.push(((fx - K.cx) / K.fx) * d, ((fy - K.cy) / K.fy) * d, d);
    pixels.push(fx, fy);
    depth.push(d);
    weights.push(maps.confidence[i]);
  }
  const coarse = fitHeadPose(template, observed, weights);
  if (!coarse) return null;
  const refined = refinePoseByReprojection({ template, pixels, depth, weights }, K, coarse, { ...REFINE_DEFAULTS, pixelSigma: 1.5 * placement.scale });
  return refined ?? coarse;
}
