// The parity fixture for MediaPipe Face Mesh, from the ORIGINAL runtime: the TF.js graph model
// models/third_party/mediapipe-facemesh/facemesh.json run by TensorFlow.js 4.22.0 (tfjs-core + tfjs-converter,
// wasm backend) on two inputs; writes models/fixtures/facemesh-tfjs.json, which models/train/convert_facemesh.py
// --check and models/train/facemeshParity.test.ts compare the PyTorch port and its ONNX export against.
//
// TensorFlow.js is not a project dependency. Get it into any folder (about 90 MB with its dependencies) and point
// NODE_PATH at it (the script loads it with require(), which honours NODE_PATH):
//
//   npm install --no-save --prefix /tmp/tfjs @tensorflow/tfjs-core@4.22.0 @tensorflow/tfjs-converter@4.22.0 \
//       @tensorflow/tfjs-backend-wasm@4.22.0
//   NODE_PATH=/tmp/tfjs/node_modules node models/train/tools/facemesh_tfjs_fixture.mjs [--out FILE] [--digits 6]
//
// jpeg-js (a project dependency) decodes the photo. Options: --model JSON, --image JPEG, --out FILE,
// --digits N (significant digits kept, default 6), --backend wasm|cpu (cpu needs @tensorflow/tfjs-backend-cpu).
//
// The inputs (NHWC [1,192,192,3] float32, RGB in [0,1], as the graph takes them; the PyTorch/ONNX side feeds the
// same values as NCHW [1,3,192,192]):
//  (a) `grace_hopper`: a face crop of /usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg (512x600, public
//      domain, shipped by Debian's python-matplotlib-data) decoded by jpeg-js 0.4.4: the square of side 300 centred at
//      (265, 240), i.e. x 115..415, y 90..390 in image pixels (pixel centres at integer coordinates), resampled to
//      192x192 bilinearly with aligned pixel centres: output pixel (row i, column j) samples the image at
//      x = 115 + (j + 0.5) * 300 / 192 - 0.5, y = 90 + (i + 0.5) * 300 / 192 - 0.5 (interpolating the 4 nearest
//      pixels, clamped to the image), rounded to uint8 (floor(v + 0.5)); the input is that uint8 value / 255.
//      JPEG decoders differ by a few levels, so the crop itself is stored (uint8 RGB, row-major HWC, base64).
//  (b) `pattern`: value at row y, column x, channel c (0..191, 0..191, 0..2) =
//      0.5 + 0.4 * sin(0.21 * x + 0.13 * y + 2.1 * c) * cos(0.07 * x - 0.11 * y + 0.9 * c), computed in double
//      precision and stored as float32.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SIZE = 192;
export const CROP = { image: '/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg', cx: 265, cy: 240, side: 300, size: SIZE };
export const PATTERN = '0.5 + 0.4 * sin(0.21 * x + 0.13 * y + 2.1 * c) * cos(0.07 * x - 0.11 * y + 0.9 * c)';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** The crop of (a): uint8 RGB, HWC. */
export function cropPhoto(rgba, width, height, { cx, cy, side, size }) {
  const x0 = cx - side / 2, y0 = cy - side / 2, step = side / size;
  const out = new Uint8Array(size * size * 3);
  const px = (x, y, c) => rgba[(Math.min(Math.max(y, 0), height - 1) * width + Math.min(Math.max(x, 0), width - 1)) * 4 + c];
  for (let i = 0; i < size; i++) {
    const sy = y0 + (i + 0.5) * step - 0.5, fy = Math.floor(sy), wy = sy - fy;
    for (let j = 0; j < size; j++) {
      const sx = x0 + (j + 0.5) * step - 0.5, fx = Math.floor(sx), wx = sx - fx;
      for (let c = 0; c < 3; c++) {
        const top = px(fx, fy, c) * (1 - wx) + px(fx + 1, fy, c) * wx;
        const bottom = px(fx, fy + 1, c) * (1 - wx) + px(fx + 1, fy + 1, c) * wx;
        out[(i * size + j) * 3 + c] = Math.floor(top * (1 - wy) + bottom * wy + 0.5);
      }
    }
  }
  return out;
}

/** The input (b), NHWC float32. */
export function pattern(size = SIZE) {
  const out = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++)
      for (let c = 0; c < 3; c++)
        out[(y * size + x) * 3 + c] = 0.5 + 0.4 * Math.sin(0.21 * x + 0.13 * y + 2.1 * c) * Math.cos(0.07 * x - 0.11 * y + 0.9 * c);
  return out;
}

async function main() {
  const modelJson = resolve(arg('model', join(ROOT, 'models/third_party/mediapipe-facemesh/facemesh.json')));
  const outFile = resolve(arg('out', join(ROOT, 'models/fixtures/facemesh-tfjs.json')));
  const digits = Number(arg('digits', '6'));
  const backend = arg('backend', 'wasm');
  const imagePath = arg('image', CROP.image);

  const core = require('@tensorflow/tfjs-core');
  const converter = require('@tensorflow/tfjs-converter');
  // in Node the wasm backend finds its .wasm files next to its own JS; do not call setWasmPaths
  const backendPkg = require(backend === 'wasm' ? '@tensorflow/tfjs-backend-wasm' : '@tensorflow/tfjs-backend-cpu');
  await core.setBackend(backend);
  await core.ready();

  const j = JSON.parse(readFileSync(modelJson, 'utf8'));
  const specs = [], bufs = [];
  for (const group of j.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) bufs.push(readFileSync(join(dirname(modelJson), p)));
  }
  const all = Buffer.concat(bufs);
  const model = await converter.loadGraphModel(core.io.fromMemory({
    modelTopology: j.modelTopology, weightSpecs: specs,
    weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
    format: j.format, generatedBy: j.generatedBy, convertedBy: j.convertedBy, signature: j.signature,
  }));
  const sig = j.signature.outputs; // output_mesh, output_faceflag, output_contours -> node names
  const names = ['mesh', 'faceflag', 'contours'];
  const outNames = names.map((n) => sig[`output_${n}`].name);
  const inputName = Object.values(j.signature.inputs)[0].name.split(':')[0];

  const jpeg = require('jpeg-js');
  const img = jpeg.decode(readFileSync(imagePath), { useTArray: true, formatAsRGBA: true });
  const crop = cropPhoto(img.data, img.width, img.height, CROP);
  const cropFloat = Float32Array.from(crop, (v) => v / 255);

  const round = (v) => Number(v.toPrecision(digits));
  const run = (data) => {
    const x = core.tensor4d(data, [1, SIZE, SIZE, 3], 'float32');
    const outs = model.execute({ [inputName]: x }, outNames);
    const res = Object.fromEntries(names.map((n, i) => [n, Array.from(outs[i].dataSync(), round)]));
    core.dispose([x, ...outs]);
    return res;
  };
  const t0 = performance.now();
  const cases = [
    {
      name: 'grace_hopper',
      input: {
        kind: 'photo_crop', ...CROP, image_size: [img.width, img.height], decoder: 'jpeg-js 0.4.4',
        definition: 'output pixel (row i, column j) samples the image bilinearly at x = cx - side/2 + (j + 0.5) * side/size - 0.5, ' +
          'y = cy - side/2 + (i + 0.5) * side/size - 0.5 (4 nearest pixels, clamped), rounded with floor(v + 0.5); input = uint8 / 255',
        encoding: 'uint8 RGB, row-major HWC, base64', data: Buffer.from(crop).toString('base64'),
      },
      tfjs: run(cropFloat),
    },
    {
      name: 'pattern',
      input: { kind: 'formula', formula: PATTERN, variables: 'y row, x column, c channel (RGB); each 0-based', dtype: 'float32 (computed in double)' },
      tfjs: run(pattern()),
    },
  ];
  const ms = performance.now() - t0;
  const fixture = {
    about: 'MediaPipe Face Mesh (facemesh.json) run by the original TF.js runtime; written by models/train/tools/facemesh_tfjs_fixture.mjs',
    model: { file: relative(ROOT, modelJson), sha256: createHash('sha256').update(readFileSync(modelJson)).digest('hex'),
      bin_sha256: createHash('sha256').update(all).digest('hex') },
    runtime: { tfjs_core: core.version_core, tfjs_converter: converter.version_converter,
      backend, backend_version: backendPkg[`version_${backend}`] ?? null, node: process.version },
    input_layout: 'NHWC [1,192,192,3] float32 RGB in [0,1] for TF.js; the same values as NCHW [1,3,192,192] for PyTorch/ONNX',
    outputs: { mesh: '[1,1404]: 468 x, y, z in 192-pixel crop units', faceflag: '[1,1]: face presence after the graph\'s sigmoid',
      contours: '[1,266]: 133 x, y' },
    significant_digits: digits,
    cases,
  };
  mkdirSync(dirname(outFile), { recursive: true });
  // two-space JSON with each number array on one line
  const text = JSON.stringify(fixture, null, 2).replace(/\[\s+([-\d.e+,\s]+?)\s+\]/g, (_, body) => `[${body.split(/,\s+/).join(',')}]`);
  writeFileSync(outFile, text + '\n');
  for (const c of cases) console.log(`${c.name}: faceflag ${c.tfjs.faceflag[0]}, mesh[0..2] ${c.tfjs.mesh.slice(0, 3).join(' ')}`);
  console.log(`${relative(process.cwd(), outFile)} written (${backend}, 2 runs in ${ms.toFixed(0)} ms)`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
