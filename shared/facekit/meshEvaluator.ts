/**
 * Mesh evaluation: vertex positions for identity and expression weights, in metres, template frame.
 *
 *   positions = neutral + step * (sum_i w_id[i] * identity_deltas[i] + sum_j w_ex[j] * expression_deltas[j])
 *
 * The identity part is dense (every mode moves most vertices) and computed once per identity. Expression
 * shapes are local, so each is stored as a sparse list of the vertices it moves: a frame costs only the
 * vertices of its active shapes.
 */
import { InputError } from '../errors.js';
import type { FacekitModel } from './facekitModel.js';

interface SparseShape {
  /** vertex indices moved by the shape */
  readonly vertices: Uint32Array;
  /** [n*3] metres per unit weight */
  readonly deltasM: Float32Array;
}

/** Weights below this are treated as inactive (far below a micrometre of motion). */
const ACTIVE_WEIGHT = 1e-5;

export class MeshEvaluator {
  readonly vertexCount: number;
  readonly identityCount: number;
  readonly expressionCount: number;
  private readonly model: FacekitModel;
  private readonly shapes: SparseShape[];

  constructor(model: FacekitModel) {
    this.model = model;
    this.vertexCount = model.vertexCount;
    this.identityCount = model.identityNames.length;
    this.expressionCount = model.expressionNames.length;
    this.shapes = [];
    const n3 = this.vertexCount * 3;
    const step = model.deltaStepM;
    for (let e = 0; e < this.expressionCount; e++) {
      const d = model.expressionDeltas.subarray(e * n3, (e + 1) * n3);
      const idx: number[] = [];
      for (let v = 0; v < this.vertexCount; v++) {
        if (d[v * 3] !== 0 || d[v * 3 + 1] !== 0 || d[v * 3 + 2] !== 0) idx.push(v);
      }
      const vertices = Uint32Array.from(idx);
      const deltasM = new Float32Array(idx.length * 3);
      for (let k = 0; k < idx.length; k++) {
        const s = idx[k] * 3;
        deltasM[k * 3] = d[s] * step;
        deltasM[k * 3 + 1] = d[s + 1] * step;
        deltasM[k * 3 + 2] = d[s + 2] * step;
      }
      this.shapes.push({ vertices, deltasM });
    }
  }

  /** Number of vertices each expression shape moves (for diagnostics and benches). */
  shapeSizes(): number[] {
    return this.shapes.map((s) => s.vertices.length);
  }

  /**
   * Neutral-expression positions of an identity (one weight per mode, in standard deviations). [V*3] metres.
   * Costs one dense pass over all modes: compute once per person, then call evaluate() per frame.
   */
  identityBase(weights: ArrayLike<number>): Float32Array {
    if (weights.length !== this.identityCount) {
      throw new InputError(`identity weights: expected ${this.identityCount} values, got ${weights.length}`);
    }
    const base = Float32Array.from(this.model.neutralM);
    const n3 = this.vertexCount * 3;
    const step = this.model.deltaStepM;
    const all = this.model.identityDeltas;
    for (let i = 0; i < this.identityCount; i++) {
      const w = weights[i] * step;
      if (!Number.isFinite(w)) throw new InputError(`identity weight ${i} is not finite: ${weights[i]}`);
      if (w === 0) continue;
      const off = i * n3;
      for (let k = 0; k < n3; k++) base[k] += w * all[off + k];
    }
    return base;
  }

  /**
   * Positions of an identity (from identityBase) with these expression weights. [V*3] metres, template frame.
   * Writes into `out` when given (no allocation per frame).
   */
  evaluate(identityBase: Float32Array, expression: ArrayLike<number>, out: Float32Array = new Float32Array(this.vertexCount * 3)): Float32Array {
    if (expression.length !== this.expressionCount) {
      throw new InputError(`expression weights: expected ${this.expressionCount} values, got ${expression.length}`);
    }
    out.set(identityBase);
    for (let e = 0; e < this.expressionCount; e++) {
      const w = expression[e];
      if (!(Math.abs(w) > ACTIVE_WEIGHT)) {
        if (Number.isNaN(w)) throw new InputError(`expression weight ${e} is NaN`);
        continue;
      }
      const { vertices, deltasM } = this.shapes[e];
      for (let k = 0; k < vertices.length; k++) {
        const o = vertices[k] * 3;
        out[o] += w * deltasM[k * 3];
        out[o + 1] += w * deltasM[k * 3 + 1];
        out[o + 2] += w * deltasM[k * 3 + 2];
      }
    }
    return out;
  }
}
