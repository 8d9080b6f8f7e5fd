/**
 * All 68 landmarks for every face. The canonical lookup places those it sees; the others — behind the turned
 * head, under a hand, outside what the model's mask calls face, or found far from the face (on a second face in the
 * crop) — are placed where the head model fitted to this frame's maps (identity, expression, pose: the same fit that
 * drives the tracked mesh) puts them, and flagged as estimated. Without a pose, a similarity fit of the template's frontal layout to the landmarks that were seen;
 * with none seen, the template laid into the crop as the training renders framed it. Never NaN.
 */
import type { CropPlacement } from '../../../shared/cropPlacement.js';
import type { BlendshapeFitter } from './blendshapes.js';
import type { RigidPose } from './headPose.js';

/** The third value of each landmark: seen by canonical lookup, or estimated (hidden, occluded, not found). */
export const LANDMARK_SEEN = 1;
export const LANDMARK_ESTIMATED = 0;

export interface LandmarkFit {
  /** facekit's model rows for the 68 landmark vertices */
  readonly model: BlendshapeFitter;
  /** the session's identity on those vertices (model.identityBase), null before it is fitted: the mean face */
  readonly base: Float32Array | null;
  /** the frame's expression weights, null when not fitted: neutral */
  readonly expression: ArrayLike<number> | null;
  readonly pose: RigidPose | null;
  readonly K: { fx: number; fy: number; cx: number; cy: number };
  readonly placement: CropPlacement;
}

/**
 * A landmark seen farther than this (times the fitted head's outer-eye-corner distance) from where the fitted head
 * puts it was found on something else: another face in the crop whose canonical coordinates match as well, a hand.
 */
export const MAX_LANDMARK_DEVIATION = 0.5;

/**
 * Fills the landmarks `found` ([68*3] x, y, seen; NaN where not found) in place and returns it; with a pose, seen
 * landmarks that stray from the fitted head (MAX_LANDMARK_DEVIATION) are replaced by its estimate too.
 */
export function completeLandmarks(found: Float32Array, fit: LandmarkFit): Float32Array {
  const n = found.length / 3;
  const estimateOf = fit.pose ? projected(fit) : null;
  const missing: number[] = [];
  const limit = estimateOf ? MAX_LANDMARK_DEVIATION * Math.hypot(estimateOf[36 * 2] - estimateOf[45 * 2], estimateOf[36 * 2 + 1] - estimateOf[45 * 2 + 1]) : Infinity;
  for (let l = 0; l < n; l++) {
    const x = found[l * 3], y = found[l * 3 + 1];
    const seen = Number.isFinite(x) && Number.isFinite(y) && found[l * 3 + 2] === LANDMARK_SEEN;
    if (seen && (!estimateOf || Math.hypot(x - estimateOf[l * 2], y - estimateOf[l * 2 + 1]) <= limit)) continue;
    missing.push(l);
  }
  if (!missing.length) return found;
  const estimate = estimateOf ?? layoutFit(found, fit);
  for (const l of missing) {
    found[l * 3] = estimate[l * 2];
    found[l * 3 + 1] = estimate[l * 2 + 1];
    found[l * 3 + 2] = LANDMARK_ESTIMATED;
  }
  return found;
}

/** The fitted head model's landmark vertices in the frame, [n*2] pixels. */
function projected(fit: LandmarkFit): Float32Array {
  const { model, K } = fit;
  const pose = fit.pose!;
  const head = model.positions(fit.base ?? model.template, fit.expression ?? new Float32Array(model.expressionCount));
  const R = pose.rotation, t = pose.translationM, n = head.length / 3;
  const out = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const x = head[i * 3], y = head[i * 3 + 1], z = head[i * 3 + 2];
    const X = R[0] * x + R[1] * y + R[2] * z + t[0];
    const Y = R[3] * x + R[4] * y + R[5] * z + t[1];
    const Z = Math.max(1e-3, R[6] * x + R[7] * y + R[8] * z + t[2]);
    out[i * 2] = K.fx * (X / Z) + K.cx;
    out[i * 2 + 1] = K.fy * (Y / Z) + K.cy;
  }
  return out;
}

/**
 * The template's frontal layout (canonical x to the image's right, y down) moved, turned and scaled onto the
 * landmarks that were seen (least squares, 2 or more); with fewer, centred in the crop at the training renders'
 * scale (the 68 landmarks span about half of the crop's side across).
 */
function layoutFit(found: Float32Array, fit: LandmarkFit): Float32Array {
  const T = fit.model.template, n = T.length / 3;
  const u = new Float64Array(n), v = new Float64Array(n);
  let minU = Infinity, maxU = -Infinity, mu = 0, mv = 0;
  for (let i = 0; i < n; i++) {
    u[i] = T[i * 3];
    v[i] = -T[i * 3 + 1];
    minU = Math.min(minU, u[i]);
    maxU = Math.max(maxU, u[i]);
    mu += u[i] / n;
    mv += v[i] / n;
  }
  const seen: number[] = [];
  for (let i = 0; i < n; i++) if (found[i * 3 + 2] === LANDMARK_SEEN && Number.isFinite(found[i * 3])) seen.push(i);
  // similarity x = a u − b v + tx, y = b u + a v + ty
  let a: number, b: number, tx: number, ty: number;
  if (seen.length >= 2) {
    let su = 0, sv = 0, sx = 0, sy = 0;
    for (const i of seen) (su += u[i]), (sv += v[i]), (sx += found[i * 3]), (sy += found[i * 3 + 1]);
    const k = seen.length;
    (su /= k), (sv /= k), (sx /= k), (sy /= k);
    let num_a = 0, num_b = 0, den = 0;
    for (const i of seen) {
      const du = u[i] - su, dv = v[i] - sv, dx = found[i * 3] - sx, dy = found[i * 3 + 1] - sy;
      num_a += du * dx + dv * dy;
      num_b += du * dy - dv * dx;
      den += du * du + dv * dv;
    }
    a = num_a / Math.max(den, 1e-12);
    b = num_b / Math.max(den, 1e-12);
    tx = sx - a * su + b * sv;
    ty = sy - b * su - a * sv;
  } else {
    const box = fit.placement.box;
    a = (0.5 * box.side) / (maxU - minU);
    b = 0;
    tx = box.centerX - a * mu;
    ty = box.centerY - a * mv;
  }
  const out = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    out[i * 2] = a * u[i] - b * v[i] + tx;
    out[i * 2 + 1] = b * u[i] + a * v[i] + ty;
  }
  return out;
}
