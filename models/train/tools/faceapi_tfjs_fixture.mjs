// Parity fixture for models/third_party/face-api/face_landmark_68.onnx, from the ORIGINAL runtime: face-api.js's
// faceLandmark68Net run by TF.js (@vladmandic/face-api, WASM backend) in plain Node.
//
// TF.js is NOT a dependency of this project (330 MB); install it beside, outside the checkout:
//
//   npm install --no-save --prefix /tmp/faceapi-tfjs \
//       @vladmandic/face-api@1.7.15 @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0
//   node models/train/tools/faceapi_tfjs_fixture.mjs --prefix /tmp/faceapi-tfjs [--backend wasm|cpu] \
//       [--out models/fixtures/face-api-68-tfjs.json]
//
// (run from the checkout: jpeg-js comes from the project's own node_modules, the same decoder the tests use).
// Writes the JSON fixture that bench/reference/faceApiLandmarks.test.ts and
// models/train/convert_faceapi_landmarks.py --check-fixture read:
//
//   cases[].name, .input: how the 112x112 RGB input is made (HWC, x = column, y = row, c = channel),
//   cases[].input_uint8_base64 (when not given by a formula): the 112*112*3 bytes, HWC,
//   cases[].landmarks: the network's 136 raw outputs (x, y of 68 points in 0..1 of the input square), 7 significant
//   digits. The network is called on a 112x112 tensor built here (face-api's toBatchTensor then does nothing but
//   cast it to float32), through FaceLandmark68Net.runNet: no post-processing.
//   pipeline: face-api's own detectAllFaces(photo).withFaceLandmarks() (SSD MobileNet v1 box, then the landmark net
//   on face-api's crop of it), frame pixels: checks a re-implementation of face-api's crop convention.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import jpeg from 'jpeg-js';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
const prefix = opt('prefix', process.env.FACEAPI_TFJS_PREFIX ?? '/tmp/faceapi-tfjs');
const backend = opt('backend', 'wasm');
const out = opt('out', 'models/fixtures/face-api-68-tfjs.json');
if (!existsSync(join(prefix, 'node_modules', '@vladmandic', 'face-api'))) {
  console.error(`faceapi_tfjs_fixture: no @vladmandic/face-api under ${prefix}/node_modules; install it as this file's header says`);
  process.exit(1);
}

const PHOTO = '/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg';
/** the square face box on the photo (frame pixels, integer corner convention of tf.slice) */
const BOX = { x0: 161, y0: 133, side: 209 };
const S = 112;
/** the synthetic input, integers 0..255; the same formula is in the converter and the test */
const SYNTHETIC = '(3*x + 5*y + 80*c + ((x*y*(c+1)) >> 4)) & 255';
const synthetic = (x, y, c) => (3 * x + 5 * y + 80 * c + ((x * y * (c + 1)) >> 4)) & 255;

const require = createRequire(join(prefix, 'node_modules', 'noop.js'));
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
const tf = faceapi.tf;
if (backend === 'wasm') require('@tensorflow/tfjs-backend-wasm'); // finds its .wasm beside itself in Node
await tf.setBackend(backend);
await tf.ready();
const modelDir = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
await faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir);
await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
const net = faceapi.nets.faceLandmark68Net;

const sig7 = (v) => Number(v.toPrecision(7));
const sha256 = (f) => createHash('sha256').update(readFileSync(f)).digest('hex');

/** the net's raw output [136] on a 112x112x3 tensor */
async function runNet(hwc) {
  const input = tf.tensor3d(hwc, [S, S, 3], 'float32');
  const netInput = await faceapi.toNetInput(input);
  const y = net.runNet(netInput);
  const v = Array.from(await y.data());
  tf.dispose([input, y]);
  return v;
}

// (a) the photo: decoded by jpeg-js, the box sliced and brought to 112x112 exactly as face-api's toBatchTensor does
// (padToSquare: nothing to pad, the box is square; tf.image.resizeBilinear(alignCorners=false,
// halfPixelCenters=false)), then rounded to bytes so the input is fully defined by the fixture
const img = jpeg.decode(readFileSync(PHOTO), { useTArray: true });
const rgb = new Int32Array(img.width * img.height * 3);
for (let i = 0; i < img.width * img.height; i++) for (let k = 0; k < 3; k++) rgb[i * 3 + k] = img.data[i * 4 + k];
const photo = tf.tensor3d(rgb, [img.height, img.width, 3], 'int32');
const crop112 = tf.tidy(() => {
  const crop = tf.slice(photo, [BOX.y0, BOX.x0, 0], [BOX.side, BOX.side, 3]).toFloat().expandDims(0);
  return tf.image.resizeBilinear(crop, [S, S], false, false).squeeze([0]).round().clipByValue(0, 255);
});
const hopperBytes = Uint8Array.from(await crop112.data());
tf.dispose(crop112);
const hopper = await runNet(Float32Array.from(hopperBytes));

// (b) the synthetic pattern
const synth = new Float32Array(S * S * 3);
for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) for (let c = 0; c < 3; c++) synth[(y * S + x) * 3 + c] = synthetic(x, y, c);
const synthOut = await runNet(synth);

// face-api's whole pipeline on the photo
const found = await faceapi.detectAllFaces(photo, new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 })).withFaceLandmarks();
if (found.length !== 1) throw new Error(`face-api found ${found.length} faces on ${PHOTO}`);
const { detection, landmarks } = found[0];
tf.dispose(photo);

const fixture = {
  what: 'face-api.js faceLandmark68Net run by TF.js (the original runtime): raw outputs on two fixed 112x112 inputs, and face-api\'s own pipeline on a photo',
  written_by: 'models/train/tools/faceapi_tfjs_fixture.mjs',
  runtime: { faceapi: faceapi.version, tfjs: tf.version.tfjs ?? tf.version_core, backend: tf.getBackend() },
  weights: {
    'face_landmark_68_model-weights_manifest.json': sha256(join(modelDir, 'face_landmark_68_model-weights_manifest.json')),
    'face_landmark_68_model.bin': sha256(join(modelDir, 'face_landmark_68_model.bin')),
  },
  output: 'landmarks: 136 values x0, y0, x1, y1, ... in 0..1 of the 112x112 input square (7 significant digits)',
  cases: [
    {
      name: 'grace_hopper_crop',
      input: `${PHOTO} decoded by jpeg-js 0.4.4; the square x ${BOX.x0}..${BOX.x0 + BOX.side - 1}, y ${BOX.y0}..${BOX.y0 + BOX.side - 1} (side ${BOX.side}) resized to 112x112 by tf.image.resizeBilinear(alignCorners=false, halfPixelCenters=false) as face-api's toBatchTensor does, rounded to bytes; HWC RGB in input_uint8_base64`,
      box: BOX,
      input_uint8_base64: Buffer.from(hopperBytes).toString('base64'),
      landmarks: hopper.map(sig7),
    },
    { name: 'synthetic', input: `HWC RGB value at column x, row y, channel c (0..111, 0..2): ${SYNTHETIC}`, formula: SYNTHETIC, landmarks: synthOut.map(sig7) },
  ],
  pipeline: {
    image: PHOTO,
    call: 'faceapi.detectAllFaces(int32 tensor [H,W,3], new SsdMobilenetv1Options({ minConfidence: 0.5 })).withFaceLandmarks()',
    box: { x: detection.box.x, y: detection.box.y, width: detection.box.width, height: detection.box.height, score: detection.score },
    points: landmarks.positions.map((p) => [sig7(p.x), sig7(p.y)]),
  },
};
writeFileSync(out, `${JSON.stringify(fixture, null, 1)}\n`);
console.log(`faceapi_tfjs_fixture: ${out} (face-api ${faceapi.version}, backend ${tf.getBackend()}); SSD box ${JSON.stringify(fixture.pipeline.box)}`);
