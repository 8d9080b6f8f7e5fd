/**
 * What the engine looks for in every frame, derived once from facekit: the 68 landmarks' canonical
 * coordinates, the rigid part of the face for head pose, and the vertices (with their model rows) that the
 * blendshape fit uses.
 */
import type { FacekitModel } from '../../shared/facekit/facekitModel.js';
import { buildFaceTopology, NOT_RENDERED } from '../../shared/facekit/faceTopology.js';
import { BlendshapeFitter } from './track/blendshapes.js';
import { RigidRegion } from './track/rigidRegion.js';

export interface FaceTemplate {
  /** [68*3] metres */
  readonly landmarks: Float32Array;
  /** canonical coordinates on the rigid part of the face (for the pose fit) */
  readonly rigidRegion: RigidRegion;
  readonly fitter: BlendshapeFitter;
  /** the same model rows for the 68 landmark vertices: where the fitted head puts the landmarks not seen */
  readonly landmarkModel: BlendshapeFitter;
}

/**
 * A face vertex is rigid when no expression shape moves it by this much. facekit's own rigid list is almost all
 * scalp, ears and neck (24 of its 1,487 vertices are on the face), where identities differ by centimetres and
 * hair covers much; the forehead, nose bridge, temples and cheekbones are both visible and stable.
 */
const RIGID_MAX_MOTION_M = 0.002;

/** `fitStride`: every how-many-th rendered vertex joins the blendshape fit (fewer: faster, noisier). */
export function buildFaceTemplate(model: FacekitModel, fitStride = 20): FaceTemplate {
  const at = (v: number) => [0, 1, 2].map((k) => model.neutralM[v * 3 + k]);
  const topo = buildFaceTopology(model);
  const fitVertices: number[] = [];
  for (let v = 0; v < model.vertexCount; v += fitStride) if (topo.vertexMask[v] !== NOT_RENDERED) fitVertices.push(v);
  return {
    landmarks: Float32Array.from(Array.from(model.landmarks68).flatMap(at)),
    rigidRegion: new RigidRegion(Float32Array.from(rigidFaceVertices(model).flatMap(at))),
    fitter: new BlendshapeFitter(model, Int32Array.from(fitVertices)),
    landmarkModel: new BlendshapeFitter(model, Int32Array.from(model.landmarks68)),
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
