/**
 * Head pose from where the rigid template points appear in the image (perspective-n-point), with the predicted
 * depth as a weak prior. The 3D fit alone (headPose.ts) inherits the model's depth errors (several per cent of
 * the distance, so centimetres) as rotation error; the image positions found by canonical lookup are good to
 * about a crop pixel, which pins the rotation. Depth still matters for the distance, which the image alone
 * leaves to the face's size (a person's identity changes it by several per cent).
 *
 * Gauss–Newton on the 6-DoF pose (rotation update on the left, R ← exp([ω]×) R), Huber-weighted residuals, each
 * normalized by its expected noise: pixels by `pixelSigma`, depth by `depthSigmaRel` × depth.
 */
import type { FrameIntrinsics } from '../types.js';
import type { RigidPose } from './headPose.js';

export interface ReprojectionObservations {
  /** [n*3] template (head frame) positions, metres */
  readonly template: ArrayLike<number>;
  /** [n*2] frame pixels where they were found */
  readonly pixels: ArrayLike<number>;
  /** [n] predicted depth there, metres (0: none) */
  readonly depth: ArrayLike<number>;
  /** [n] prior confidence of each observation */
  readonly weights: ArrayLike<number>;
}

export interface RefineOptions {
  /** expected image error of a lookup, frame pixels */
  readonly pixelSigma: number;
  /** expected relative error of predicted depth */
  readonly depthSigmaRel: number;
  readonly iterations: number;
  /** Huber threshold on normalized residuals */
  readonly huber: number;
}

export const REFINE_DEFAULTS: RefineOptions = Object.freeze({ pixelSigma: 2, depthSigmaRel: 0.25, iterations: 10, huber: 2 });

export function refinePoseByReprojection(obs: ReprojectionObservations, K: FrameIntrinsics, init: { rotation: ArrayLike<number>; translationM: ArrayLike<number> }, o: RefineOptions = REFINE_DEFAULTS): RigidPose | null {
  const n = obs.weights.length;
  if (n < 6) return null;
  const R = Float64Array.from(init.rotation), t = Float64Array.from(init.translationM);
  const H = new Float64Array(36), g = new Float64Array(6), J = new Float64Array(6);
  let rms = 0, inliers = 0;
  for (let iter = 0; iter < o.iterations; iter++) {
    H.fill(0);
    g.fill(0);
    let sq = 0, wsum = 0;
    inliers = 0;
    const add = (r: number, w: number) => {
      // Huber: weight 1 inside the threshold, k/|r| outside
      const a = Math.abs(r);
      const hw = w * (a <= o.huber ? 1 : o.huber / a);
      for (let i = 0; i < 6; i++) {
        g[i] += hw * J[i] * r;
        for (let j = i; j < 6; j++) H[i * 6 + j] += hw * J[i] * J[j];
      }
      sq += w * r * r;
      wsum += w;
      if (a <= o.huber) inliers++;
    };
    for (let k = 0; k < n; k++) {
      const w = obs.weights[k];
      if (!(w > 0)) continue;
      const X = obs.template[k * 3], Y = obs.template[k * 3 + 1], Z = obs.template[k * 3 + 2];
      const rx = R[0] * X + R[1] * Y + R[2] * Z, ry = R[3] * X + R[4] * Y + R[5] * Z, rz = R[6] * X + R[7] * Y + R[8] * Z;
      const px = rx + t[0], py = ry + t[1], pz = rz + t[2];
      if (pz <= 1e-3) continue;
      // dP/dω = -[RX]×, dP/dt = I
      const dPdw = [[0, rz, -ry], [-rz, 0, rx], [ry, -rx, 0]];
      const iz = 1 / pz;
      const rowU = [K.fx * iz, 0, -K.fx * px * iz * iz], rowV = [0, K.fy * iz, -K.fy * py * iz * iz];
      for (const [row, resid] of [[rowU, K.fx * px * iz + K.cx - obs.pixels[k * 2]], [rowV, K.fy * py * iz + K.cy - obs.pixels[k * 2 + 1]]] as const) {
        for (let c = 0; c < 3; c++) {
          J[c] = (row[0] * dPdw[0][c] + row[1] * dPdw[1][c] + row[2] * dPdw[2][c]) / o.pixelSigma;
          J[3 + c] = row[c] / o.pixelSigma;
        }
        add(resid / o.pixelSigma, w);
      }
      const d = obs.depth[k];
      if (d > 0) {
        const s = o.depthSigmaRel * d;
        for (let c = 0; c < 3; c++) {
          J[c] = dPdw[2][c] / s;
          J[3 + c] = c === 2 ? 1 / s : 0;
        }
        add((pz - d) / s, w);
      }
    }
    rms = wsum > 0 ? Math.sqrt(sq / wsum) : 0;
    for (let i = 0; i < 6; i++) for (let j = 0; j < i; j++) H[i * 6 + j] = H[j * 6 + i];
    for (let i = 0; i < 6; i++) H[i * 7] *= 1 + 1e-6; // a touch of damping
    const step = solve6(H, g);
    if (!step) return null;
    const w = [-step[0], -step[1], -step[2]];
    const dR = rodrigues(w);
    const Rn = mul3(dR, R);
    R.set(Rn);
    // the translation update applies after the rotation step: P = exp(ω) R X + t + δt
    for (let c = 0; c < 3; c++) t[c] -= step[3 + c];
    if (Math.hypot(...step) < 1e-7) break;
  }
  return { rotation: R, translationM: t, rmsM: rms, inliers };
}

function rodrigues(w: number[]): Float64Array {
  const th = Math.hypot(w[0], w[1], w[2]);
  const R = Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  if (th < 1e-12) return R;
  const [x, y, z] = w.map((v) => v / th);
  const c = Math.cos(th), s = Math.sin(th), C = 1 - c;
  R.set([c + x * x * C, x * y * C - z * s, x * z * C + y * s, y * x * C + z * s, c + y * y * C, y * z * C - x * s, z * x * C - y * s, z * y * C + x * s, c + z * z * C]);
  return R;
}

function mul3(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const o = new Float64Array(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) o[i * 3 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j];
  return o;
}

/** Gaussian elimination with partial pivoting on a 6x6 system; null when singular. */
function solve6(H: Float64Array, g: Float64Array): number[] | null {
  const A = Array.from({ length: 6 }, (_, i) => [...H.subarray(i * 6, i * 6 + 6), g[i]]);
  for (let c = 0; c < 6; c++) {
    let p = c;
    for (let r = c + 1; r < 6; r++) if (Math.abs(A[r][c]) > Math.abs(A[p][c])) p = r;
    if (Math.abs(A[p][c]) < 1e-12) return null;
    [A[c], A[p]] = [A[p], A[c]];
    for (let r = c + 1; r < 6; r++) {
      const f = A[r][c] / A[c][c];
      for (let k = c; k < 7; k++) A[r][k] -= f * A[c][k];
    }
  }
  const x = new Array<number>(6).fill(0);
  for (let r = 5; r >= 0; r--) {
    let s = A[r][6];
    for (let k = r + 1; k < 6; k++) s -= A[r][k] * x[k];
    x[r] = s / A[r][r];
  }
  return x;
}
