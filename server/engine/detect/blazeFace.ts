/**
 * MediaPipe BlazeFace's output decoding (the short-range "front" model, 128² input): 896 SSD anchors on a 16×16
 * grid (2 per cell) and an 8×8 grid (6 per cell), each with a score logit and 16 regressors (box centre offset,
 * box size, 6 keypoints), decoded and merged by weighted non-maximum suppression as MediaPipe's graph does.
 * Pure: the model runs elsewhere (model/detectorModel.ts); this turns its raw outputs into detections.
 */

/** BlazeFace's 6 keypoints, in its order. Right and left are the subject's (the right eye is on the image's left). */
export const BLAZEFACE_KEYPOINTS = ['rightEye', 'leftEye', 'noseTip', 'mouth', 'rightEar', 'leftEar'] as const;

/** One face in the detector's input square, coordinates 0..1 of its side. */
export interface RawDetection {
  readonly score: number;
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
  /** [12]: x, y of each of BLAZEFACE_KEYPOINTS */
  readonly keypoints: Float32Array;
}

export const BLAZEFACE_INPUT = 128;
export const BLAZEFACE_ANCHORS = 896;
const REGRESSORS = 16;

/**
 * Anchor centres, 0..1: MediaPipe's SSD anchors for the front model (strides 8, 16, 16, 16; layers of equal
 * stride share one grid, 2 anchors per layer and cell; fixed anchor size, so only centres matter).
 */
function anchorCentres(): Float32Array {
  const out = new Float32Array(BLAZEFACE_ANCHORS * 2);
  let i = 0;
  for (const [grid, perCell] of [[16, 2], [8, 6]] as const) {
    for (let y = 0; y < grid; y++) for (let x = 0; x < grid; x++) for (let a = 0; a < perCell; a++) {
      out[i++] = (x + 0.5) / grid;
      out[i++] = (y + 0.5) / grid;
    }
  }
  return out;
}

const ANCHORS = anchorCentres();

function iou(a: RawDetection, b: RawDetection): number {
  const ix = Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0));
  const iy = Math.max(0, Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0));
  const inter = ix * iy;
  const union = (a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Weighted non-maximum suppression: each cluster of overlapping detections (IoU ≥ `overlap` with the best one
 * left) becomes their score-weighted mean, with the best score. Averaging the neighbouring anchors' boxes is what
 * makes BlazeFace's boxes steady from frame to frame.
 */
export function weightedNms(detections: readonly RawDetection[], overlap = 0.3): RawDetection[] {
  let left = [...detections].sort((a, b) => b.score - a.score);
  const out: RawDetection[] = [];
  while (left.length) {
    const top = left[0];
    const cluster = left.filter((d) => iou(top, d) >= overlap);
    left = left.filter((d) => iou(top, d) < overlap);
    let w = 0, x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    const kp = new Float32Array(12);
    for (const d of cluster) {
      w += d.score;
      x0 += d.x0 * d.score;
      y0 += d.y0 * d.score;
      x1 += d.x1 * d.score;
      y1 += d.y1 * d.score;
      for (let k = 0; k < 12; k++) kp[k] += d.keypoints[k] * d.score;
    }
    for (let k = 0; k < 12; k++) kp[k] /= w;
    out.push({ score: top.score, x0: x0 / w, y0: y0 / w, x1: x1 / w, y1: y1 / w, keypoints: kp });
  }
  return out;
}

/**
 * Detections from the model's raw outputs: `scores` [896] logits and `regressors` [896*16], the 16×16 grid's
 * anchors first. Scores are sigmoids of the clamped logits (the model's logits reach the thousands).
 */
export function decodeBlazeFace(scores: Float32Array, regressors: Float32Array, minScore = 0.5): RawDetection[] {
  if (scores.length !== BLAZEFACE_ANCHORS || regressors.length !== BLAZEFACE_ANCHORS * REGRESSORS) {
    throw new RangeError(`BlazeFace outputs must be [${BLAZEFACE_ANCHORS}] and [${BLAZEFACE_ANCHORS * REGRESSORS}], got [${scores.length}] and [${regressors.length}]`);
  }
  const S = BLAZEFACE_INPUT;
  const found: RawDetection[] = [];
  for (let i = 0; i < BLAZEFACE_ANCHORS; i++) {
    const score = 1 / (1 + Math.exp(-Math.max(-100, Math.min(100, scores[i]))));
    if (score < minScore) continue;
    const ax = ANCHORS[i * 2], ay = ANCHORS[i * 2 + 1], r = i * REGRESSORS;
    const cx = ax + regressors[r] / S, cy = ay + regressors[r + 1] / S;
    const w = regressors[r + 2] / S, h = regressors[r + 3] / S;
    if (!(w > 0 && h > 0)) continue;
    const keypoints = new Float32Array(12);
    for (let k = 0; k < 6; k++) {
      keypoints[k * 2] = ax + regressors[r + 4 + k * 2] / S;
      keypoints[k * 2 + 1] = ay + regressors[r + 5 + k * 2] / S;
    }
    found.push({ score, x0: cx - w / 2, y0: cy - h / 2, x1: cx + w / 2, y1: cy + h / 2, keypoints });
  }
  return weightedNms(found);
}
