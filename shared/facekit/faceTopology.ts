/**
 * facekit's polygons as triangles, with the part of each. Triangle ids are stable and documented:
 * polygon p becomes triangles 2p (corners 0,1,2) and 2p+1 (corners 0,2,3); for a polygon that is already a
 * triangle, 2p+1 is unused (its vertices are -1). So `polygon = triangleId >> 1`.
 */
import { FACEKIT_PART_MASK } from '../parts.js';
import { AssetError } from '../errors.js';
import type { FacekitModel } from './facekitModel.js';

export interface FaceTopology {
  /** 2 * polygonCount */
  readonly triangleCount: number;
  /** [T*3] vertex indices, -1 for an unused slot */
  readonly triangles: Int32Array;
  /** [T*3] uv indices, -1 for an unused slot */
  readonly triangleUvs: Int32Array;
  /** [T] mask PartId of each triangle; 255 for triangles that are never rendered (transparent overlays, unused) */
  readonly triangleMask: Uint8Array;
  /** [T] index into model.parts */
  readonly trianglePart: Uint8Array;
  /** [V] mask PartId of each vertex (255: not rendered) */
  readonly vertexMask: Uint8Array;
}

export const NOT_RENDERED = 255;

export function buildFaceTopology(model: FacekitModel): FaceTopology {
  const P = model.polygonCount;
  const triangles = new Int32Array(P * 6).fill(-1);
  const triangleUvs = new Int32Array(P * 6).fill(-1);
  const triangleMask = new Uint8Array(P * 2).fill(NOT_RENDERED);
  const trianglePart = new Uint8Array(P * 2);
  const vertexMask = new Uint8Array(model.vertexCount).fill(NOT_RENDERED);
  const polyPart = new Uint8Array(P).fill(255);
  model.parts.forEach((part, pi) => {
    if (!(part.name in FACEKIT_PART_MASK)) throw new AssetError(`facekit: unknown part "${part.name}": no mask id for it`);
    const mask = FACEKIT_PART_MASK[part.name] ?? NOT_RENDERED;
    for (let p = part.polygons[0]; p <= part.polygons[1]; p++) polyPart[p] = pi;
    for (let v = part.vertices[0]; v <= part.vertices[1]; v++) vertexMask[v] = mask;
  });
  const pv = model.polygons;
  const pu = model.polygonUvs;
  for (let p = 0; p < P; p++) {
    const pi = polyPart[p];
    if (pi === 255) throw new AssetError(`facekit: polygon ${p} belongs to no part`);
    const mask = FACEKIT_PART_MASK[model.parts[pi].name] ?? NOT_RENDERED;
    const o = p * 4;
    const t0 = p * 2;
    for (const [t, a, b, c] of [[t0, 0, 1, 2], [t0 + 1, 0, 2, 3]] as const) {
      if (pv[o + c] < 0) continue;
      triangles[t * 3] = pv[o + a];
      triangles[t * 3 + 1] = pv[o + b];
      triangles[t * 3 + 2] = pv[o + c];
      triangleUvs[t * 3] = pu[o + a];
      triangleUvs[t * 3 + 1] = pu[o + b];
      triangleUvs[t * 3 + 2] = pu[o + c];
      triangleMask[t] = mask;
      trianglePart[t] = pi;
    }
  }
  return { triangleCount: P * 2, triangles, triangleUvs, triangleMask, trianglePart, vertexMask };
}
