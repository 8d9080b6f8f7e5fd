/**
 * Where the face is: a detection pass over the whole frame (the model's own part mask on the letterboxed frame)
 * when no face is tracked, then a box tracked from each result's mask (bounding box of face pixels, expanded to
 * the framing the model was trained on, smoothed). A frame whose crop shows too few face pixels loses the face.
 * Pure: the engine runs the model; this stage only turns masks into boxes.
 */
import { PartId } from '../../shared/parts.js';
import { CropPlacement, type CropBox } from '../../shared/cropPlacement.js';

export interface FaceRegionOptions {
  /**
   * face-mask extent / crop side (max of height and 0.9 x width) that the model saw in training: 0.52–0.91
   * (5th–95th percentile, median 0.72) of the frame, zoomed by the trainer's 0.75–1.0 crop scale, so about 0.8
   */
  readonly fill: number;
  /** fewer face pixels than this (in crop pixels) means no face */
  readonly minFacePixels: number;
  /** weight of the new box against the previous one, 0..1 (1: no smoothing) */
  readonly smoothing: number;
  /** smallest crop side, frame pixels (a tiny crop would be mostly upsampling) */
  readonly minSidePx: number;
  /**
   * mean part-logit margin over face pixels needed to accept a detection from the mask alone (no detector) / to
   * keep tracking a face. The model always paints some face mask (it never saw a frame without one); measured with
   * facestream-small: 0.3–0.5 on uniform grey, 0.8 on noise, 1.4–2.0 on faces.
   */
  readonly detectCertainty: number;
  readonly trackCertainty: number;
  /**
   * the same margin needed to take a new face from an unsure detection: on the face-free photos of bench real, a
   * dog's and a coffee cup's unsure detections reached 1.1–1.5 with 1.6.0 while every portrait passes 1.7
   */
  readonly confirmCertainty: number;
}

export const FACE_REGION_DEFAULTS: FaceRegionOptions = Object.freeze({
  fill: 0.85, minFacePixels: 60, smoothing: 0.6, minSidePx: 48, detectCertainty: 1.1, trackCertainty: 0.9, confirmCertainty: 1.5,
});

/** Parts that make up "the face" for framing: skin of the face, eyes, mouth. Not the neck, hair or ears. */
const FACE_PARTS = new Set<number>([PartId.FACE_SKIN, PartId.EYE, PartId.MOUTH_INTERIOR, PartId.TEETH]);

/** Mean logit margin (best minus second-best part) over the face pixels of a mask; 0 without face pixels. */
export function faceCertainty(mask: Uint8Array, margin: Float32Array): number {
  let sum = 0, n = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!FACE_PARTS.has(mask[i])) continue;
    sum += margin[i];
    n++;
  }
  return n ? sum / n : 0;
}

/** The crop that shows the whole frame (letterboxed: the longer side fits). */
export function wholeFrameBox(width: number, height: number): CropBox {
  return { centerX: (width - 1) / 2, centerY: (height - 1) / 2, side: Math.max(width, height) };
}

/** Box around the face pixels of a crop mask, in frame pixels, framed like the training data; null if too few. */
export function boxFromMask(mask: Uint8Array, placement: CropPlacement, o: FaceRegionOptions = FACE_REGION_DEFAULTS): CropBox | null {
  const S = placement.size;
  let minX = S, minY = S, maxX = -1, maxY = -1, count = 0;
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
    if (!FACE_PARTS.has(mask[y * S + x])) continue;
    count++;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  // scale the pixel threshold with the crop's zoom so a letterboxed detection pass is not stricter
  if (count < o.minFacePixels) return null;
  // measured along the crop's own axes: a turned crop's box keeps its turn
  const mx = (minX + maxX) / 2, my = (minY + maxY) / 2;
  const cx = placement.frameX(mx, my), cy = placement.frameY(mx, my);
  const heightPx = (maxY - minY + 1) * placement.scale, widthPx = (maxX - minX + 1) * placement.scale;
  const side = Math.max(o.minSidePx, Math.max(heightPx, widthPx * 0.9) / o.fill);
  return { centerX: cx, centerY: cy, side, ...(placement.angle ? { angle: placement.angle } : {}) };
}

/** Blends the previous box towards the new one (less jitter of the crop, so less jitter of the maps). */
export function smoothBox(prev: CropBox | null, next: CropBox, o: FaceRegionOptions = FACE_REGION_DEFAULTS): CropBox {
  if (!prev) return next;
  return blend(prev, next, o.smoothing);
}

/** The shortest turn from angle a to angle b, radians in (−π, π]. */
function turn(a: number, b: number): number {
  const d = (b - a) % (2 * Math.PI);
  return d > Math.PI ? d - 2 * Math.PI : d <= -Math.PI ? d + 2 * Math.PI : d;
}

function blend(prev: CropBox, next: CropBox, a: number): CropBox {
  const angle = (prev.angle ?? 0) + turn(prev.angle ?? 0, next.angle ?? 0) * a;
  return {
    centerX: prev.centerX + (next.centerX - prev.centerX) * a,
    centerY: prev.centerY + (next.centerY - prev.centerY) * a,
    side: prev.side + (next.side - prev.side) * a,
    ...(angle ? { angle } : {}),
  };
}

/**
 * The box of a face followed by the detector: a move, resize or turn under 1 % of the side (0.6°: the detector's
 * own frame-to-frame noise on a still face) is mostly averaged away, one over 5 % (2.9°) is taken at once (a
 * moving head must not lag), with a linear ramp between.
 */
export function followBox(prev: CropBox, next: CropBox): CropBox {
  const change = Math.max(Math.hypot(next.centerX - prev.centerX, next.centerY - prev.centerY) / prev.side, Math.abs(Math.log(next.side / prev.side)), Math.abs(turn(prev.angle ?? 0, next.angle ?? 0)));
  return blend(prev, next, Math.min(1, Math.max(0.25, 0.25 + (0.75 * (change - 0.01)) / 0.04)));
}
