/**
 * Blendshape weights (and, once, identity weights) fitted to the tracked template mesh: the facekit vertices
 * found in a frame by canonical lookup, lifted to 3D with the predicted depth and brought into the head frame by
 * the head pose. The model is linear (facekit's formula), so each fit is a small least-squares problem:
 *   expression: 57 weights in [0, 1], bounded least squares by projected coordinate descent on the normal equations;
 *   identity:   100 weights, ridge-regularized towards the mean face (they are N(0, 1)), over several frames.
 */
import type { FacekitModel } from '../../../shared/facekit/facekitModel.js';

/** Precomputed model rows for a chosen set of vertices. */
export class BlendshapeFitter {
  readonly vertices: Int32Array;
  readonly expressionCount: number;
  readonly identityCount: number;
  /** [n*3] template positions, metres */
  readonly template: Float32Array;
  /** [E][n*3] expression deltas, metres per unit weight */
  private readonly expr: Float32Array[];
  /** [I][n*3] identity deltas, metres per standard deviation */
  private readonly ident: Float32Array[];

  constructor(model: FacekitModel, vertices: Int32Array) {
    this.vertices = vertices;
    const n = vertices.length, V3 = model.vertexCount * 3, step = model.deltaStepM;
    this.expressionCount = model.expressionNames.length;
    this.identityCount = model.identityNames.length;
    this.template = new Float32Array(n * 3);
    const pick = (src: ArrayLike<number>, offset: number, scale: number) => {
      const out = new Float32Array(n * 3);
      for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) out[i * 3 + k] = src[offset + vertices[i] * 3 + k] * scale;
      return out;
    };
    this.template.set(pick(model.neutralM, 0, 1));
    this.expr = Array.from({ length: this.expressionCount }, (_, e) => pick(model.expressionDeltas, e * V3, step));
    this.ident = Array.from({ length: this.identityCount }, (_, j) => pick(model.identityDeltas, j * V3, step));
  }

  /** Template + identity offsets for the chosen vertices, [n*3]. */
  identityBase(identity: ArrayLike<number>): Float32Array {
    const base = Float32Array.from(this.template);
    for (let j = 0; j < this.identityCount; j++) {
      const w = identity[j];
      if (w === 0) continue;
      const d = this.ident[j];
      for (let i = 0; i < base.length; i++) base[i] += w * d[i];
    }
    return base;
  }

  /**
   * Expression weights in [0, 1] that best explain `observed` ([n*3], head frame, metres) where `seen[i]` is 1,
   * given the identity's base positions. Robust: vertices that do not fit (a lookup across the lip or eyelid seam,
   * where canonical coordinates of both lips nearly coincide) are down-weighted (Tukey) and the fit repeated.
   * `ridge` (metres²: about 20 coordinates of 1 mm noise) keeps shapes that move too little to be seen (pupil
   * dilation, gaze of a closed eye) at 0.
   */
  fitExpression(observed: ArrayLike<number>, seen: Uint8Array, base: Float32Array, ridge = 2e-5): Float32Array {
    const n = seen.length;
    const weight = Float64Array.from(seen);
    let w = this.solveExpression(observed, weight, base, ridge);
    for (let iter = 0; iter < 3; iter++) {
      const residual = new Float64Array(n);
      const live: number[] = [];
      for (let i = 0; i < n; i++) {
        if (!seen[i]) continue;
        let d2 = 0;
        for (let k = 0; k < 3; k++) {
          let p = base[i * 3 + k];
          for (let e = 0; e < this.expressionCount; e++) if (w[e] !== 0) p += w[e] * this.expr[e][i * 3 + k];
          d2 += (p - observed[i * 3 + k]) ** 2;
        }
        residual[i] = Math.sqrt(d2);
        live.push(residual[i]);
      }
      live.sort((a, b) => a - b);
      const c = 4.685 * Math.max(0.0005, 1.4826 * live[live.length >> 1]);
      for (let i = 0; i < n; i++) weight[i] = seen[i] && residual[i] < c ? (1 - (residual[i] / c) ** 2) ** 2 : 0;
      w = this.solveExpression(observed, weight, base, ridge);
    }
    return w;
  }

  /** Weighted bounded least squares: projected coordinate descent on the normal equations. */
  private solveExpression(observed: ArrayLike<number>, weight: Float64Array, base: Float32Array, ridge: number): Float32Array {
    const E = this.expressionCount;
    const G = new Float64Array(E * E), h = new Float64Array(E);
    const rows: number[] = [], rw: number[] = [];
    for (let i = 0; i < weight.length; i++) if (weight[i] > 0) for (let k = 0; k < 3; k++) (rows.push(i * 3 + k), rw.push(weight[i]));
    for (let a = 0; a < E; a++) {
      const da = this.expr[a];
      let s = 0;
      for (let j = 0; j < rows.length; j++) s += rw[j] * da[rows[j]] * (observed[rows[j]] - base[rows[j]]);
      h[a] = s;
      for (let b = a; b < E; b++) {
        const db = this.expr[b];
        let g = 0;
        for (let j = 0; j < rows.length; j++) g += rw[j] * da[rows[j]] * db[rows[j]];
        G[a * E + b] = g;
        G[b * E + a] = g;
      }
      G[a * E + a] += ridge;
    }
    const w = new Float32Array(E);
    for (let sweep = 0; sweep < 100; sweep++) {
      let change = 0;
      for (let a = 0; a < E; a++) {
        let s = h[a];
        for (let b = 0; b < E; b++) if (b !== a) s -= G[a * E + b] * w[b];
        const next = Math.min(1, Math.max(0, s / G[a * E + a]));
        change = Math.max(change, Math.abs(next - w[a]));
        w[a] = next;
      }
      if (change < 1e-5) break;
    }
    return w;
  }

  /**
   * Identity weights from several frames (each with its observed vertices, visibility and current expression
   * weights): ridge least squares (the N(0, 1) prior of the modes against about 1-2 mm of noise per
   * coordinate: lambda in metres² per squared standard deviation), clipped to ±3 standard deviations.
   */
  fitIdentity(frames: { observed: ArrayLike<number>; seen: Uint8Array; expression: ArrayLike<number> }[], lambda = 2e-5): Float32Array {
    const I = this.identityCount;
    const G = new Float64Array(I * I), h = new Float64Array(I);
    for (const f of frames) {
      // residual after the template and the frame's expression
      const target = new Float64Array(this.template.length);
      for (let r = 0; r < target.length; r++) {
        let v = f.observed[r] - this.template[r];
        for (let e = 0; e < this.expressionCount; e++) if (f.expression[e] !== 0) v -= f.expression[e] * this.expr[e][r];
        target[r] = v;
      }
      const rows: number[] = [];
      for (let i = 0; i < f.seen.length; i++) if (f.seen[i]) rows.push(i * 3, i * 3 + 1, i * 3 + 2);
      for (let a = 0; a < I; a++) {
        const da = this.ident[a];
        let s = 0;
        for (const r of rows) s += da[r] * target[r];
        h[a] += s;
        for (let b = a; b < I; b++) {
          const db = this.ident[b];
          let g = 0;
          for (const r of rows) g += da[r] * db[r];
          G[a * I + b] += g;
          if (b !== a) G[b * I + a] += g;
        }
      }
    }
    for (let a = 0; a < I; a++) G[a * I + a] += lambda;
    // identity weights are standard deviations of facekit's PCA modes: beyond 3 is not a human face
    return Float32Array.from(solveSpd(G, h, I), (x) => Math.max(-3, Math.min(3, x)));
  }
}

/** Solves G x = h for a symmetric positive-definite G (Cholesky). */
function solveSpd(G: Float64Array, h: Float64Array, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = G[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = i === j ? Math.sqrt(Math.max(s, 1e-30)) : s / L[j * n + j];
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = h[i];
    for (let k = 0; k < i; k++) s -= L[i * n + k] * y[k];
    y[i] = s / L[i * n + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * x[k];
    x[i] = s / L[i * n + i];
  }
  return x;
}
