import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../node/projectRoot.js';

const MAIN = join(projectRoot(), 'build', 'server', 'cli', 'main.js');
const tmp = () => mkdtempSync(join(tmpdir(), 'facelive-synth-'));

function facelive(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every file below `dir`, relative path → bytes. */
function tree(dir: string, prefix = ''): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = join(prefix, e.name);
    if (e.isDirectory()) for (const [k, v] of tree(dir, rel)) out.set(k, v);
    else out.set(rel, readFileSync(join(dir, rel)));
  }
  return out;
}

const SMALL = ['--sequences', '2', '--frames', '4', '--size', '64', '--seed', '5', '--quiet'];

t.test('facelive synth twice with the same seed writes identical bytes', async (t) => {
  const a = tmp(), b = tmp();
  t.equal(facelive(['synth', '--out', a, ...SMALL, '--raster']).code, 0);
  t.equal(facelive(['synth', '--out', b, ...SMALL, '--raster']).code, 0);
  const ta = tree(a), tb = tree(b);
  t.same([...ta.keys()].sort(), [...tb.keys()].sort(), 'same files');
  t.ok(ta.size >= 2 * (4 + 8) + 1, `${ta.size} files`);
  const differing = [...ta.keys()].filter((k) => !ta.get(k)!.equals(tb.get(k)!));
  t.same(differing, [], 'same bytes');
  const c = tmp();
  facelive(['synth', '--out', c, ...SMALL.map((x) => (x === '5' ? '6' : x))]);
  t.not(readFileSync(join(c, 'seq_0000', 'depth.npy')).equals(ta.get(join('seq_0000', 'depth.npy'))!), 'another seed differs');
});

t.test('facelive synth writes .npy files that numpy reads with the documented shapes', async (t) => {
  const dir = tmp();
  t.equal(facelive(['synth', '--out', dir, '--sequences', '1', '--frames', '3', '--size', '48', '--quiet', '--raster']).code, 0);
  const seq = join(dir, 'seq_0000');
  const script = `
import json, sys, numpy as np
d = sys.argv[1]
out = {}
for name in ['depth', 'canonical', 'mask', 'landmarks', 'triangle', 'barycentric']:
    a = np.load(f'{d}/{name}.npy')
    out[name] = {'shape': list(a.shape), 'dtype': str(a.dtype), 'sum': float(np.asarray(a, dtype=np.float64).sum())}
print(json.dumps(out))
`;
  const py = spawnSync('/usr/bin/python3', ['-c', script, seq], { encoding: 'utf8' });
  if (py.error || py.status !== 0) {
    t.fail(`Debian's python3-numpy is needed for this test (apt-get install python3-numpy): ${py.error?.message ?? py.stderr}`);
    return;
  }
  const got = JSON.parse(py.stdout);
  t.same(got.depth.shape, [3, 48, 48]);
  t.equal(got.depth.dtype, 'float32');
  t.same(got.canonical.shape, [3, 48, 48, 3]);
  t.same(got.mask.shape, [3, 48, 48]);
  t.equal(got.mask.dtype, 'uint8');
  t.same(got.landmarks.shape, [3, 68, 3]);
  t.equal(got.triangle.dtype, 'int32');
  t.same(got.barycentric.shape, [3, 48, 48, 3]);
  // the values numpy sees are the ones we wrote
  const { parseNpy } = await import('../../shared/io/npy.js');
  const depth = parseNpy(readFileSync(join(seq, 'depth.npy'))).data as Float32Array;
  let sum = 0;
  for (const v of depth) sum += v;
  t.ok(Math.abs(sum - got.depth.sum) < 1e-3 * Math.max(1, sum), `depth sums agree (${sum})`);
  const camera = JSON.parse(readFileSync(join(seq, 'camera.json'), 'utf8'));
  t.equal(camera.frames.length, 3);
  t.equal(camera.frames[0].expression.length, 57);
  t.equal(camera.segments[0].identity_weights.length, 100);
  t.equal(readdirSync(join(seq, 'rgb')).length, 3);
  const y4m = readFileSync(join(seq, 'video.y4m'));
  t.match(y4m.subarray(0, 40).toString('latin1'), /^YUV4MPEG2 W48 H48 F30:1/);
});

t.test('facelive synth with bad flags exits 2 with one clear line', async (t) => {
  const cases: [string[], RegExp][] = [
    [['synth'], /--out DIR is required/],
    [['synth', '--out', tmp(), '--size', '63'], /--size: must be even/],
    [['synth', '--out', tmp(), '--size', 'big'], /--size: expected an integer, got "big"/],
    [['synth', '--out', tmp(), '--frames', '0'], /--frames: must be between 1 and/],
    [['synth', '--out', tmp(), '--split', 'holdout'], /--split: expected one of train, val, test/],
    [['synth', '--out', tmp(), '--colour'], /Unknown option '--colour'/],
    [['synthesize'], /unknown command "synthesize"/],
  ];
  for (const [args, message] of cases) {
    const r = facelive(args);
    t.equal(r.code, 2, `${args.join(' ')} → exit 2`);
    t.match(r.stderr, message);
    t.notMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  }
});

t.test('facelive synth without facekit exits 1 naming FACEKIT_DIR and writes nothing', async (t) => {
  const out = join(tmp(), 'never');
  const r = facelive(['synth', '--out', out, '--quiet'], { FACEKIT_DIR: join(tmpdir(), 'missing-facekit') });
  t.equal(r.code, 1);
  t.match(r.stderr, /facekit\.json not found.*FACEKIT_DIR/);
  t.notOk(existsSync(out), 'no output folder created');
});

t.test('facelive synth into a folder of other settings refuses; the same settings resume', async (t) => {
  const dir = tmp();
  t.equal(facelive(['synth', '--out', dir, ...SMALL]).code, 0);
  const other = facelive(['synth', '--out', dir, '--sequences', '3', '--frames', '4', '--size', '64', '--seed', '5', '--quiet']);
  t.equal(other.code, 1);
  t.match(other.stderr, /other settings/);
  t.equal(facelive(['synth', '--out', dir, ...SMALL]).code, 0, 'same settings: nothing to do, exit 0');
});

t.test('facelive synth stopped by Ctrl-C leaves only complete sequences, and a rerun finishes the job', async (t) => {
  const dir = tmp();
  const args = ['synth', '--out', dir, '--sequences', '3', '--frames', '40', '--size', '64', '--seed', '9'];
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const stopped = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    // stop in the middle of the second sequence
    if (/wrote seq_0000/.test(stderr) && /synth (5\d|6\d)\/120/.test(stderr) && !child.killed) child.kill('SIGINT');
  });
  const code = await stopped;
  t.equal(code, 130, 'exit code 130');
  t.match(stderr, /interrupted/);
  const entries = readdirSync(dir).sort();
  t.notOk(entries.some((e) => e.includes('partial')), `no partial folder left: ${entries.join(', ')}`);
  t.ok(entries.includes('seq_0000') && !entries.includes('seq_0002'), 'first sequence kept, last one not started');
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  t.equal(manifest.complete, false);
  for (const s of manifest.sequences) t.ok(existsSync(join(dir, s.name, 'camera.json')), `${s.name} complete`);
  const again = spawnSync(process.execPath, [MAIN, ...args, '--quiet'], { encoding: 'utf8' });
  t.equal(again.status, 0);
  const done = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  t.equal(done.complete, true);
  t.same(done.sequences.map((s: { name: string }) => s.name), ['seq_0000', 'seq_0001', 'seq_0002']);
});
