/**
 * What the engine looks for in every frame, derived once from facekit: the 68 landmarks' canonical
 * coordinates (in two conventions), the rigid part of the face for head pose, and the vertices (with their model
 * rows) that the blendshape fit uses.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AssetError } from '../../shared/errors.js';
import type { FacekitModel } from '../../shared/facekit/facekitModel.js';
import { projectRoot } from '../../node/projectRoot.js';
import { buildFaceTopology, NOT_RENDERED } from '../../shared/facekit/faceTopology.js';
import { BlendshapeFitter } from './track/blendshapes.js';
import { RigidRegion } from './track/rigidRegion.js';
import { TRACKED_MESH_PARTS } from './trackedMesh.js';

/**
 * Which 68 points the landmarks are. 'ibug': where annotators of real photographs (iBUG 300-W, followed by the
 * trackers trained on them) put them, found on our renders by such a tracker (models/landmarks/calibrate68.ts):
 * what a user comparing with other trackers expects. 'facekit': facekit's own 68 Multi-PIE vertices, which the
 * generator's ground truth uses (the synthetic benches).
 */
export type LandmarkConvention = 'ibug' | 'facekit';

export interface LandmarkDefinition {
  /** [68*3] canonical coordinates, metres */
  readonly canonical: Float32Array;
  /** facekit's model rows for the vertex at (or nearest) each: where the fitted head puts a landmark not seen */
  readonly model: BlendshapeFitter;
}

export interface FaceTemplate {
  readonly landmarks: Record<LandmarkConvention, LandmarkDefinition>;
  /** canonical coordinates on the rigid part of the face (for the pose fit) */
  readonly rigidRegion: RigidRegion;
  readonly fitter: BlendshapeFitter;
  /** facekit's expression names, the order of every blendshape array */
  readonly expressionNames: readonly string[];
}

export const IBUG68_CANONICAL_PATH = () => join(projectRoot(), 'models', 'landmarks', 'ibug68-canonical.json');

/** Mirror partners of the 68 landmarks (iBUG order): the convention is made symmetric with them. */
const MIRROR68 = [16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 27, 28, 29, 30, 35, 34, 33,
  32, 31, 45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40, 54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55, 64, 63, 62, 61, 60, 67, 66, 65];

/**
 * The iBUG landmarks' canonical coordinates from the calibration file, averaged with their mirror partners (x
 * negated): the face and its template are symmetric, the tracker that found them has a slight handedness.
 */
export function readIbugLandmarks(path = IBUG68_CANONICAL_PATH()): Float32Array {
  let raw: { landmarks?: { index: number; canonicalM: number[] }[] };
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new AssetError(`landmark definitions ${path}: cannot read them (${(e as Error).message})`);
  }
  const pts = raw.landmarks;
  if (!Array.isArray(pts) || pts.length !== 68 || pts.some((l, i) => l.index !== i || !Array.isArray(l.canonicalM) || l.canonicalM.length !== 3 || !l.canonicalM.every(Number.isFinite))) {
    throw new AssetError(`landmark definitions ${path}: expected 68 landmarks {index, canonicalM: [x, y, z]} in order`);
  }
  const out = new Float32Array(68 * 3);
  for (let l = 0; l < 68; l++) {
    const a = pts[l].canonicalM, b = pts[MIRROR68[l]].canonicalM;
    out[l * 3] = (a[0] - b[0]) / 2;
    out[l * 3 + 1] = (a[1] + b[1]) / 2;
    out[l * 3 + 2] = (a[2] + b[2]) / 2;
  }
  return out;
}

/** The facekit vertex nearest each point, among those of the face and head parts. */
function nearestVertices(model: FacekitModel, points: Float32Array): Int32Array {
  const parts = model.parts.filter((p) => p.name === 'face' || p.name === 'head_neck');
  return Int32Array.from({ length: points.length / 3 }, (_, i) => {
    let best = -1, bestD = Infinity;
    for (const part of parts) for (let v = part.vertices[0]; v <= part.vertices[1]; v++) {
      const d = (model.neutralM[v * 3] - points[i * 3]) ** 2 + (model.neutralM[v * 3 + 1] - points[i * 3 + 1]) ** 2 + (model.neutralM[v * 3 + 2] - points[i * 3 + 2]) ** 2;
      if (d < bestD) (bestD = d), (best = v);
    }
    return best;
  });
}

/**
 * A face vertex is rigid when no expression shape moves it by this much. facekit's own rigid list is almost all
 * scalp, ears and neck (24 of its 1,487 vertices are on the face), where identities differ by centimetres and
 * hair covers much; the forehead, nose bridge, temples and cheekbones are both visible and stable.
 */
const RIGID_MAX_MOTION_M = 0.002;

/** Every how-many-th rendered facekit vertex joins the blendshape fit (fewer: faster, noisier). */
export const FIT_STRIDE = 20;

/**
 * The rendered vertices of the blendshape fit: those whose facekit index is a multiple of `fitStride`, so that the
 * full facekit and the runtime facekit (a subset, with each vertex's facekit index) choose the same ones.
 */
function fitVertices(model: FacekitModel, fitStride: number): Int32Array {
  const mask = buildFaceTopology(model).vertexMask;
  const out: number[] = [];
  for (let v = 0; v < model.vertexCount; v++) {
    const facekitIndex = model.sourceVertices ? model.sourceVertices[v] : v;
    if (facekitIndex % fitStride === 0 && mask[v] !== NOT_RENDERED) out.push(v);
  }
  return Int32Array.from(out);
}

/**
 * Every vertex of the full facekit that the runtime reads (buildFaceTemplate with FIT_STRIDE, TrackedMesh): the
 * tracked mesh's parts whole (the iBUG landmarks' nearest vertices and the rigid face vertices lie in them), the
 * fit's vertices and facekit's 68 landmarks. The runtime facekit (models/facekit-runtime) keeps these.
 */
export function engineVertices(model: FacekitModel): Int32Array {
  const keep = new Set<number>(fitVertices(model, FIT_STRIDE));
  for (const name of TRACKED_MESH_PARTS) {
    const part = model.parts.find((p) => p.name === name);
    if (!part) throw new AssetError(`facekit has no part "${name}"`);
    for (let v = part.vertices[0]; v <= part.vertices[1]; v++) keep.add(v);
  }
  for (const v of model.landmarks68) keep.add(v);
  return Int32Array.from(keep).sort();
}

/** `fitStride`: see FIT_STRIDE; the runtime facekit holds the vertices of FIT_STRIDE only. */
export function buildFaceTemplate(model: FacekitModel, fitStride = FIT_STRIDE): FaceTemplate {
  const at = (v: number) => [0, 1, 2].map((k) => model.neutralM[v * 3 + k]);
  const ibug = readIbugLandmarks();
  return {
    landmarks: {
      facekit: { canonical: Float32Array.from(Array.from(model.landmarks68).flatMap(at)), model: new BlendshapeFitter(model, Int32Array.from(model.landmarks68)) },
      ibug: { canonical: ibug, model: new BlendshapeFitter(model, nearestVertices(model, ibug)) },
    },
    rigidRegion: new RigidRegion(Float32Array.from(rigidFaceVertices(model).flatMap(at))),
    fitter: new BlendshapeFitter(model, fitVertices(model, fitStride)),
    expressionNames: model.expressionNames,
  };
}

function rigidFaceVertices(model: FacekitModel): number[] {
  const face = model.parts.find((p) => p.name === 'face');
  if (!face) return Array.from(model.rigidVertices);
  const V3 = model.vertexCount * 3, E = model.expressionNames.length;
  const limit = (RIGID_MAX_MOTION_M / model.deltaStepM) ** 2;
  const out: number[] = [];
  for (let v = face.vertices[0]; v <= face.vertices[1]; v++) {
    let rigid = true;
    for (let e = 0; e < E && rigid; e++) {
      const o = e * V3 + v * 3, d = model.expressionDeltas;
      if (d[o] ** 2 + d[o + 1] ** 2 + d[o + 2] ** 2 >= limit) rigid = false;
    }
    if (rigid) out.push(v);
  }
  return out;
}
