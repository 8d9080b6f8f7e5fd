/**
 * The real-image benchmark's DEPTH yardstick: MediaPipe Face Mesh (Google's face landmark network, trained on real
 * faces; models/third_party/mediapipe-facemesh), converted to ONNX by models/train/convert_facemesh.py and run in
 * onnxruntime-node (one thread). It gives 468 points with a relative depth z, against which the relief of our depth
 * maps is measured (bench/real/depthRelief.ts); it never produces anything the engine uses.
 *
 * `locate` repeats MediaPipe's own crop for a face detection (face_detection_front_detection_to_roi.pbtxt and
 * face_landmark_cpu.pbtxt): the region of interest is centred on the detection box's centre, square with a side of
 * 1.5 × the box's longer side (RectTransformationCalculator, square_long, scale 1.5), and rotated by the angle of
 * the line from the right eye keypoint to the left one (DetectionsToRectsCalculator, keypoints 0 → 1, target angle
 * 0), so that the eyes are level in the crop. ImageToTensorCalculator resamples it to 192×192 bilinearly, edge
 * pixels repeated beyond the frame (BORDER_REPLICATE), RGB in [0, 1].
 *
 * Geometry (frame pixels with pixel centres at integers, as everywhere in this project; θ the roll angle, s =
 * side / 192 frame pixels per crop pixel, (cx, cy) the ROI centre): the network's outputs x, y are in MediaPipe's
 * continuous crop coordinates, where crop pixel k spans [k, k + 1) (TensorsToLandmarksCalculator divides them by
 * 192 into the ROI's normalized 0..1 square; LandmarkProjectionCalculator maps that square onto the rotated
 * rectangle). A crop coordinate (u, v) is therefore the frame point
 *
 *     a = (u − 96)·s,  b = (v − 96)·s
 *     x = cx + a·cos θ − b·sin θ,   y = cy + a·sin θ + b·cos θ
 *
 * (`roiToFrame`), and crop pixel k (centre u = k + 0.5) samples the frame at roiToFrame(k + 0.5, l + 0.5) — the
 * same map, so the crop and the points' way back are each other's exact inverse. z is scaled like x and y and not
 * rotated (the roll is about the camera axis): z_frame = z_crop · s, as LandmarkProjectionCalculator does
 * (z × the ROI's width); smaller z = nearer the camera, the origin near the centre of the head (MediaPipe's
 * convention; checked on a frontal photo in bench/real/depthRelief.test.ts: the nose tip is nearer than the
 * cheeks). Like MediaPipe, the crop is plain bilinear (no prefiltering when it shrinks the face).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { openOnnxSession } from '../../server/engine/model/onnxSession.js';
import { AssetError, InputError, ModelContractError } from '../../shared/errors.js';
import { projectRoot } from '../../node/projectRoot.js';
import type { FramePixels } from '../../server/engine/crop.js';
import type { DetectedFace } from '../../server/engine/detect/faceDetector.js';

/** Where `load()` keeps the converted network (made from the committed TF.js graph on first use; never committed). */
export const DEFAULT_FACE_MESH_PATH = join(projectRoot(), 'out', 'bench-media', 'facemesh.onnx');
const PYTHON = '/usr/bin/python3';
const CONVERTER = join('models', 'train', 'convert_facemesh.py');
const MODEL_JSON = join('models', 'third_party', 'mediapipe-facemesh', 'facemesh.json');

/** the network's input side */
export const FACE_MESH_INPUT = 192;
export const FACE_MESH_POINTS = 468;
/** MediaPipe's ROI side over the detection box's longer side */
export const FACE_MESH_ROI_SCALE = 1.5;

/** A rotated square of the frame: centre and side in frame pixels, roll in radians (the crop's x axis is (cos, sin)). */
export interface FaceMeshRoi {
  readonly centerX: number;
  readonly centerY: number;
  readonly side: number;
  readonly angle: number;
}

/** MediaPipe's landmark ROI for a detection: box centre, 1.5 × the longer side, rolled so the eye keypoints are level. */
export function roiFromDetection(det: DetectedFace, scale = FACE_MESH_ROI_SCALE): FaceMeshRoi {
  const k = det.keypoints; // [0,1] the subject's right eye (image left), [2,3] the left eye
  const side = Math.max(det.x1 - det.x0, det.y1 - det.y0) * scale;
  const roi = { centerX: (det.x0 + det.x1) / 2, centerY: (det.y0 + det.y1) / 2, side, angle: Math.atan2(k[3] - k[1], k[2] - k[0]) };
  if (![roi.centerX, roi.centerY, roi.side, roi.angle].every(Number.isFinite) || !(side > 0)) {
    throw new InputError(`face mesh: detection ${JSON.stringify({ x0: det.x0, y0: det.y0, x1: det.x1, y1: det.y1 })} gives no region`);
  }
  return roi;
}

/** Frame point of crop coordinate (u, v) (MediaPipe's continuous crop coordinates: pixel k spans [k, k + 1)). */
export function roiToFrame(roi: FaceMeshRoi, u: number, v: number, size = FACE_MESH_INPUT): [number, number] {
  const s = roi.side / size, a = (u - size / 2) * s, b = (v - size / 2) * s;
  const c = Math.cos(roi.angle), n = Math.sin(roi.angle);
  return [roi.centerX + a * c - b * n, roi.centerY + a * n + b * c];
}

/** Crop coordinate (u, v) of a frame point: the inverse of roiToFrame. */
export function frameToRoi(roi: FaceMeshRoi, x: number, y: number, size = FACE_MESH_INPUT): [number, number] {
  const s = roi.side / size, dx = x - roi.centerX, dy = y - roi.centerY;
  const c = Math.cos(roi.angle), n = Math.sin(roi.angle);
  return [(dx * c + dy * n) / s + size / 2, (-dx * n + dy * c) / s + size / 2];
}

/**
 * The network's input for `roi`: [3*size*size] RGB channels first, 0..1. Crop pixel (k, l) is the bilinear sample
 * of the frame at roiToFrame(k + 0.5, l + 0.5), the edge pixels repeated beyond the frame (coordinates clamped to
 * [0, W − 1] × [0, H − 1]). I420 frames: Y, U and V interpolated, then BT.601 limited range (as
 * server/engine/crop.ts).
 */
export function faceMeshCrop(frame: FramePixels, roi: FaceMeshRoi, size = FACE_MESH_INPUT): Float32Array {
  const W = frame.width, H = frame.height;
  const need = frame.format === 'rgb' ? W * H * 3 : W * H + 2 * ((W + 1) >> 1) * ((H + 1) >> 1);
  if (!(W >= 1 && H >= 1) || frame.data.length !== need) throw new InputError(`${frame.format} frame ${W}x${H} needs ${need} bytes, got ${frame.data.length}`);
  const n = size * size, out = new Float32Array(3 * n), d = frame.data;
  const s = roi.side / size, cs = Math.cos(roi.angle) * s, sn = Math.sin(roi.angle) * s;
  const cw = (W + 1) >> 1, ch = (H + 1) >> 1, uOff = W * H, vOff = uOff + cw * ch;
  for (let l = 0; l < size; l++) {
    const b = l + 0.5 - size / 2;
    for (let k = 0; k < size; k++) {
      const a = k + 0.5 - size / 2;
      // roiToFrame(k + 0.5, l + 0.5), clamped: the edge pixels repeat outside the frame
      const x = Math.min(W - 1, Math.max(0, roi.centerX + a * cs - b * sn));
      const y = Math.min(H - 1, Math.max(0, roi.centerY + a * sn + b * cs));
      const x0 = Math.floor(x), y0 = Math.floor(y), x1 = Math.min(W - 1, x0 + 1), y1 = Math.min(H - 1, y0 + 1);
      const wx = x - x0, wy = y - y0, o = l * size + k;
      const w00 = (1 - wx) * (1 - wy), w01 = wx * (1 - wy), w10 = (1 - wx) * wy, w11 = wx * wy;
      if (frame.format === 'rgb') {
        const p00 = (y0 * W + x0) * 3, p01 = (y0 * W + x1) * 3, p10 = (y1 * W + x0) * 3, p11 = (y1 * W + x1) * 3;
        for (let c = 0; c < 3; c++) out[c * n + o] = (d[p00 + c] * w00 + d[p01 + c] * w01 + d[p10 + c] * w10 + d[p11 + c] * w11) / 255;
      } else {
        const Y = 1.164 * (d[y0 * W + x0] * w00 + d[y0 * W + x1] * w01 + d[y1 * W + x0] * w10 + d[y1 * W + x1] * w11 - 16);
        const c00 = (y0 >> 1) * cw + (x0 >> 1), c01 = (y0 >> 1) * cw + (x1 >> 1), c10 = (y1 >> 1) * cw + (x0 >> 1), c11 = (y1 >> 1) * cw + (x1 >> 1);
        const U = d[uOff + c00] * w00 + d[uOff + c01] * w01 + d[uOff + c10] * w10 + d[uOff + c11] * w11 - 128;
        const V = d[vOff + c00] * w00 + d[vOff + c01] * w01 + d[vOff + c10] * w10 + d[vOff + c11] * w11 - 128;
        out[o] = clamp255(Y + 1.596 * V) / 255;
        out[n + o] = clamp255(Y - 0.392 * U - 0.813 * V) / 255;
        out[2 * n + o] = clamp255(Y + 2.017 * U) / 255;
      }
    }
  }
  return out;
}

const clamp255 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);

/** The network's raw outputs: `mesh` [468*3] x, y, z in crop coordinates; `faceflag` the face-presence probability. */
export interface FaceMeshOutputs {
  readonly mesh: Float32Array;
  readonly faceflag: number;
}

export interface FaceMeshResult {
  /** [468*3] x, y, z in frame pixels (z at the scale of x and y; smaller = nearer the camera), MediaPipe's numbering */
  readonly points: Float32Array;
  /** the network's face-presence probability (MediaPipe drops the face below 0.5) */
  readonly faceflag: number;
  /** the region that was cropped */
  readonly roi: FaceMeshRoi;
}

const INPUT = 'image';
const OUTPUTS = ['mesh', 'faceflag'] as const;

/**
 * Converts the committed TF.js graph to ONNX at `path` with Debian's python3 (PyTorch + onnx), via a temporary file
 * renamed into place, so that a concurrent reader never sees half a file.
 */
function convert(path: string): void {
  const root = projectRoot();
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp.onnx`;
  const args = [join(root, CONVERTER), '--model-json', join(root, MODEL_JSON), '--onnx', tmp];
  const r = spawnSync(PYTHON, args, { cwd: root, encoding: 'utf8', timeout: 600_000, maxBuffer: 16 * 1024 * 1024 });
  if (r.status !== 0 || !existsSync(tmp)) {
    rmSync(tmp, { force: true });
    const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}: ${`${r.stderr ?? ''}${r.stdout ?? ''}`.trim().split('\n').slice(-3).join(' | ')}`;
    throw new AssetError(
      `face mesh: ${path} is missing and converting it failed (\`${PYTHON} ${CONVERTER} --model-json ${MODEL_JSON} --onnx ${path}\`: ${why}). ` +
        `The converter needs PyTorch and onnx for ${PYTHON}: Debian's python3-torch and python3-onnx (apt-get install python3-torch python3-onnx).`,
    );
  }
  renameSync(tmp, path);
}

export class FaceMeshReference {
  private constructor(
    readonly path: string,
    private readonly session: ort.InferenceSession,
  ) {}

  /**
   * Loads the ONNX network; without a path, DEFAULT_FACE_MESH_PATH, converted from the committed TF.js graph first
   * when it is not there yet (a second or so; needs python3-torch and python3-onnx).
   */
  static async load(onnxPath?: string): Promise<FaceMeshReference> {
    const path = onnxPath ?? DEFAULT_FACE_MESH_PATH;
    if (onnxPath === undefined && !existsSync(path)) convert(path);
    const session = await openOnnxSession(path, 'face mesh', { inputs: [INPUT], outputs: OUTPUTS });
    const model = new FaceMeshReference(path, session);
    const probe = await model.run(new Float32Array(3 * FACE_MESH_INPUT * FACE_MESH_INPUT));
    if (probe.mesh.length !== 3 * FACE_MESH_POINTS) {
      await session.release();
      throw new ModelContractError(`face mesh ${path}: 'mesh' has ${probe.mesh.length} values, expected ${3 * FACE_MESH_POINTS}`);
    }
    return model;
  }

  /** The network alone: `image` [3*192*192] RGB channels first, 0..1. */
  async run(image: Float32Array): Promise<FaceMeshOutputs> {
    const S = FACE_MESH_INPUT;
    if (image.length !== 3 * S * S) throw new InputError(`face mesh: image has ${image.length} values, expected 3*${S}*${S}`);
    const out = await this.session.run({ [INPUT]: new ort.Tensor('float32', image, [1, 3, S, S]) }, [...OUTPUTS]);
    return { mesh: Float32Array.from(out.mesh.data as Float32Array), faceflag: (out.faceflag.data as Float32Array)[0] };
  }

  /** The 468 points of the face of detection `det` (our BlazeFace's: box and eye keypoints in frame pixels). */
  async locate(frame: FramePixels, det: DetectedFace): Promise<FaceMeshResult> {
    const roi = roiFromDetection(det);
    const { mesh, faceflag } = await this.run(faceMeshCrop(frame, roi));
    const s = roi.side / FACE_MESH_INPUT;
    const points = new Float32Array(3 * FACE_MESH_POINTS);
    for (let i = 0; i < FACE_MESH_POINTS; i++) {
      const [x, y] = roiToFrame(roi, mesh[3 * i], mesh[3 * i + 1]);
      points[3 * i] = x;
      points[3 * i + 1] = y;
      points[3 * i + 2] = mesh[3 * i + 2] * s;
    }
    return { points, faceflag, roi };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
