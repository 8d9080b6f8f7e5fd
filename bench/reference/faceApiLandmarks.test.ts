import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { projectRoot } from '../../node/projectRoot.js';
import type { FramePixels } from '../../server/engine/crop.js';
import { DetectorModel } from '../../server/engine/model/detectorModel.js';
import { detectFaces, wholeFrameViews } from '../../server/engine/detect/faceDetector.js';
import { FACE_API_INPUT, FaceApiLandmarks, faceApiBoxFromBlazeFace, faceApiCrop } from './faceApiLandmarks.js';

/** written by models/train/tools/faceapi_tfjs_fixture.mjs: face-api's faceLandmark68Net in TF.js (WASM backend) */
const FIXTURE = join(projectRoot(), 'models', 'fixtures', 'face-api-68-tfjs.json');

interface Fixture {
  runtime: { backend: string };
  cases: { name: string; input_uint8_base64?: string; formula?: string; landmarks: number[] }[];
  pipeline: { image: string; box: { x: number; y: number; width: number; height: number }; points: [number, number][] };
}

/**
 * Grace Hopper's official US Navy portrait (public domain), Debian's python-matplotlib-data; read in place. The
 * outer eye corners (points 36 and 45, the subject's right eye on the image's left) measured by hand on a 8×
 * enlargement: where the upper and lower lids meet, behind the glasses (whose frame ends lie some 15 px further
 * out, at about (191, 187) and (337, 182)). About ±3 px: the corners are soft.
 */
const HOPPER = '/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg';
const HOPPER_OUTER_EYE_CORNERS: [number, number][] = [[205, 189], [323, 185]];

const S = FACE_API_INPUT;
/** the synthetic input's formula, as in the fixture script and the converter */
const synthetic = (x: number, y: number, c: number) => (3 * x + 5 * y + 80 * c + ((x * y * (c + 1)) >> 4)) & 255;

function readJpeg(file: string): FramePixels {
  const img = jpeg.decode(readFileSync(file), { useTArray: true });
  const data = new Uint8Array(img.width * img.height * 3);
  for (let i = 0; i < img.width * img.height; i++) data.set(img.data.subarray(i * 4, i * 4 + 3), i * 3);
  return { format: 'rgb', width: img.width, height: img.height, data };
}

/** the fixture case's 112x112 input as the ONNX graph takes it: [3,112,112] RGB 0..255 */
function caseInput(c: Fixture['cases'][number]): Float32Array {
  const n = S * S, out = new Float32Array(3 * n);
  const hwc = c.input_uint8_base64 ? Buffer.from(c.input_uint8_base64, 'base64') : undefined;
  if (hwc && hwc.length !== 3 * n) throw new Error(`${c.name}: ${hwc.length} bytes`);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) for (let k = 0; k < 3; k++) {
    out[k * n + y * S + x] = hwc ? hwc[(y * S + x) * 3 + k] : synthetic(x, y, k);
  }
  return out;
}

t.test('the ONNX conversion gives TF.js\'s outputs (face-api\'s own runtime) on the fixture inputs', async (t) => {
  const fx = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Fixture;
  const net = await FaceApiLandmarks.load();
  t.teardown(() => net.close());
  t.equal(fx.cases.length, 2);
  for (const c of fx.cases) {
    const got = await net.run(caseInput(c));
    let worst = 0;
    for (let i = 0; i < 136; i++) worst = Math.max(worst, Math.abs(got[i] - c.landmarks[i]));
    // measured 9.9e-8 (grace_hopper_crop) and 2.8e-7 (synthetic): float32 rounding and the fixture's 7 digits
    t.ok(worst < 1e-6, `${c.name}: max |onnxruntime - TF.js ${fx.runtime.backend}| = ${worst.toExponential(2)} of the square = ${(worst * S).toExponential(2)} px of a 112 crop`);
  }
});

t.test('locate() crops as face-api does: its own pipeline on the photo, up to the two documented geometric fixes', async (t) => {
  const fx = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Fixture;
  const net = await FaceApiLandmarks.load();
  t.teardown(() => net.close());
  const photo = readJpeg(fx.pipeline.image);
  const b = fx.pipeline.box;
  const box = { x0: b.x, y0: b.y, x1: b.x + b.width, y1: b.y + b.height };
  const pts = await net.locate(photo, box);
  // face-api maps back with the unfloored box corner and half the padding; locate() with the crop actually made
  const crop = faceApiCrop(photo, box);
  const dx = b.x - crop.x + (crop.padLeft - (crop.side - crop.width) / 2);
  const dy = b.y - crop.y + (crop.padTop - (crop.side - crop.height) / 2);
  let worst = 0;
  for (let i = 0; i < 68; i++) {
    const [x, y] = fx.pipeline.points[i];
    worst = Math.max(worst, Math.abs(pts[2 * i] + dx - x), Math.abs(pts[2 * i + 1] + dy - y));
  }
  // measured 8.2e-5 px (TF's resize vs ours, TF.js WASM vs onnxruntime, the fixture's 7 digits)
  t.ok(worst < 1e-3, `face-api's SSD box ${b.width.toFixed(1)}x${b.height.toFixed(1)}: max difference ${worst.toExponential(2)} px after the shift (${dx.toFixed(3)}, ${dy.toFixed(3)})`);
  t.ok(Math.abs(dx) < 1.5 && Math.abs(dy) < 1.5, 'the fixes move the points by less than 1.5 px');
});

t.test('on a BlazeFace box, the outer eye corners land on the hand-measured ones (Grace Hopper)', async (t) => {
  const det = await DetectorModel.load();
  const net = await FaceApiLandmarks.load();
  t.teardown(async () => { await det.close(); await net.close(); });
  const photo = readJpeg(HOPPER);
  const faces = await detectFaces(photo, wholeFrameViews(photo.width, photo.height), (image) => det.run(image));
  t.ok(faces.length >= 1, 'BlazeFace finds the face');
  const box = faceApiBoxFromBlazeFace(faces[0]);
  const pts = await net.locate(photo, box);
  for (const [k, i] of [36, 45].entries()) {
    const [x, y] = HOPPER_OUTER_EYE_CORNERS[k];
    const err = Math.hypot(pts[2 * i] - x, pts[2 * i + 1] - y);
    t.ok(err < 8, `point ${i} at (${pts[2 * i].toFixed(1)}, ${pts[2 * i + 1].toFixed(1)}), ${err.toFixed(1)} px from the hand-measured (${x}, ${y})`);
  }
  // all 68 inside the face box, grown by a third
  const w = box.x1 - box.x0, h = box.y1 - box.y0;
  let inside = 0;
  for (let i = 0; i < 68; i++) {
    if (pts[2 * i] > box.x0 - w / 3 && pts[2 * i] < box.x1 + w / 3 && pts[2 * i + 1] > box.y0 - h / 3 && pts[2 * i + 1] < box.y1 + h / 3) inside++;
  }
  t.equal(inside, 68, 'all points near the face box');

  // I420 frames: the same face within a pixel or so (chroma at half resolution, BT.601 round trip)
  const i420 = toI420(photo);
  const p2 = await net.locate(i420, box);
  let worst = 0;
  for (let i = 0; i < 136; i++) worst = Math.max(worst, Math.abs(p2[i] - pts[i]));
  t.ok(worst < 2, `I420 frame: points within ${worst.toFixed(2)} px of the RGB frame's`);

  const runs = 30, input = faceApiCrop(photo, box).input;
  let t0 = performance.now();
  for (let r = 0; r < runs; r++) await net.locate(photo, box);
  const msLocate = (performance.now() - t0) / runs;
  t0 = performance.now();
  for (let r = 0; r < runs; r++) await net.run(input);
  t.comment(`locate(): ${msLocate.toFixed(2)} ms per face (crop, resize, network); the network alone ${((performance.now() - t0) / runs).toFixed(2)} ms (onnxruntime-node, 1 thread)`);
});

t.test('bad inputs are refused with the reason', async (t) => {
  const net = await FaceApiLandmarks.load();
  t.teardown(() => net.close());
  const frame: FramePixels = { format: 'rgb', width: 8, height: 8, data: new Uint8Array(8 * 8 * 3) };
  await t.rejects(net.locate(frame, { x0: 20, y0: 20, x1: 30, y1: 30 }), { name: 'InputError', message: /no pixels/ });
  await t.rejects(net.locate(frame, { x0: 0, y0: NaN, x1: 3, y1: 3 }), { name: 'InputError', message: /not finite/ });
  await t.rejects(net.locate({ ...frame, data: new Uint8Array(5) }, { x0: 0, y0: 0, x1: 3, y1: 3 }), { name: 'InputError', message: /needs 192 bytes/ });
  await t.rejects(net.run(new Float32Array(10)), { name: 'InputError' });
  await t.rejects(FaceApiLandmarks.load(join(projectRoot(), 'models', 'nope.onnx')), { name: 'InputError', message: /cannot read it/ });
  // a box partly outside the frame is clipped as face-api clips it; a 1-pixel sliver still gives 68 points
  const pts = await net.locate(frame, { x0: -5, y0: 7, x1: 4, y1: 20 });
  t.equal(pts.length, 136);
  t.ok(pts.every(Number.isFinite));
});

/** BT.601 limited-range I420 of an RGB frame (the inverse of the conversion crop.ts applies) */
function toI420(f: FramePixels): FramePixels {
  const W = f.width, H = f.height, cw = (W + 1) >> 1, ch = (H + 1) >> 1, d = f.data;
  const out = new Uint8Array(W * H + 2 * cw * ch);
  const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
  for (let i = 0; i < W * H; i++) out[i] = clamp(16 + 0.257 * d[i * 3] + 0.504 * d[i * 3 + 1] + 0.098 * d[i * 3 + 2]);
  for (let y = 0; y < ch; y++) for (let x = 0; x < cw; x++) {
    let r = 0, g = 0, b = 0, n = 0;
    for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) {
      const xx = Math.min(W - 1, 2 * x + dx), yy = Math.min(H - 1, 2 * y + dy), o = (yy * W + xx) * 3;
      r += d[o]; g += d[o + 1]; b += d[o + 2]; n++;
    }
    r /= n; g /= n; b /= n;
    out[W * H + y * cw + x] = clamp(128 - 0.148 * r - 0.291 * g + 0.439 * b);
    out[W * H + cw * ch + y * cw + x] = clamp(128 + 0.439 * r - 0.368 * g - 0.071 * b);
  }
  return { format: 'i420', width: W, height: H, data: out };
}
