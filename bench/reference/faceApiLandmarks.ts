/**
 * The real-image benchmark's YARDSTICK: face-api.js's 68-point landmark network (faceLandmark68Net, trained on real
 * faces; models/third_party/face-api), converted to ONNX (models/train/convert_faceapi_landmarks.py) and run in
 * onnxruntime-node. Our own landmarks are measured against it; it never produces the engine's landmarks.
 *
 * `locate` repeats face-api's own crop convention (src/dom/extractFaceTensors.ts, NetInput.toBatchTensor,
 * FaceLandmark68NetBase.postProcess of @vladmandic/face-api 1.7.15): the box, as face-api's SSD MobileNet v1
 * detector gives it, is clipped to the frame and floored (x, y, width and height each); those pixels are padded to a
 * square with zeros (centred: floor(d/2) columns or rows before, the rest after), resized to 112×112 by TF's
 * legacy bilinear resize (alignCorners = halfPixelCenters = false: output pixel i samples input i·side/112), and
 * the graph normalizes ((rgb − mean) / 255) itself. Two deliberate differences from face-api's arithmetic when it
 * maps the outputs back, both geometric fixes of at most a pixel: it subtracts the padding as |w − h|/2 (half a
 * pixel off for odd differences) and shifts by the unclipped, unfloored box corner; here the points go back through
 * the padding and the crop corner actually used.
 *
 * Coordinates: frame pixels, the network's square mapped back as `crop corner + output · side − padding`, i.e. the
 * pixel-index coordinates of TF's resize (pixel centres at integers, as everywhere in this project).
 */
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { openOnnxSession } from '../../server/engine/model/onnxSession.js';
import { InputError, ModelContractError } from '../../shared/errors.js';
import { projectRoot } from '../../node/projectRoot.js';
import { cropToModelInput, type FramePixels } from '../../server/engine/crop.js';
import { rollOf, type DetectedFace } from '../../server/engine/detect/faceDetector.js';
import { CropPlacement } from '../../shared/cropPlacement.js';

export const DEFAULT_FACE_API_LANDMARKS_PATH = join(projectRoot(), 'models', 'third_party', 'face-api', 'face_landmark_68.onnx');

/** the network's input side */
export const FACE_API_INPUT = 112;
export const FACE_API_POINTS = 68;

/** A face box in frame pixels: the top-left corner (x0, y0) and the bottom-right one (x1, y1) = (x + width, y + height). */
export interface FaceBox {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

/** The crop face-api makes of a box: integer pixels x..x+width−1, y..y+height−1, padded to `side`. */
export interface FaceApiCrop {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly side: number;
  readonly padLeft: number;
  readonly padTop: number;
  /** [3*112*112] RGB channels first, 0..255: the network's `image` */
  readonly input: Float32Array;
}

/**
 * face-api's crop of `box`: extractFaceTensors (Box.clipAtImageBorders, then floor of x, y, width, height),
 * padToSquare(centred) with zeros, tf.image.resizeBilinear(112, alignCorners=false, halfPixelCenters=false).
 * I420 frames are converted per pixel (BT.601 limited range, as server/engine/crop.ts does).
 */
export function faceApiCrop(frame: FramePixels, box: FaceBox): FaceApiCrop {
  const W = frame.width, H = frame.height;
  const need = frame.format === 'rgb' ? W * H * 3 : W * H + 2 * ((W + 1) >> 1) * ((H + 1) >> 1);
  if (frame.data.length !== need) throw new InputError(`${frame.format} frame ${W}x${H} needs ${need} bytes, got ${frame.data.length}`);
  if (![box.x0, box.y0, box.x1, box.y1].every(Number.isFinite)) throw new InputError(`face box ${JSON.stringify(box)} is not finite`);
  const cx = Math.max(box.x0, 0), cy = Math.max(box.y0, 0);
  const x = Math.floor(cx), y = Math.floor(cy);
  const width = Math.floor(Math.min(box.x1 - cx, W - cx)), height = Math.floor(Math.min(box.y1 - cy, H - cy));
  if (!(width > 0 && height > 0)) throw new InputError(`face box ${JSON.stringify(box)} has no pixels in the ${W}x${H} frame`);
  const side = Math.max(width, height);
  const padLeft = (side - width) >> 1, padTop = (side - height) >> 1;

  // the padded square, RGB 0..255, row-major HWC as face-api's tensor (zeros outside the crop)
  const sq = new Float32Array(side * side * 3);
  const d = frame.data;
  for (let r = 0; r < height; r++) {
    const fy = y + r;
    for (let c = 0; c < width; c++) {
      const fx = x + c, o = ((r + padTop) * side + c + padLeft) * 3;
      if (frame.format === 'rgb') {
        const i = (fy * W + fx) * 3;
        sq[o] = d[i];
        sq[o + 1] = d[i + 1];
        sq[o + 2] = d[i + 2];
      } else {
        const cw = (W + 1) >> 1, ch = (H + 1) >> 1, ci = (fy >> 1) * cw + (fx >> 1);
        const Y = 1.164 * (d[fy * W + fx] - 16), U = d[W * H + ci] - 128, V = d[W * H + cw * ch + ci] - 128;
        sq[o] = clamp255(Y + 1.596 * V);
        sq[o + 1] = clamp255(Y - 0.392 * U - 0.813 * V);
        sq[o + 2] = clamp255(Y + 2.017 * U);
      }
    }
  }

  // TF's legacy bilinear resize (tfjs-backend-cpu ResizeBilinear, alignCorners = halfPixelCenters = false)
  const S = FACE_API_INPUT, n = S * S, scale = side / S;
  const input = new Float32Array(3 * n);
  for (let r = 0; r < S; r++) {
    const fr = r * scale, r0 = Math.max(0, Math.floor(fr)), r1 = Math.min(side - 1, Math.ceil(fr)), wr = fr - Math.floor(fr);
    for (let c = 0; c < S; c++) {
      const fc = c * scale, c0 = Math.max(0, Math.floor(fc)), c1 = Math.min(side - 1, Math.ceil(fc)), wc = fc - Math.floor(fc);
      const a = (r0 * side + c0) * 3, b = (r0 * side + c1) * 3, e = (r1 * side + c0) * 3, f = (r1 * side + c1) * 3;
      for (let k = 0; k < 3; k++) {
        const top = sq[a + k] + (sq[b + k] - sq[a + k]) * wc;
        const bottom = sq[e + k] + (sq[f + k] - sq[e + k]) * wc;
        input[k * n + r * S + c] = top + (bottom - top) * wr;
      }
    }
  }
  return { x, y, width, height, side, padLeft, padTop, input };
}

const clamp255 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);

/**
 * How a BlazeFace detection's box (server/engine/detect: square, x0, y0, x1, y1 in frame pixels) is reshaped to look
 * like the box face-api's SSD MobileNet v1 detector gives for the same face, which is the box the landmark network's
 * crops are made from: the same centre x, `width` × the BlazeFace width wide, `height` × it tall, the centre `up` ×
 * it higher.
 */
export interface BoxReshape {
  readonly width: number;
  readonly height: number;
  readonly up: number;
}

/**
 * SSD box over BlazeFace box, both detectors run on the same pictures (face-api 1.7.15's SSD in TF.js WASM; our
 * BlazeFace through detectFaces + wholeFrameViews), fitted on the two public-domain portraits (skimage's astronaut,
 * matplotlib's Grace Hopper). The 68 points from the reshaped BlazeFace box then differ from face-api's own
 * pipeline (its SSD box) by a median 2.1 % of the outer-eye-corner distance on photo variants (mirrored, scaled,
 * padded) and 2.8 % on 60 held-out renders; the ratios vary more from face to face (renders alone: 0.89, 1.12,
 * 0.087) than these choices matter.
 */
export const BLAZEFACE_TO_FACE_API_BOX: BoxReshape = Object.freeze({ width: 0.915, height: 1.07, up: 0.065 });

export function faceApiBoxFromBlazeFace(det: FaceBox, k: BoxReshape = BLAZEFACE_TO_FACE_API_BOX): FaceBox {
  const w = det.x1 - det.x0, cx = (det.x0 + det.x1) / 2, cy = (det.y0 + det.y1) / 2 - k.up * w;
  const bw = k.width * w, bh = k.height * w;
  return { x0: cx - bw / 2, y0: cy - bh / 2, x1: cx + bw / 2, y1: cy + bh / 2 };
}

const INPUT = 'image';
const OUTPUT = 'landmarks';

export class FaceApiLandmarks {
  private constructor(
    readonly path: string,
    private readonly session: ort.InferenceSession,
  ) {}

  static async load(path = DEFAULT_FACE_API_LANDMARKS_PATH): Promise<FaceApiLandmarks> {
    const session = await openOnnxSession(path, 'face-api landmarks', { inputs: [INPUT], outputs: [OUTPUT] });
    const model = new FaceApiLandmarks(path, session);
    const probe = await model.run(new Float32Array(3 * FACE_API_INPUT * FACE_API_INPUT));
    if (probe.length !== 2 * FACE_API_POINTS) {
      await session.release();
      throw new ModelContractError(`face-api landmarks ${path}: ${probe.length} outputs, expected ${2 * FACE_API_POINTS}`);
    }
    return model;
  }

  /** The network alone: `image` [3*112*112] RGB channels first, 0..255 → [136] x, y in 0..1 of the square. */
  async run(image: Float32Array): Promise<Float32Array> {
    const S = FACE_API_INPUT;
    if (image.length !== 3 * S * S) throw new InputError(`face-api landmarks: image has ${image.length} values, expected 3*${S}*${S}`);
    const out = await this.session.run({ [INPUT]: new ort.Tensor('float32', image, [1, 3, S, S]) });
    return Float32Array.from(out[OUTPUT].data as Float32Array);
  }

  /** The 68 points (x, y interleaved, frame pixels) of the face in `box` (a face-api SSD-style box, frame pixels). */
  async locate(frame: FramePixels, box: FaceBox): Promise<Float32Array> {
    const crop = faceApiCrop(frame, box);
    const p = await this.run(crop.input);
    const pts = new Float32Array(2 * FACE_API_POINTS);
    for (let i = 0; i < FACE_API_POINTS; i++) {
      pts[2 * i] = crop.x - crop.padLeft + p[2 * i] * crop.side;
      pts[2 * i + 1] = crop.y - crop.padTop + p[2 * i + 1] * crop.side;
    }
    return pts;
  }

  /**
   * The 68 points of a detected face whatever its roll: face-api was trained on upright faces, so a face rolled
   * more than `maxRoll` radians is first turned upright (an RGB view of 3 box sides, turned by the eye line's
   * angle, by the engine's own resampling), located there, and its points turned back into the frame.
   */
  async locateDetected(frame: FramePixels, det: DetectedFace, maxRoll = 0.25): Promise<Float32Array> {
    const roll = rollOf(det);
    if (Math.abs(roll) <= maxRoll) return this.locate(frame, faceApiBoxFromBlazeFace(det));
    const w = det.x1 - det.x0, cx = (det.x0 + det.x1) / 2, cy = (det.y0 + det.y1) / 2;
    const V = Math.max(64, Math.round(3 * w));
    const placement = new CropPlacement({ centerX: cx, centerY: cy, side: 3 * w, angle: roll }, V);
    const chw = cropToModelInput(frame, placement), n = V * V;
    const rgb = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) rgb[i * 3 + k] = Math.round(chw[k * n + i] * 255);
    // the detection in the upright view: centred, the same size in view pixels
    const half = (w / 2) * (V / (3 * w)), m = (V - 1) / 2;
    const upright: FaceBox = { x0: m - half, y0: m - half, x1: m + half, y1: m + half };
    const pts = await this.locate({ format: 'rgb', width: V, height: V, data: rgb }, faceApiBoxFromBlazeFace(upright));
    for (let i = 0; i < FACE_API_POINTS; i++) {
      const u = pts[2 * i], v = pts[2 * i + 1];
      pts[2 * i] = placement.frameX(u, v);
      pts[2 * i + 1] = placement.frameY(u, v);
    }
    return pts;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
