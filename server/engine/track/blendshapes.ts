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
  /**
   * Expression deltas as sparse rows (CSR over the n*3 coordinates): shapes are local, so a coordinate is moved
   * by a few shapes only, and the normal equations cost the sum of squared row lengths instead of n*3*E².
   */
  private readonly rowStart: Int32Array;
  private readonly rowShape: Int32Array;
  private readonly rowDelta: Float64Array;
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
    const expr = Array.from({ length: this.expressionCount }, (_, e) => pick(model.expressionDeltas, e * V3, step));
    this.rowStart = new Int32Array(n * 3 + 1);
    const shapes: number[] = [], deltas: number[] = [];
    for (let r = 0; r < n * 3; r++) {
      for (let e = 0; e < this.expressionCount; e++) {
        if (expr[e][r] === 0) continue;
        shapes.push(e);
        deltas.push(expr[e][r]);
      }
      this.rowStart[r + 1] = shapes.length;
    }
    this.rowShape = Int32Array.from(shapes);
    this.rowDelta = Float64Array.from(deltas);
    this.ident = Array.from({ length: this.identityCount }, (_, j) => pick(model.identityDeltas, j * V3, step));
  }

  /** The chosen vertices with an expression on a base (identityBase or the template), head frame, [n*3] metres. */
  positions(base: Float32Array, weights: ArrayLike<number>): Float32Array {
    const out = Float32Array.from(base);
    for (let r = 0; r < out.length; r++) out[r] += this.expressionAt(r, weights);
    return out;
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
   * Expression weights from where the vertices appear in the image: `pixels` [n*2] (frame pixels, NaN where
   * not seen) under the head pose and intrinsics. The model's depth errors are centimetres, its image positions
   * about a crop pixel, so a fit to 3D points chases depth noise; this one reads expressions from the image.
   * Gauss–Newton around `start` (the previous frame's weights): the projection is linearized at the current
   * mesh, and each linear step a bounded least squares, robustly reweighted (Tukey).
   * `sigmaPx`: expected lookup error in frame pixels; `ridge` in units of sigma² per unit weight²: strong, because
   * the model's canonical maps carry errors of several millimetres that look like small expressions (measured
   * on held-out sequences, ridge 4 / 40 / 200 gave mean abs errors 0.19 / 0.10 / 0.06 against 0.03 for all-zero
   * weights; 40 keeps large shapes such as jawOpen and blinks, see the README's engine bench).
   */
  fitExpressionImage(
    pixels: ArrayLike<number>, base: Float32Array, pose: { rotation: ArrayLike<number>; translationM: ArrayLike<number> },
    K: { fx: number; fy: number; cx: number; cy: number }, sigmaPx: number, start?: ArrayLike<number>, ridge = 40,
  ): Float32Array {
    const n = this.vertices.length, E = this.expressionCount;
    const R = pose.rotation, T = pose.translationM;
    let w: Float32Array = start ? Float32Array.from(start) : new Float32Array(E);
    const robust = new Float64Array(n).fill(1);
    const du = new Float64Array(E), dv = new Float64Array(E);
    const touched = new Int32Array(E);
    const mark = new Int32Array(E).fill(-1);
    const au = new Float64Array(3), av = new Float64Array(3);
    for (let outer = 0; outer < 2; outer++) {
      mark.fill(-1);
      const G = new Float64Array(E * E), h = new Float64Array(E);
      const residuals: number[] = [], resid = new Float64Array(n).fill(NaN);
      for (let i = 0; i < n; i++) {
        const ou = pixels[i * 2], ov = pixels[i * 2 + 1];
        if (!Number.isFinite(ou) || !Number.isFinite(ov)) continue;
        // current head-frame position q and its camera-frame image P
        const i3 = i * 3;
        const q0 = base[i3] + this.expressionAt(i3, w), q1 = base[i3 + 1] + this.expressionAt(i3 + 1, w), q2 = base[i3 + 2] + this.expressionAt(i3 + 2, w);
        const P0 = R[0] * q0 + R[1] * q1 + R[2] * q2 + T[0];
        const P1 = R[3] * q0 + R[4] * q1 + R[5] * q2 + T[1];
        const P2 = R[6] * q0 + R[7] * q1 + R[8] * q2 + T[2];
        if (P2 <= 1e-3) continue;
        const iz = 1 / P2;
        const ru = (ou - (K.fx * P0 * iz + K.cx)) / sigmaPx, rv = (ov - (K.fy * P1 * iz + K.cy)) / sigmaPx;
        resid[i] = Math.hypot(ru, rv);
        residuals.push(resid[i]);
        const wi = robust[i];
        if (!(wi > 0)) continue;
        // d(pixel)/d(head-frame point) = d(pixel)/dP · R, scaled by 1/sigma
        const su = K.fx * iz / sigmaPx, sv = K.fy * iz / sigmaPx;
        for (let k = 0; k < 3; k++) {
          au[k] = su * (R[k] - P0 * iz * R[6 + k]);
          av[k] = sv * (R[3 + k] - P1 * iz * R[6 + k]);
        }
        let count = 0;
        for (let k = 0; k < 3; k++) {
          const r = i * 3 + k;
          for (let j = this.rowStart[r]; j < this.rowStart[r + 1]; j++) {
            const e = this.rowShape[j];
            if (mark[e] !== i) {
              mark[e] = i;
              touched[count++] = e;
              du[e] = 0;
              dv[e] = 0;
            }
            du[e] += au[k] * this.rowDelta[j];
            dv[e] += av[k] * this.rowDelta[j];
          }
        }
        // linear model around w: residual(w') ≈ r - J (w' - w), so the target for J w' is r + J w
        let tu = ru, tv = rv;
        for (let a = 0; a < count; a++) (tu += du[touched[a]] * w[touched[a]]), (tv += dv[touched[a]] * w[touched[a]]);
        // G is symmetric: accumulate the pairs with ea ≤ eb once, mirror after the loop
        for (let a = 0; a < count; a++) {
          const ea = touched[a], ua = wi * du[ea], va = wi * dv[ea];
          h[ea] += ua * tu + va * tv;
          for (let b = 0; b < count; b++) {
            const eb = touched[b];
            if (eb >= ea) G[ea * E + eb] += ua * du[eb] + va * dv[eb];
          }
        }
      }
      if (residuals.length < 10) return w;
      for (let a = 0; a < E; a++) for (let b = a + 1; b < E; b++) G[b * E + a] = G[a * E + b];
      for (let a = 0; a < E; a++) G[a * E + a] += ridge;
      w = boundedLeastSquares(G, h, E, w);
      // Tukey weights for the next pass from this pass's residuals
      residuals.sort((a, b) => a - b);
      const c = 4.685 * Math.max(1, 1.4826 * residuals[residuals.length >> 1]);
      for (let i = 0; i < n; i++) robust[i] = Number.isFinite(resid[i]) && resid[i] < c ? (1 - (resid[i] / c) ** 2) ** 2 : 0;
    }
    return w;
  }

  /** Expression offset of coordinate r for weights w. */
  private expressionAt(r: number, w: ArrayLike<number>): number {
    let p = 0;
    for (let j = this.rowStart[r]; j < this.rowStart[r + 1]; j++) p += w[this.rowShape[j]] * this.rowDelta[j];
    return p;
  }

  /**
   * Identity weights from several frames (each with its observed vertices, visibility and current expression
   * weights): ridge least squares (the N(0, 1) prior of the modes against about 1-2 mm of noise per
   * coordinate: lambda in metres² per squared standard deviation), clipped to ±3 standard deviations.
   */
  fitIdentity(frames: { observed: ArrayLike<number>; seen: Uint8Array; expression: ArrayLike<number> }[], lambda = 2e-5): Float32Array {
    const I = this.identityCount;
    const G = new Float64Array(I * I), h = new Float64Array(I);
    // the identity rows are the same in every frame: G only needs how many frames saw each coordinate, so it is
    // built once (not once per frame: this fit runs on the live server's main thread)
    const seenCount = new Float64Array(this.template.length);
    for (const f of frames) {
      // residual after the template and the frame's expression
      const target = new Float64Array(this.template.length);
      for (let i = 0; i < f.seen.length; i++) {
        if (!f.seen[i]) continue;
        for (let r = i * 3; r < i * 3 + 3; r++) {
          target[r] = f.observed[r] - this.template[r] - this.expressionAt(r, f.expression);
          seenCount[r]++;
        }
      }
      for (let a = 0; a < I; a++) {
        const da = this.ident[a];
        let s = 0;
        for (let r = 0; r < target.length; r++) s += da[r] * target[r];
        h[a] += s;
      }
    }
    // the seen rows of every mode, scaled by √(frames that saw them), side by side: G is their dot products
    const rows = Int32Array.from(seenCount.keys()).filter((r) => seenCount[r] > 0), m = rows.length;
    const D = new Float64Array(I * m);
    for (let a = 0; a < I; a++) for (let k = 0; k < m; k++) D[a * m + k] = Math.sqrt(seenCount[rows[k]]) * this.ident[a][rows[k]];
    for (let a = 0; a < I; a++) {
      for (let b = a; b < I; b++) {
        let g = 0;
        for (let k = 0, pa = a * m, pb = b * m; k < m; k++) g += D[pa + k] * D[pb + k];
        G[a * I + b] = g;
        G[b * I + a] = g;
      }
    }
    for (let a = 0; a < I; a++) G[a * I + a] += lambda;
    // identity weights are standard deviations of facekit's PCA modes: beyond 3 is not a human face
    return Float32Array.from(solveSpd(G, h, I), (x) => Math.max(-3, Math.min(3, x)));
  }
}

/** min ½ wᵀGw − hᵀw over w in [0, 1]^E: projected coordinate descent from `w0`. */
function boundedLeastSquares(G: Float64Array, h: Float64Array, E: number, w0: Float32Array): Float32Array {
  const w = Float32Array.from(w0, (x) => Math.min(1, Math.max(0, x)));
  // g = h − G w, kept up to date as weights move: a weight that stays at its bound (most of them, most frames)
  // costs one comparison per sweep instead of a row of G
  const g = Float64Array.from(h);
  for (let b = 0; b < E; b++) {
    if (w[b] === 0) continue;
    for (let a = 0; a < E; a++) g[a] -= G[a * E + b] * w[b];
  }
  for (let sweep = 0; sweep < 100; sweep++) {
    let change = 0;
    for (let a = 0; a < E; a++) {
      const diag = G[a * E + a], old = w[a];
      const next = Math.min(1, Math.max(0, (g[a] + diag * old) / diag));
      if (next === old) continue;
      const step = Math.fround(next) - old;
      w[a] = next;
      // G is symmetric: its column a is its row a
      for (let b = 0; b < E; b++) g[b] -= G[a * E + b] * step;
      change = Math.max(change, Math.abs(step));
    }
    if (change < 1e-5) break;
  }
  return w;
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
