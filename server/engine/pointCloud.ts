/**
 * A face result as a point cloud with normals: every crop pixel of template surface, back-projected with its
 * metric depth through the frame's intrinsics; normals from the cross product of neighbouring points; colours
 * from the frame.
 */
import { hasCanonical } from '../../shared/parts.js';
import type { FramePixels } from './crop.js';
import type { FaceResult } from './types.js';

/** A face's points in the camera frame (the PLY exporter writes them). */
export interface PointCloud {
  /** [n*3] metres, camera frame */
  readonly positions: Float32Array;
  /** [n*3] unit normals */
  readonly normals: Float32Array;
  /** [n*3] sRGB */
  readonly colors: Uint8Array;
}

export function pointCloud(result: Extract<FaceResult, { kind: 'face' }>, frame?: FramePixels): PointCloud {
  const { maps, placement, intrinsics: K } = result;
  const S = maps.size;
  const idx = new Int32Array(S * S).fill(-1);
  const P = new Float32Array(S * S * 3);
  let n = 0;
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
    const i = y * S + x;
    if (!hasCanonical(maps.mask[i])) continue;
    const d = maps.depth[i];
    const fx = placement.frameX(x, y), fy = placement.frameY(x, y);
    P[i * 3] = ((fx - K.cx) / K.fx) * d;
    P[i * 3 + 1] = ((fy - K.cy) / K.fy) * d;
    P[i * 3 + 2] = d;
    idx[i] = n++;
  }
  const positions = new Float32Array(n * 3), normals = new Float32Array(n * 3), colors = new Uint8Array(n * 3);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
    const i = y * S + x, j = idx[i];
    if (j < 0) continue;
    positions.set(P.subarray(i * 3, i * 3 + 3), j * 3);
    // neighbours right/left and down/up where they are surface too
    const pick = (a: number, b: number) => (a >= 0 && a < S * S && idx[a] >= 0 ? a : b >= 0 && b < S * S && idx[b] >= 0 ? b : -1);
    const r = x + 1 < S ? pick(i + 1, -1) : -1, l = x > 0 ? pick(i - 1, -1) : -1;
    const dn = pick(i + S, -1), up = pick(i - S, -1);
    const ax = r >= 0 ? r : i, bx = l >= 0 ? l : i, ay = dn >= 0 ? dn : i, by = up >= 0 ? up : i;
    const u = [P[ax * 3] - P[bx * 3], P[ax * 3 + 1] - P[bx * 3 + 1], P[ax * 3 + 2] - P[bx * 3 + 2]];
    const v = [P[ay * 3] - P[by * 3], P[ay * 3 + 1] - P[by * 3 + 1], P[ay * 3 + 2] - P[by * 3 + 2]];
    let nx = u[1] * v[2] - u[2] * v[1], ny = u[2] * v[0] - u[0] * v[2], nz = u[0] * v[1] - u[1] * v[0];
    const len = Math.sqrt(nx * nx + ny * ny + nz * nz) || 1;
    nx /= len; ny /= len; nz /= len;
    // towards the camera
    if (nx * P[i * 3] + ny * P[i * 3 + 1] + nz * P[i * 3 + 2] > 0) (nx = -nx), (ny = -ny), (nz = -nz);
    normals[j * 3] = nx;
    normals[j * 3 + 1] = ny;
    normals[j * 3 + 2] = nz;
    if (frame && frame.format === 'rgb') {
      const fxp = Math.min(frame.width - 1, Math.max(0, Math.round(placement.frameX(x, y))));
      const fyp = Math.min(frame.height - 1, Math.max(0, Math.round(placement.frameY(x, y))));
      colors.set(frame.data.subarray((fyp * frame.width + fxp) * 3, (fyp * frame.width + fxp) * 3 + 3), j * 3);
    } else colors.fill(200, j * 3, j * 3 + 3);
  }
  return { positions, normals, colors };
}
