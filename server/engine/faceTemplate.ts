/**
 * What the engine looks for in every frame, derived once from facekit: the 68 landmarks' canonical
 * coordinates, the rigid points for head pose, and the vertices (with their model rows) that the blendshape
 * fit uses.
 */
import type { FacekitModel } from '../../shared/facekit/facekitModel.js';
import { buildFaceTopology, NOT_RENDERED } from '../../shared/facekit/faceTopology.js';
import { BlendshapeFitter } from './track/blendshapes.js';

export interface FaceTemplate {
  /** [68*3] metres */
  readonly landmarks: Float32Array;
  /** [n*3] metres */
  readonly rigid: Float32Array;
  readonly fitter: BlendshapeFitter;
}

/** `fitStride`: every how-many-th rendered vertex joins the blendshape fit (fewer: faster, noisier). */
export function buildFaceTemplate(model: FacekitModel, fitStride = 12): FaceTemplate {
  const at = (v: number) => [0, 1, 2].map((k) => model.neutralM[v * 3 + k]);
  const topo = buildFaceTopology(model);
  const fitVertices: number[] = [];
  for (let v = 0; v < model.vertexCount; v += fitStride) if (topo.vertexMask[v] !== NOT_RENDERED) fitVertices.push(v);
  return {
    landmarks: Float32Array.from(Array.from(model.landmarks68).flatMap(at)),
    rigid: Float32Array.from(Array.from(model.rigidVertices).flatMap(at)),
    fitter: new BlendshapeFitter(model, Int32Array.from(fitVertices)),
  };
}
