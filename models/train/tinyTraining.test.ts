import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../node/projectRoot.js';
import { FaceModel } from '../../server/engine/model/faceModel.js';
import { parityErrors } from '../../test/parityFixture.js';

const ROOT = projectRoot();
const PYTHON = '/usr/bin/python3';
const MAIN = join(ROOT, 'build', 'server', 'cli', 'main.js');

/** The assertion message: the label, or on failure the end of the command's output. */
const said = (r: { code: number | null; out: string }, label: string) => (r.code === 0 ? label : `${label}: ${r.out.slice(-600)}`);

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, stdout: r.stdout ?? '', error: r.error };
}

const torchCheck = run(PYTHON, ['-c', 'import torch, onnx, PIL']);
const torchMissing = torchCheck.code !== 0
  ? `Debian's python3-torch, python3-onnx and python3-pil are needed (npm test installs them as root): ${torchCheck.out.trim().split('\n').pop()}`
  : null;

t.test('FaceStreamNet streaming with the cache equals one joint pass (models/train/tests/check_streaming.py)', async (t) => {
  if (torchMissing) return void t.fail(torchMissing);
  const r = run(PYTHON, ['models/train/tests/check_streaming.py']);
  t.equal(r.code, 0, said(r, 'check_streaming.py exits 0'));
  const result = JSON.parse(r.stdout.trim().split('\n').pop()!);
  for (const row of result.rows) t.ok(row.max_abs_diff < 2e-4, `${row.config}, ${row.frames} frames, cut ${row.cut_at}: max |diff| ${row.max_abs_diff}`);
});

t.test('tiny model: synth → train → resume → export → onnxruntime-node matches torch', async (t) => {
  if (torchMissing) return void t.fail(torchMissing);
  const dir = mkdtempSync(join(tmpdir(), 'facelive-tiny-'));
  const data = (split: string, n: string) =>
    run(process.execPath, [MAIN, 'synth', '--out', join(dir, split), '--sequences', n, '--frames', '8', '--size', '64', '--seed', '3', '--split', split, '--quiet']);
  const trainData = data('train', '6'), valData = data('val', '2');
  t.equal(trainData.code, 0, said(trainData, 'train data'));
  t.equal(valData.code, 0, said(valData, 'val data'));
  const runDir = join(dir, 'run');
  const train = (steps: string) =>
    run(PYTHON, ['models/train/train.py', '--data', join(dir, 'train'), '--val', join(dir, 'val'), '--config', 'tiny', '--out', runDir,
      '--steps', steps, '--checkpoint-every', '40', '--val-clips', '4', '--lr', '3e-3']);
  const first = train('80');
  t.equal(first.code, 0, said(first, 'train.py trains 80 steps'));
  const resumed = train('100');
  t.equal(resumed.code, 0, said(resumed, 'train.py trains 20 more'));
  t.match(resumed.out, /resumed at step 80/, 'second run resumes from the checkpoint');
  const log = readFileSync(join(runDir, 'train_log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const val = log.filter((r) => r.kind === 'val');
  const train0 = log.find((r) => r.kind === 'train');
  t.ok(val.length >= 2, `${val.length} validation rows`);
  t.ok(val[val.length - 1].total < train0.total, `loss fell: first train ${train0.total}, last val ${val[val.length - 1].total}`);
  t.ok(existsSync(join(runDir, 'loss_curve.png')), 'loss curve drawn');

  const onnx = join(dir, 'tiny.onnx');
  const fixtures = join(dir, 'tiny-parity');
  const exp = run(PYTHON, ['models/train/export_onnx.py', '--checkpoint', join(runDir, 'checkpoint.pt'), '--out', onnx, '--fixtures', fixtures, '--frames', join(dir, 'val', 'seq_0000')]);
  t.equal(exp.code, 0, said(exp, 'export_onnx.py writes the model and fixtures'));
  const model = await FaceModel.load(onnx, { threads: 1 });
  t.equal(model.contract.cropSize, 64, 'crop size from the contract');
  t.equal(model.contract.window, 4, 'window from the contract');
  const errors = await parityErrors(model, fixtures);
  for (const [k, v] of Object.entries(errors)) t.ok(v < 1e-3, `${k}: max |onnx - torch| = ${v.toExponential(2)}`);
  await model.close();

  // training goes on from the ONNX file alone (checkpoints are not kept): the weights come back exactly, and a
  // phase started from them trains, exports and still matches onnxruntime (its BatchNorms stay frozen)
  const check = run(PYTHON, ['models/train/tests/check_onnx_import.py', onnx]);
  t.equal(check.code, 0, said(check, 'check_onnx_import.py exits 0'));
  if (check.code === 0) t.equal(JSON.parse(check.stdout.trim().split('\n').pop()!).max_abs_diff, 0, 'imported weights export to the same tensors');
  const fromOnnx = join(dir, 'run-from-onnx');
  // as phase 8 was trained: the 1/2 blend's mix held at the identity, its keys scaled, the rest of that stage at the
  // full rate, the other weights at a tenth of it, with static and rest-then-move clips
  const phase = run(PYTHON, ['models/train/train.py', '--init', onnx, '--data', join(dir, 'train'), '--config', 'tiny', '--out', fromOnnx,
    '--steps', '20', '--checkpoint-every', '20', '--lr', '1e-3', '--lr-kept', '0.1', '--as-built', 'fuse.2.mix', '--retrain', 'fuse.2.',
    '--scale', 'fuse.2.k=6', '--static', '0.3', '--hold-move', '0.3']);
  t.equal(phase.code, 0, said(phase, 'train.py --init tiny.onnx trains 20 steps'));
  t.match(phase.out, /initialized from .*tiny\.onnx/, 'from the ONNX file');
  t.match(phase.out, /scaled by 6\.0: fuse\.2\.k\.weight/, 'scales the blend\'s keys');
  t.match(phase.out, /as built, not trained: fuse\.2\.mix\.weight; at the full rate although loaded: fuse\.2\.age, /, 'says which weights it holds and which it retrains');
  const held = run(PYTHON, ['-c', `import sys, torch
ck = torch.load(sys.argv[1])
m, a = ck['model']['fuse.2.mix.weight'], ck['opt']['param_groups']
print((m - torch.eye(m.shape[0])).abs().max().item(), ck['held'], sorted(g['lr_scale'] for g in a), sum(len(g['params']) for g in a))`, join(fromOnnx, 'checkpoint.pt')]);
  t.equal(held.code, 0, said(held, 'checkpoint readable'));
  t.match(held.stdout.trim(), /^0\.0 \['fuse\.2\.mix\.weight'\] \[0\.1, 1\.0\] \d+$/, `after 20 steps the mix is still the identity, kept out of the optimizer's two groups: ${held.stdout.trim()}`);
  const bad = run(PYTHON, ['models/train/train.py', '--init', onnx, '--data', join(dir, 'train'), '--config', 'tiny', '--out', join(dir, 'run-bad'), '--steps', '1', '--as-built', 'fuse.9.']);
  t.not(bad.code, 0, 'an --as-built prefix that names no weight is refused');
  t.match(bad.out, /--as-built fuse\.9\.: no weight/, `and says so: ${bad.out.trim().split('\n').pop()}`);
  const onnx2 = join(dir, 'tiny2.onnx'), fixtures2 = join(dir, 'tiny2-parity');
  const exp2 = run(PYTHON, ['models/train/export_onnx.py', '--checkpoint', join(fromOnnx, 'checkpoint.pt'), '--out', onnx2, '--fixtures', fixtures2, '--frames', join(dir, 'val', 'seq_0000')]);
  t.equal(exp2.code, 0, said(exp2, 'and exports'));
  const model2 = await FaceModel.load(onnx2, { threads: 1 });
  const errors2 = await parityErrors(model2, fixtures2);
  for (const [k, v] of Object.entries(errors2)) t.ok(v < 1e-3, `continued: ${k}: max |onnx - torch| = ${v.toExponential(2)}`);
  await model2.close();
});

t.test('tiny model with the real-trained encoder: MediaPipe Face Mesh stages load, train slower, export and match onnxruntime', async (t) => {
  if (torchMissing) return void t.fail(torchMissing);
  const dir = mkdtempSync(join(tmpdir(), 'facelive-tiny-fm-'));
  const data = run(process.execPath, [MAIN, 'synth', '--out', join(dir, 'train'), '--sequences', '4', '--frames', '8', '--size', '64', '--seed', '4', '--split', 'train', '--quiet']);
  t.equal(data.code, 0, said(data, 'train data'));
  const runDir = join(dir, 'run');
  const train = run(PYTHON, ['models/train/train.py', '--data', join(dir, 'train'), '--config', 'tiny-fm', '--out', runDir,
    '--steps', '12', '--checkpoint-every', '12', '--lr', '1e-3', '--lr-scale', 'backbone.=0.1', '--gray', '0.3']);
  t.equal(train.code, 0, said(train, 'train.py --config tiny-fm trains 12 steps'));
  t.match(train.out, /encoder: MediaPipe Face Mesh stages from .*facemesh\.json/, 'the encoder starts from Face Mesh');
  // the encoder's weights moved at a tenth of the rate: its optimizer group says so, and its first convolution is
  // still Face Mesh's (the change after 12 small steps is far below the weights' own size)
  const moved = run(PYTHON, ['-c', `import sys, torch
sys.path.insert(0, 'models/train')
from facelive_model.mediapipe_facemesh import FaceMeshBackbone
ck = torch.load(sys.argv[1])
fm = FaceMeshBackbone.from_tfjs('models/third_party/mediapipe-facemesh/facemesh.json').state_dict()
w0, w1 = fm['stem.conv.weight'], ck['model']['backbone.stem.conv.weight']
print(sorted(g['lr_scale'] for g in ck['opt']['param_groups']), round(((w1 - w0).norm() / w0.norm()).item(), 4))`, join(runDir, 'checkpoint.pt')]);
  t.equal(moved.code, 0, said(moved, 'checkpoint readable'));
  const [groups, change] = moved.stdout.trim().split('\n').pop()!.split('] ');
  t.equal(groups + ']', '[0.1, 1.0]', 'two rates: the encoder at a tenth');
  t.ok(Number(change) > 0 && Number(change) < 0.05, `the encoder's first convolution moved by ${change} of its size`);
  const onnx = join(dir, 'tiny-fm.onnx'), fixtures = join(dir, 'tiny-fm-parity');
  const exp = run(PYTHON, ['models/train/export_onnx.py', '--checkpoint', join(runDir, 'checkpoint.pt'), '--out', onnx, '--fixtures', fixtures, '--frames', join(dir, 'train', 'seq_0000')]);
  t.equal(exp.code, 0, said(exp, 'export_onnx.py writes the model and fixtures'));
  const model = await FaceModel.load(onnx, { threads: 1 });
  const errors = await parityErrors(model, fixtures);
  for (const [k, v] of Object.entries(errors)) t.ok(v < 1e-3, `${k}: max |onnx - torch| = ${v.toExponential(2)}`);
  await model.close();
  const check = run(PYTHON, ['models/train/tests/check_onnx_import.py', onnx]);
  t.equal(check.code, 0, said(check, 'check_onnx_import.py reads the weights back out of the ONNX file'));
  if (check.code === 0) t.equal(JSON.parse(check.stdout.trim().split('\n').pop()!).max_abs_diff, 0, 'exactly');
});
