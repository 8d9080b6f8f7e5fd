/**
 * The engine's answers for one frame against the generator's ground truth: landmarks (px), metric depth on face
 * skin (AbsRel), head pose (degrees, mm), the 57 blendshape weights, and the tracked mesh (mm per vertex). Used
 * by the engine bench and by the engine's accuracy test, so both measure the same thing.
 *
 * Test frames are generator renders at 480x480 placed in a 640x480 frame (the borders mirror the picture, so
 * there is no hard edge), as I420 like a decoded video frame.
 */
import type { FaceResult } from '../server/engine/engine.js';
import type { TrackedMesh } from '../server/engine/trackedMesh.js';
import type { Intrinsics } from '../synth/camera.js';
import type { RenderedFrame } from '../synth/sequence.js';
import { rgbToI420 } from '../shared/io/y4m.js';
import { PartId } from '../shared/parts.js';

type Face = Extract<FaceResult, { kind: 'face' }>;

export interface FrameErrors {
  /** per visible landmark, pixels */
  readonly landmarkPx: number[];
  /** mean |d - d*| / d* over face-skin pixels of the crop that the truth also calls face skin */
  readonly depthAbsRel: number | null;
  readonly rotationDeg: number | null;
  readonly translationMm: number | null;
  /** [57] |w - w*|, null without a fit */
  readonly blendshapeAbs: Float32Array | null;
  /** mean distance between the tracked and the true mesh over the face part, millimetres */
  readonly meshMm: number | null;
  /** the same after removing the mean offset: shape and expression, without the distance error */
  readonly meshShapeMm: number | null;
}

/** A 640x480 I420 frame holding a square render (height 480) in the middle; the intrinsics move with it. */
export function widescreenI420(frame: RenderedFrame, K: Intrinsics, width = 640): { pixels: { format: 'i420'; width: number; height: number; data: Uint8Array }; K: Intrinsics; offsetX: number } {
  const s = frame.width, h = frame.height;
  const offsetX = (width - s) >> 1;
  const rgb = new Uint8Array(width * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < width; x++) {
    let sx = x - offsetX;
    if (sx < 0) sx = -sx - 1;
    if (sx >= s) sx = 2 * s - sx - 1;
    const o = (y * width + x) * 3, i = (y * s + sx) * 3;
    rgb[o] = frame.rgb[i];
    rgb[o + 1] = frame.rgb[i + 1];
    rgb[o + 2] = frame.rgb[i + 2];
  }
  const data = rgbToI420(rgb, width, h);
  return { pixels: { format: 'i420', width, height: h, data }, K: { ...K, width, cx: K.cx + offsetX }, offsetX };
}

export interface MeshTruth {
  readonly mesh: TrackedMesh;
  /** the true identity's neutral mesh (TrackedMesh.identityBase) */
  readonly trueBase: Float32Array;
  /** the engine's identity's neutral mesh, or the mean face before the identity is fitted */
  readonly estimatedBase: Float32Array;
  /** mesh vertex indices that belong to the face part */
  readonly faceVertices: Uint32Array;
}

export function frameErrors(r: Face, truth: RenderedFrame, offsetX: number, meshTruth: MeshTruth | null): FrameErrors {
  const landmarkPx: number[] = [];
  for (let l = 0; l < 68; l++) {
    if (!r.landmarks[l * 3 + 2] || !truth.landmarks[l * 3 + 2]) continue;
    landmarkPx.push(Math.hypot(r.landmarks[l * 3] - (truth.landmarks[l * 3] + offsetX), r.landmarks[l * 3 + 1] - truth.landmarks[l * 3 + 1]));
  }
  // depth: each crop pixel against the true depth at the nearest frame pixel
  let rel = 0, count = 0;
  const S = r.maps.size;
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
    const i = y * S + x;
    if (r.maps.mask[i] !== PartId.FACE_SKIN) continue;
    const fx = Math.round(r.placement.frameX(x, y)) - offsetX, fy = Math.round(r.placement.frameY(x, y));
    if (fx < 0 || fy < 0 || fx >= truth.width || fy >= truth.height) continue;
    const j = fy * truth.width + fx;
    if (truth.mask[j] !== PartId.FACE_SKIN) continue;
    rel += Math.abs(r.maps.depth[i] - truth.depth[j]) / truth.depth[j];
    count++;
  }
  let rotationDeg: number | null = null, translationMm: number | null = null;
  if (r.pose) {
    const A = r.pose.rotation, B = truth.pose.rotation;
    // angle of A B^T: trace = sum_ij A_ij B_ij
    let tr = 0;
    for (let k = 0; k < 9; k++) tr += A[k] * B[k];
    rotationDeg = (Math.acos(Math.max(-1, Math.min(1, (tr - 1) / 2))) * 180) / Math.PI;
    translationMm = 1000 * Math.hypot(...[0, 1, 2].map((k) => r.pose!.translationM[k] - truth.pose.translationM[k]));
  }
  let blendshapeAbs: Float32Array | null = null;
  if (r.blendshapes) blendshapeAbs = Float32Array.from(r.blendshapes, (w, e) => Math.abs(w - truth.expression[e]));
  let meshMm: number | null = null, meshShapeMm: number | null = null;
  if (meshTruth && r.pose && r.blendshapes) {
    const { mesh, faceVertices } = meshTruth;
    const est = mesh.posed(meshTruth.estimatedBase, r.blendshapes, r.pose);
    const tru = mesh.posed(meshTruth.trueBase, truth.expression, truth.pose);
    let sum = 0;
    const offset = [0, 0, 0];
    for (const v of faceVertices) {
      sum += Math.hypot(est[v * 3] - tru[v * 3], est[v * 3 + 1] - tru[v * 3 + 1], est[v * 3 + 2] - tru[v * 3 + 2]);
      for (let k = 0; k < 3; k++) offset[k] += (est[v * 3 + k] - tru[v * 3 + k]) / faceVertices.length;
    }
    meshMm = (1000 * sum) / faceVertices.length;
    let shape = 0;
    for (const v of faceVertices) shape += Math.hypot(...[0, 1, 2].map((k) => est[v * 3 + k] - tru[v * 3 + k] - offset[k]));
    meshShapeMm = (1000 * shape) / faceVertices.length;
  }
  return { landmarkPx, depthAbsRel: count ? rel / count : null, rotationDeg, translationMm, blendshapeAbs, meshMm, meshShapeMm };
}

export function faceVerticesOf(mesh: TrackedMesh, faceVertexRange: readonly [number, number]): Uint32Array {
  const out: number[] = [];
  mesh.sourceVertex.forEach((v, i) => {
    if (v >= faceVertexRange[0] && v <= faceVertexRange[1]) out.push(i);
  });
  return Uint32Array.from(out);
}

export function median(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

export function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

export function percentile(xs: readonly number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
