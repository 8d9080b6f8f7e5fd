/**
 * Where the faces of a frame are, by a detector trained on real faces (MediaPipe BlazeFace): the frame is shown
 * to it as a few square views — the whole frame letterboxed, zoomed out for faces that fill the frame, zoomed in
 * on overlapping tiles for small faces, or the neighbourhood of a tracked face — and the detections of all views
 * are merged in frame pixels. Then `cropBoxOf` frames a detection the way the face model was trained.
 */
import { CropPlacement, type CropBox } from '../../../shared/cropPlacement.js';
import { cropToModelInput, halveFrame, type FramePixels } from '../crop.js';
import type { DetectorOutputs } from '../model/detectorModel.js';
import { BLAZEFACE_INPUT, decodeBlazeFace, weightedNms, type RawDetection } from './blazeFace.js';

/**
 * A face found in a frame: RawDetection's fields in frame pixels instead of the view's 0..1 — an upright box around
 * the face (for a view that was turned, the box the detector drew there, turned back upright about its centre) and
 * its keypoints.
 */
export type DetectedFace = RawDetection;

export type DetectorRun = (image: Float32Array) => Promise<DetectorOutputs>;

export interface DetectOptions {
  /** smallest score kept (BlazeFace's sigmoid score; MediaPipe's own threshold is 0.5) */
  readonly minScore?: number;
}

/** Runs the detector on each view and merges what they found; best score first. */
export async function detectFaces(frame: FramePixels, views: readonly CropBox[], run: DetectorRun, o: DetectOptions = {}): Promise<DetectedFace[]> {
  const S = BLAZEFACE_INPUT;
  const found: RawDetection[] = [];
  // halvings of the frame: a view that shrinks the frame by 2^k or more samples the k-th (no aliasing)
  const pyramid: FramePixels[] = [frame];
  for (const view of views) {
    const placement = new CropPlacement(view, S);
    const level = Math.max(0, Math.floor(Math.log2(placement.scale / 1.5)));
    while (pyramid.length <= level) pyramid.push(halveFrame(pyramid[pyramid.length - 1]));
    const factor = 2 ** level, source = pyramid[level];
    const inSource = new CropPlacement({ centerX: (view.centerX + 0.5) / factor - 0.5, centerY: (view.centerY + 0.5) / factor - 0.5, side: view.side / factor, angle: view.angle }, S);
    // black beyond the frame, like MediaPipe's letterbox
    const image = cropToModelInput(source, inSource, undefined, { fill: 0 });
    const { scores, regressors } = await run(image);
    for (const d of decodeBlazeFace(scores, regressors, o.minScore ?? 0.5)) {
      // input 0..1 -> crop pixels (centres at integers) -> frame pixels
      const fx = (u: number, v: number) => placement.frameX(u * S - 0.5, v * S - 0.5), fy = (u: number, v: number) => placement.frameY(u * S - 0.5, v * S - 0.5);
      const keypoints = new Float32Array(12);
      for (let k = 0; k < 6; k++) {
        const u = d.keypoints[k * 2], v = d.keypoints[k * 2 + 1];
        (keypoints[k * 2] = fx(u, v)), (keypoints[k * 2 + 1] = fy(u, v));
      }
      const cu = (d.x0 + d.x1) / 2, cv = (d.y0 + d.y1) / 2, cx = fx(cu, cv), cy = fy(cu, cv);
      const hw = ((d.x1 - d.x0) * S * placement.scale) / 2, hh = ((d.y1 - d.y0) * S * placement.scale) / 2;
      found.push({ score: d.score, x0: cx - hw, y0: cy - hh, x1: cx + hw, y1: cy + hh, keypoints });
    }
  }
  return weightedNms(found, 0.4);
}

/**
 * Views of a whole frame: letterboxed; zoomed out 1.6× and 3× (the short-range model misses a face that fills
 * its input); and, for frames large enough that a face of 40 px between the eyes shrinks below what the model
 * sees in the letterbox, 2×2 tiles of 0.6 of the longer side with their overlaps.
 */
export function wholeFrameViews(width: number, height: number): CropBox[] {
  const cx = (width - 1) / 2, cy = (height - 1) / 2, side = Math.max(width, height);
  const views: CropBox[] = [1, 1.6, 3].map((z) => ({ centerX: cx, centerY: cy, side: side * z }));
  if (side >= 400) {
    const tile = side * 0.6;
    for (const fy of [0.3, 0.7]) for (const fx of [0.3, 0.7]) {
      const x = width <= tile ? cx : fx * (width - 1), y = height <= tile ? cy : fy * (height - 1);
      views.push({ centerX: x, centerY: y, side: tile });
    }
  }
  return views;
}

/**
 * Views around a tracked crop box, turned as it is (the face upright in them): the face fills about half of the
 * first and a third of the second.
 */
export function aroundBoxViews(box: CropBox): CropBox[] {
  return [1.5, 2.4].map((z) => ({ centerX: box.centerX, centerY: box.centerY, side: box.side * z, ...(box.angle ? { angle: box.angle } : {}) }));
}

/** How the face model's crop is placed on a detection box. */
export interface DetectionFraming {
  /** crop side over the detection box's side */
  readonly side: number;
  /** crop centre below the box centre, in box sides */
  readonly down: number;
}

/**
 * The crop the face model was trained on (faceRegion.boxFromMask of the true mask) against BlazeFace's box on
 * 474 held-out renders (`npm run bench -- detector`): side 1.91× the box (10th–90th percentile 1.67–2.19), centre
 * 0.064 box sides lower (0.017–0.146).
 */
export const DETECTION_FRAMING: DetectionFraming = Object.freeze({ side: 1.91, down: 0.064 });

/**
 * The crop for a detection, turned so that the eyes are level in it (a rolled face stands upright, as most
 * training faces do; the training renders roll only ±25°): centred `down` box sides below the box centre along
 * the face's own down direction.
 */
export function cropBoxOf(d: DetectedFace, f: DetectionFraming = DETECTION_FRAMING): CropBox {
  const w = d.x1 - d.x0, h = d.y1 - d.y0, s = Math.max(w, h);
  const angle = rollOf(d), down = f.down * s;
  return { centerX: (d.x0 + d.x1) / 2 - Math.sin(angle) * down, centerY: (d.y0 + d.y1) / 2 + Math.cos(angle) * down, side: s * f.side, ...(angle ? { angle } : {}) };
}

/** The roll of a detected face: radians from the frame's x axis to the line from the image-left eye to the other. */
export function rollOf(d: DetectedFace): number {
  return Math.atan2(d.keypoints[3] - d.keypoints[1], d.keypoints[2] - d.keypoints[0]);
}

/** Distance between the eyes of a detection, frame pixels. */
export function eyeDistance(d: DetectedFace): number {
  return Math.hypot(d.keypoints[2] - d.keypoints[0], d.keypoints[3] - d.keypoints[1]);
}
