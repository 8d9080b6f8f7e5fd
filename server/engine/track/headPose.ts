/**
 * Head pose (6-DoF, camera-from-head) from 3D correspondences: template positions of rigid points (their
 * canonical coordinates) and where they are seen in camera space (lookup pixel + metric depth).
 *
 * Weighted absolute orientation (Horn's quaternion method) inside iteratively reweighted least squares with
 * Tukey's biweight, so that wrong lookups (occlusions, a bad pixel of the map) do not pull the pose.
 */
import type { CameraFromHead } from '../../../shared/camera.js';

export interface RigidPose extends CameraFromHead {
  /** weighted RMS residual of the inliers, metres */
  readonly rmsM: number;
  readonly inliers: number;
}

/** Eigenvector of the largest eigenvalue of a symmetric 4x4 matrix (cyclic Jacobi). */
function topEigenvector4(m: Float64Array): Float64Array {
  const a = Float64Array.from(m);
  const v = Float64Array.of(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1);
  for (let sweep = 0; sweep < 30; sweep++) {
    let off = 0;
    for (let p = 0; p < 4; p++) for (let q = p + 1; q < 4; q++) off += a[p * 4 + q] ** 2;
    if (off < 1e-24) break;
    for (let p = 0; p < 4; p++) for (let q = p + 1; q < 4; q++) {
      const apq = a[p * 4 + q];
      if (Math.abs(apq) < 1e-30) continue;
      const theta = (a[q * 4 + q] - a[p * 4 + p]) / (2 * apq);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1), s = t * c;
      for (let k = 0; k < 4; k++) {
        const akp = a[k * 4 + p], akq = a[k * 4 + q];
        a[k * 4 + p] = c * akp - s * akq;
        a[k * 4 + q] = s * akp + c * akq;
      }
      for (let k = 0; k < 4; k++) {
        const apk = a[p * 4 + k], aqk = a[q * 4 + k];
        a[p * 4 + k] = c * apk - s * aqk;
        a[q * 4 + k] = s * apk + c * aqk;
      }
      for (let k = 0; k < 4; k++) {
        const vkp = v[k * 4 + p], vkq = v[k * 4 + q];
        v[k * 4 + p] = c * vkp - s * vkq;
        v[k * 4 + q] = s * vkp + c * vkq;
      }
    }
  }
  let best = 0;
  for (let i = 1; i < 4; i++) if (a[i * 4 + i] > a[best * 4 + best]) best = i;
  return Float64Array.of(v[best], v[4 + best], v[8 + best], v[12 + best]);
}

/** Weighted least-squares rotation and translation mapping `src` onto `dst` ([n*3] each). */
export function absoluteOrientation(src: ArrayLike<number>, dst: ArrayLike<number>, w: ArrayLike<number>): { rotation: Float64Array; translationM: Float64Array } {
  const n = w.length;
  let W = 0;
  const cs = [0, 0, 0], cd = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    W += w[i];
    for (let k = 0; k < 3; k++) {
      cs[k] += w[i] * src[i * 3 + k];
      cd[k] += w[i] * dst[i * 3 + k];
    }
  }
  for (let k = 0; k < 3; k++) {
    cs[k] /= W;
    cd[k] /= W;
  }
  // cross-covariance S[a][b] = sum w (src_a - cs_a)(dst_b - cd_b)
  const S = new Float64Array(9);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) S[a * 3 + b] += w[i] * (src[i * 3 + a] - cs[a]) * (dst[i * 3 + b] - cd[b]);
  }
  const [xx, xy, xz, yx, yy, yz, zx, zy, zz] = S;
  const N = Float64Array.of(
    xx + yy + zz, yz - zy, zx - xz, xy - yx,
    yz - zy, xx - yy - zz, xy + yx, zx + xz,
    zx - xz, xy + yx, -xx + yy - zz, yz + zy,
    xy - yx, zx + xz, yz + zy, -xx - yy + zz,
  );
  const [q0, q1, q2, q3] = topEigenvector4(N);
  const rotation = Float64Array.of(
    q0 * q0 + q1 * q1 - q2 * q2 - q3 * q3, 2 * (q1 * q2 - q0 * q3), 2 * (q1 * q3 + q0 * q2),
    2 * (q1 * q2 + q0 * q3), q0 * q0 - q1 * q1 + q2 * q2 - q3 * q3, 2 * (q2 * q3 - q0 * q1),
    2 * (q1 * q3 - q0 * q2), 2 * (q2 * q3 + q0 * q1), q0 * q0 - q1 * q1 - q2 * q2 + q3 * q3,
  );
  const translationM = Float64Array.from([0, 1, 2], (r) => cd[r] - (rotation[r * 3] * cs[0] + rotation[r * 3 + 1] * cs[1] + rotation[r * 3 + 2] * cs[2]));
  return { rotation, translationM };
}

/**
 * Robust pose: IRLS with Tukey's biweight on the residuals (scale from their median absolute deviation, at least
 * `minScaleM`). `template` and `observed` are [n*3]; `weights` (optional) are prior confidences.
 */
export function fitHeadPose(template: ArrayLike<number>, observed: ArrayLike<number>, weights?: ArrayLike<number>, minScaleM = 0.002): RigidPose | null {
  const n = template.length / 3;
  if (n < 4) return null;
  const prior = Float64Array.from({ length: n }, (_, i) => (weights ? weights[i] : 1));
  let w = Float64Array.from(prior);
  let pose = absoluteOrientation(template, observed, w);
  const residual = new Float64Array(n);
  for (let iter = 0; iter < 6; iter++) {
    const R = pose.rotation, t = pose.translationM;
    for (let i = 0; i < n; i++) {
      let d2 = 0;
      for (let r = 0; r < 3; r++) {
        const p = R[r * 3] * template[i * 3] + R[r * 3 + 1] * template[i * 3 + 1] + R[r * 3 + 2] * template[i * 3 + 2] + t[r];
        d2 += (p - observed[i * 3 + r]) ** 2;
      }
      residual[i] = Math.sqrt(d2);
    }
    const sorted = Float64Array.from(residual).sort();
    const scale = Math.max(minScaleM, 1.4826 * sorted[n >> 1]);
    const c = 4.685 * scale;
    w = Float64Array.from(residual, (r, i) => (r < c ? prior[i] * (1 - (r / c) ** 2) ** 2 : 0));
    if (w.reduce((a, b) => a + b, 0) <= 1e-12) return null;
    pose = absoluteOrientation(template, observed, w);
  }
  let sw = 0, se = 0, inliers = 0;
  for (let i = 0; i < n; i++) {
    if (w[i] > 0) inliers++;
    sw += w[i];
    se += w[i] * residual[i] ** 2;
  }
  return { ...pose, rmsM: Math.sqrt(se / Math.max(1e-12, sw)), inliers };
}

/** Angle of the rotation taking a to b, degrees. */
export function rotationAngleDeg(a: ArrayLike<number>, b: ArrayLike<number>): number {
  // trace(a^T b) = 1 + 2 cos(theta)
  let tr = 0;
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) tr += a[r * 3 + c] * b[r * 3 + c];
  return (Math.acos(Math.max(-1, Math.min(1, (tr - 1) / 2))) * 180) / Math.PI;
}
