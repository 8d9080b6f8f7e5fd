import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../../node/projectRoot.js';
import { FaceModel } from './faceModel.js';
import { parityErrors } from '../../../test/parityFixture.js';

const MODEL = join(projectRoot(), 'models', 'facestream-small.onnx');
const FIXTURE = join(projectRoot(), 'models', 'fixtures', 'facestream-small-parity');

t.test('FaceModel.load(the shipped model) reads its contract', async (t) => {
  const m = await FaceModel.load(MODEL, { threads: 1 });
  t.equal(m.contract.cropSize, 128);
  t.equal(m.contract.window, 8);
  t.same(m.contract.partNames.slice(0, 4), ['background', 'face_skin', 'head_skin', 'eye']);
  t.match(m.contract.licence, /MIT/);
  await m.close();
});

t.test('FaceModel.step() of each shipped model matches the committed PyTorch outputs', async (t) => {
  for (const [model, fixture] of [[MODEL, FIXTURE], [join(projectRoot(), 'models', 'facestream-small-fm.onnx'), join(projectRoot(), 'models', 'fixtures', 'facestream-small-fm-parity')]]) {
    const m = await FaceModel.load(model, { threads: 1 });
    const errors = await parityErrors(m, fixture);
    // float32 graph-level reordering in onnxruntime vs torch: far below anything a map could show
    for (const [k, v] of Object.entries(errors)) t.ok(v < 1e-3, `${m.contract.name} ${k}: max |onnx - torch| = ${v.toExponential(2)}`);
    if (m.contract.name === 'facestream-small-fm') t.match(m.contract.licence, /Apache-2\.0/, 'the Face Mesh encoder\'s licence is named');
    await m.close();
  }
});

t.test('FaceModel.step() with a window behaves as a window: a reset drops history, a full cache shifts', async (t) => {
  const m = await FaceModel.load(MODEL, { threads: 1 });
  const S = m.contract.cropSize;
  const image = new Float32Array(3 * S * S).fill(0.4);
  const state = m.createState();
  t.same(Array.from(state.cacheValid), [0, 0, 0, 0, 0, 0, 0], 'empty window');
  await m.step(image, 150, state);
  await m.step(image, 150, state);
  t.same(Array.from(state.cacheValid), [0, 0, 0, 0, 0, 1, 1], 'two frames cached, newest last');
  FaceModel.reset(state);
  t.same(Array.from(state.cacheValid), [0, 0, 0, 0, 0, 0, 0], 'reset empties it');
  await t.rejects(m.step(new Float32Array(10), 150, state), { name: 'InputError' });
  await t.rejects(m.step(image, -1, state), { name: 'InputError' });
  await m.close();
});

t.test('FaceModel.step() of the shipped model reads the expression from its own crop, and only when given one', async (t) => {
  const m = await FaceModel.load(MODEL, { threads: 1 });
  const crop = m.contract.expressionCrop;
  t.ok(crop && crop.size >= 64 && crop.scale > 0 && crop.scale < 1, `an expression crop tighter than the face box: ${JSON.stringify(crop)}`);
  const S = m.contract.cropSize, X = crop!.size;
  const image = new Float32Array(3 * S * S).fill(0.4);
  const withCrop = await m.step(image.slice(), 150, m.createState(), new Float32Array(3 * X * X).fill(0.4));
  t.equal(withCrop.expression?.length, 57, '57 weights from a crop');
  t.ok(withCrop.expression!.every((w) => w >= 0 && w <= 1), 'each in 0..1');
  const without = await m.step(image.slice(), 150, m.createState());
  t.equal(without.expression, undefined, 'no crop, no weights (the maps alone)');
  for (const k of ['depth', 'canonical', 'parts'] as const) t.same(without[k], withCrop[k], `${k} does not depend on the expression crop`);
  await t.rejects(m.step(image.slice(), 150, m.createState(), new Float32Array(10)), { name: 'InputError', message: /expression image has 10 values/ });
  await m.close();
});

t.test('FaceModel.load() of a file that is not a facelive model says so', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'model-'));
  writeFileSync(join(dir, 'junk.onnx'), 'not a model at all');
  await t.rejects(FaceModel.load(join(dir, 'junk.onnx')), { name: 'ModelContractError' });
  await t.rejects(FaceModel.load(join(dir, 'missing.onnx')), { name: 'InputError', message: /cannot read it/ });
});

/** The shipped model's bytes with its top-level metadata_props (field 14) removed: valid ONNX, not ours. */
function withoutMetadata(bytes: Uint8Array): Uint8Array {
  const keep: Uint8Array[] = [];
  let pos = 0;
  const varint = () => {
    let v = 0, s = 0;
    for (;;) {
      const b = bytes[pos++];
      v += (b & 0x7f) * 2 ** s;
      if (!(b & 0x80)) return v;
      s += 7;
    }
  };
  while (pos < bytes.length) {
    const start = pos;
    const tag = varint();
    const wire = tag & 7;
    if (wire === 0) varint();
    else if (wire === 2) {
      const n = varint(); // read before adding: `pos += varint()` would add to the old pos
      pos += n;
    }
    else if (wire === 1) pos += 8;
    else pos += 4;
    if (tag >> 3 !== 14) keep.push(bytes.subarray(start, pos));
  }
  return Buffer.concat(keep);
}

t.test('FaceModel.load() of an ONNX model without the facelive contract names the missing metadata', async (t) => {
  const { readFileSync } = await import('node:fs');
  const dir = mkdtempSync(join(tmpdir(), 'model-'));
  const path = join(dir, 'plain.onnx');
  writeFileSync(path, withoutMetadata(readFileSync(MODEL)));
  await t.rejects(FaceModel.load(path), { name: 'ModelContractError', message: /no "facelive.contract" metadata/ });
});

t.test('FaceModel.load() on a GPU device runs the model there, or says in one line why it cannot', async (t) => {
  // this machine has no GPU (WebGPU finds no adapter) and onnxruntime-node's npm package has no CUDA provider
  // libraries: each must then fail with an InputError naming the device; where one works, its step must match the CPU's
  const cpu = await FaceModel.load(MODEL, { threads: 1 });
  const S = cpu.contract.cropSize;
  const image = new Float32Array(3 * S * S).fill(0.4);
  const want = await cpu.step(image, 150, cpu.createState());
  for (const device of ['webgpu', 'cuda'] as const) {
    let m: FaceModel | null = null;
    try {
      m = await FaceModel.load(MODEL, { threads: 1, device });
    } catch (e) {
      t.equal((e as Error).name, 'InputError', `${device}: an InputError (exit 1 in the CLI)`);
      t.match((e as Error).message, new RegExp(`^--device ${device}: onnxruntime could not run the model on `), `${device}: ${(e as Error).message}`);
      t.notMatch((e as Error).message, /\n/, 'one line');
      continue;
    }
    t.equal(m.device, device);
    const got = await m.step(image, 150, m.createState());
    let worst = 0;
    for (let i = 0; i < got.depth.length; i += 31) worst = Math.max(worst, Math.abs(got.depth[i] - want.depth[i]));
    t.ok(worst < 1e-3, `${device} runs here: depth within ${worst} m of the CPU's`);
    await m.close();
  }
  await cpu.close();
});
