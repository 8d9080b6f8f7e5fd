import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { projectRoot } from '../../node/projectRoot.js';

// MediaPipe Face Mesh: the committed TF.js graph model -> PyTorch (models/train/facelive_model/mediapipe_facemesh.py)
// -> ONNX (models/train/convert_facemesh.py), compared with what the original TF.js runtime computed on the same
// inputs (models/fixtures/facemesh-tfjs.json, written by models/train/tools/facemesh_tfjs_fixture.mjs).

const ROOT = projectRoot();
const PYTHON = '/usr/bin/python3';
const MODEL_JSON = join(ROOT, 'models', 'third_party', 'mediapipe-facemesh', 'facemesh.json');
const FIXTURE = join(ROOT, 'models', 'fixtures', 'facemesh-tfjs.json');
const OUTPUTS = ['mesh', 'faceflag', 'contours'] as const;
type Output = (typeof OUTPUTS)[number];
// the fixture keeps 6 significant digits (up to 5e-4 px at 100-1000 px); TF.js and PyTorch differ by ~1e-4 px
const TOLERANCE: Record<Output, number> = { mesh: 1e-2, faceflag: 1e-4, contours: 1e-2 };
const SIZE = 192;
const PATTERN = '0.5 + 0.4 * sin(0.21 * x + 0.13 * y + 2.1 * c) * cos(0.07 * x - 0.11 * y + 0.9 * c)';

interface FixtureCase {
  name: string;
  input: { kind: 'photo_crop'; size: number; data: string } | { kind: 'formula'; formula: string };
  tfjs: Record<Output, number[]>;
}

/** The case's input as NCHW [1,3,192,192] float32 RGB in [0,1] (the fixture script's definitions). */
function caseInput(c: FixtureCase): Float32Array {
  const out = new Float32Array(3 * SIZE * SIZE);
  const plane = SIZE * SIZE;
  if (c.input.kind === 'photo_crop') {
    const crop = Buffer.from(c.input.data, 'base64');
    if (crop.length !== 3 * plane) throw new Error(`${c.name}: crop of ${crop.length} bytes`);
    for (let p = 0; p < plane; p++) for (let ch = 0; ch < 3; ch++) out[ch * plane + p] = crop[p * 3 + ch] / 255;
  } else {
    if (c.input.formula !== PATTERN) throw new Error(`${c.name}: unknown formula ${c.input.formula}`);
    for (let y = 0; y < SIZE; y++)
      for (let x = 0; x < SIZE; x++)
        for (let ch = 0; ch < 3; ch++)
          out[ch * plane + y * SIZE + x] = 0.5 + 0.4 * Math.sin(0.21 * x + 0.13 * y + 2.1 * ch) * Math.cos(0.07 * x - 0.11 * y + 0.9 * ch);
  }
  return out;
}

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, stdout: r.stdout ?? '' };
}

const torchCheck = run(PYTHON, ['-c', 'import torch, onnx']);
const torchMissing = torchCheck.code !== 0
  ? `Debian's python3-torch and python3-onnx are needed (npm test installs them as root): ${torchCheck.out.trim().split('\n').pop()}`
  : null;

t.test('MediaPipe Face Mesh: PyTorch port and its ONNX export match the TF.js runtime', async (t) => {
  if (torchMissing) return void t.fail(torchMissing);
  t.ok(existsSync(MODEL_JSON) && existsSync(FIXTURE), 'committed model and fixture found');
  const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { cases: FixtureCase[] };
  const dir = mkdtempSync(join(tmpdir(), 'facelive-facemesh-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const onnxPath = join(dir, 'facemesh.onnx');

  const started = Date.now();
  const conv = run(PYTHON, ['models/train/convert_facemesh.py', '--model-json', MODEL_JSON, '--onnx', onnxPath, '--check', FIXTURE]);
  const seconds = (Date.now() - started) / 1000;
  t.equal(conv.code, 0, conv.code === 0 ? `convert_facemesh.py converts and passes --check (${seconds.toFixed(1)} s)` : `convert_facemesh.py: ${conv.out.slice(-800)}`);
  if (conv.code !== 0) return;
  const check = JSON.parse(conv.stdout.trim().split('\n').pop()!) as {
    max_abs_diff: Record<Output, number>; backbone_shapes_128: number[][]; ok: boolean;
  };
  for (const k of OUTPUTS) t.ok(check.max_abs_diff[k] <= TOLERANCE[k], `torch ${k}: max |torch - tfjs| = ${check.max_abs_diff[k].toExponential(2)}`);
  t.same(check.backbone_shapes_128, [[1, 16, 64, 64], [1, 32, 32, 32], [1, 64, 16, 16], [1, 128, 8, 8]],
    'FaceMeshBackbone on 128x128: skips at strides 2, 4, 8 and the stride-16 features');

  const session = await ort.InferenceSession.create(readFileSync(onnxPath), {
    intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3,
  });
  t.same(session.inputNames, ['image'], 'ONNX input: image');
  t.same([...session.outputNames].sort(), [...OUTPUTS].sort(), 'ONNX outputs: mesh, faceflag, contours');
  for (const c of fixture.cases) {
    const image = new ort.Tensor('float32', caseInput(c), [1, 3, SIZE, SIZE]);
    const res = await session.run({ image });
    for (const k of OUTPUTS) {
      const got = res[k].data as Float32Array;
      const want = c.tfjs[k];
      t.equal(got.length, want.length, `${c.name} ${k}: ${want.length} values`);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      t.ok(worst <= TOLERANCE[k], `${c.name} ${k}: max |onnxruntime - tfjs| = ${worst.toExponential(2)} (tolerance ${TOLERANCE[k]})`);
    }
  }
  await session.release();
});
