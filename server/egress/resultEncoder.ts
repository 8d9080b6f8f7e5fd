/**
 * An engine result as data-channel messages (shared/wire/schema.ts): the sparse part for the reliable channel,
 * and, when due, the maps for the unordered one. The tracked mesh rides with the sparse part when the client
 * asked for it on this frame.
 */
import type { FaceResult, PointVisibility } from '../engine/engine.js';
import type { SessionMesh } from '../engine/trackedMesh.js';
import { MapGrid } from '../../shared/cropPlacement.js';
import { encodeMaps, type PlainMaps } from '../../shared/wire/mapCodec.js';
import type { MapsMessage, ResultMessage } from '../../shared/wire/schema.js';

const VISIBILITY: Record<PointVisibility, number> = { occluded: 0, lowConfidence: 1, visible: 2 };

export function encodeResult(r: FaceResult, o: { frameWidth: number; frameHeight: number; withMaps: boolean; withMesh: boolean; mesh: SessionMesh | null; mapsStride?: number; extraTimings?: Readonly<Record<string, number>> }): { result: ResultMessage; maps: MapsMessage | null } {
  const captureTimeMs = r.captureTimeMs ?? null;
  if (r.kind === 'noFace') return { result: { t: 'result', frameId: r.frameId, captureTimeMs, face: false, reason: r.reason }, maps: null };
  const points = new Float32Array(r.points.length * 3);
  r.points.forEach((p, i) => {
    points[i * 3] = p.x;
    points[i * 3 + 1] = p.y;
    points[i * 3 + 2] = VISIBILITY[p.visibility];
  });
  const mesh = o.withMesh && o.mesh ? o.mesh.posed(r) : null;
  const result: ResultMessage = {
    t: 'result', frameId: r.frameId, captureTimeMs, face: true, box: r.box, frameWidth: o.frameWidth, frameHeight: o.frameHeight,
    intrinsics: Float32Array.of(r.intrinsics.fx, r.intrinsics.fy, r.intrinsics.cx, r.intrinsics.cy),
    landmarks: r.landmarks, pointIds: Uint32Array.from(r.points, (p) => p.id), points,
    pose: r.pose ? { rotation: Float32Array.from(r.pose.rotation), translationM: Float32Array.from(r.pose.translationM) } : null,
    blendshapes: r.blendshapes, mesh,
    timings: { ...r.timings, ...o.extraTimings },
  };
  const maps: MapsMessage | null = o.withMaps ? { t: 'maps', frameId: r.frameId, box: r.placement.box, maps: encodeMaps(subsampleMaps(r.maps, o.mapsStride ?? 1)) } : null;
  return { result, maps };
}

/**
 * Every `stride`-th pixel of each map, on the grid of shared MapGrid (the middle pixel of each stride x stride
 * block). The same crop box places the smaller grid, off by at most half a full-size crop
 * pixel. Values are not averaged: a mask has no average, and depth across a silhouette should not get one.
 */
export function subsampleMaps(m: PlainMaps, stride: number): PlainMaps {
  if (stride === 1) return m;
  const grid = new MapGrid(m.size, stride);
  const S = m.size, s = grid.size, n = S * S, k = s * s;
  const depth = new Float32Array(k), canonical = new Float32Array(3 * k), confidence = new Float32Array(k), mask = new Uint8Array(k);
  for (let y = 0; y < s; y++) for (let x = 0; x < s; x++) {
    const i = grid.cropPixel(y) * S + grid.cropPixel(x), j = y * s + x;
    depth[j] = m.depth[i];
    confidence[j] = m.confidence[i];
    mask[j] = m.mask[i];
    for (let c = 0; c < 3; c++) canonical[c * k + j] = m.canonical[c * n + i];
  }
  return { size: s, depth, canonical, confidence, mask };
}
