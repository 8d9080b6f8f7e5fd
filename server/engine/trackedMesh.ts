/**
 * The tracked template mesh: facekit's face and head surface with the session's identity and a frame's fitted
 * blendshape weights, placed in the camera frame by the frame's head pose. Same topology in every frame (the
 * 4D mesh), so vertex i is the same point of the face throughout a sequence and across people.
 *
 * Only what the tracking observes is exported: the face and head parts. Eyeballs, teeth and the mouth socket
 * are not seen well enough by the model to place, and the transparent overlays are never rendered.
 */
import { InputError } from '../../shared/errors.js';
import type { FacekitModel } from '../../shared/facekit/facekitModel.js';
import { MeshEvaluator } from '../../shared/facekit/meshEvaluator.js';

/** p_camera = rotation (row-major 3x3) * p_head + translationM */
export interface CameraFromHead {
  readonly rotation: ArrayLike<number>;
  readonly translationM: ArrayLike<number>;
}

/** What posing the mesh needs of a frame's result. */
export interface MeshPose {
  readonly pose: CameraFromHead | null;
  readonly blendshapes: ArrayLike<number> | null;
  /** the session's fitted identity, null before it settles (the mean face) */
  readonly identity: Float32Array | null;
}

export const TRACKED_MESH_PARTS = ['face', 'head_neck'] as const;

export class TrackedMesh {
  /** model vertex index of each mesh vertex (facekit's own: the runtime facekit keeps these parts' numbering) */
  readonly sourceVertex: Uint32Array;
  /** [F*3] triangles, mesh vertex indices (quads split 0,1,2 / 0,2,3 like the renderer) */
  readonly triangles: Uint32Array;
  /** [F*3] facekit uv index of each triangle corner (uvs have seams: a vertex may have several) */
  readonly triangleUvs: Uint32Array;
  /** facekit's uv table [U*2] */
  readonly uv: Float32Array;
  readonly expressionNames: readonly string[];
  private readonly evaluator: MeshEvaluator;
  private readonly full: Float32Array;

  constructor(private readonly model: FacekitModel, parts: readonly string[] = TRACKED_MESH_PARTS) {
    this.evaluator = new MeshEvaluator(model);
    this.full = new Float32Array(model.vertexCount * 3);
    this.expressionNames = model.expressionNames;
    this.uv = model.uv;
    const keep = new Int32Array(model.vertexCount).fill(-1);
    const source: number[] = [];
    const tris: number[] = [], uvs: number[] = [];
    for (const name of parts) {
      const part = model.parts.find((p) => p.name === name);
      if (!part) throw new InputError(`facekit has no part "${name}"`);
      for (let v = part.vertices[0]; v <= part.vertices[1]; v++) {
        keep[v] = source.length;
        source.push(v);
      }
    }
    for (const name of parts) {
      const part = model.parts.find((p) => p.name === name)!;
      for (let p = part.polygons[0]; p <= part.polygons[1]; p++) {
        const o = p * 4;
        const corners = model.polygons[o + 3] < 0 ? [[0, 1, 2]] : [[0, 1, 2], [0, 2, 3]];
        for (const c of corners) {
          if (c.some((k) => keep[model.polygons[o + k]] < 0)) continue;
          for (const k of c) {
            tris.push(keep[model.polygons[o + k]]);
            uvs.push(model.polygonUvs[o + k]);
          }
        }
      }
    }
    this.sourceVertex = Uint32Array.from(source);
    this.triangles = Uint32Array.from(tris);
    this.triangleUvs = Uint32Array.from(uvs);
  }

  get vertexCount(): number {
    return this.sourceVertex.length;
  }

  /** Neutral-expression mesh vertices of an identity (null: the mean face), head frame. [N*3] metres. */
  identityBase(identity: ArrayLike<number> | null): Float32Array {
    return this.select(identity ? this.evaluator.identityBase(identity) : this.model.neutralM);
  }

  /** [N*3] metres per unit weight of expression `e`, head frame (the morph target of a glTF). */
  expressionDelta(e: number): Float32Array {
    const weights = new Float32Array(this.model.expressionNames.length);
    weights[e] = 1;
    const moved = this.select(this.evaluator.evaluate(this.model.neutralM as Float32Array, weights, this.full));
    const neutral = this.select(this.model.neutralM);
    for (let i = 0; i < moved.length; i++) moved[i] -= neutral[i];
    return moved;
  }

  /**
   * Mesh vertices in the camera frame (x right, y down, z forward, metres) for a frame's blendshape weights
   * and head pose, on an identity base from identityBase(). Writes into `out` when given.
   */
  posed(base: Float32Array, blendshapes: ArrayLike<number>, pose: CameraFromHead, out: Float32Array = new Float32Array(this.vertexCount * 3)): Float32Array {
    const fullBase = this.full;
    fullBase.set(this.model.neutralM);
    for (let i = 0; i < this.sourceVertex.length; i++) {
      const v = this.sourceVertex[i] * 3;
      fullBase[v] = base[i * 3];
      fullBase[v + 1] = base[i * 3 + 1];
      fullBase[v + 2] = base[i * 3 + 2];
    }
    const head = this.evaluator.evaluate(fullBase, blendshapes, fullBase);
    const R = pose.rotation, t = pose.translationM;
    for (let i = 0; i < this.sourceVertex.length; i++) {
      const v = this.sourceVertex[i] * 3;
      const x = head[v], y = head[v + 1], z = head[v + 2];
      out[i * 3] = R[0] * x + R[1] * y + R[2] * z + t[0];
      out[i * 3 + 1] = R[3] * x + R[4] * y + R[5] * z + t[1];
      out[i * 3 + 2] = R[6] * x + R[7] * y + R[8] * z + t[2];
    }
    return out;
  }

  private select(all: ArrayLike<number>): Float32Array {
    const out = new Float32Array(this.sourceVertex.length * 3);
    for (let i = 0; i < this.sourceVertex.length; i++) {
      const v = this.sourceVertex[i] * 3;
      out[i * 3] = all[v];
      out[i * 3 + 1] = all[v + 1];
      out[i * 3 + 2] = all[v + 2];
    }
    return out;
  }
}

/**
 * The one place where a result becomes mesh vertices, for every consumer (the live result encoder, reconstruct's
 * OBJ files): the tracked mesh of one session, with its identity's base kept until the identity changes (deriving it
 * costs 100 modes x the mesh).
 */
export class SessionMesh {
  private identity: Float32Array | null | undefined;
  private base: Float32Array | null = null;

  constructor(readonly mesh: TrackedMesh) {}

  /** Camera-frame vertices [N*3] metres, or null for a frame without a pose or weights. Writes into `out` when given. */
  posed(r: MeshPose, out?: Float32Array): Float32Array | null {
    if (!r.pose || !r.blendshapes) return null;
    if (this.base === null || r.identity !== this.identity) {
      this.identity = r.identity;
      this.base = this.mesh.identityBase(r.identity);
    }
    return this.mesh.posed(this.base, r.blendshapes, r.pose, out);
  }
}
