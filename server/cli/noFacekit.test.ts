/**
 * A fresh clone has no full facekit: `facelive serve` and `facelive reconstruct` run on the runtime facekit the
 * repository carries (models/facekit-runtime). Every command here runs with FACEKIT_DIR naming a folder that does
 * not exist, so any read of the full facekit would fail (synth shows that it does).
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { projectRoot } from '../../node/projectRoot.js';
import { parseNpy } from '../../shared/io/npy.js';
import { readParityFixture } from '../../test/parityFixture.js';

const MAIN = join(projectRoot(), 'build', 'server', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'no-facekit-'));
const env = { ...process.env, FACEKIT_DIR: join(dir, 'no-facekit-here') };

/** The parity fixture's three held-out renders (128 px crops), each on a grey frame of 256 px, twice: PNG files. */
function faceFrames(): string {
  const folder = join(dir, 'frames');
  mkdirSync(folder);
  const { images } = readParityFixture(join(projectRoot(), 'models', 'fixtures', 'facestream-small-parity'));
  const [T, S] = images.shape, pad = 64, W = S + 2 * pad;
  for (let i = 0; i < 2 * T; i++) {
    const png = new PNG({ width: W, height: W });
    png.data.fill(128);
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const o = ((y + pad) * W + x + pad) * 4, s = (((i % T) * S + y) * S + x) * 3;
        png.data.set(images.data.subarray(s, s + 3), o);
      }
    }
    writeFileSync(join(folder, `${String(i).padStart(3, '0')}.png`), PNG.sync.write(png));
  }
  return folder;
}
const frames = faceFrames();

function facelive(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

t.test('this environment has no full facekit: facelive synth refuses, naming FACEKIT_DIR', async (t) => {
  t.notOk(existsSync(env.FACEKIT_DIR));
  const r = spawnSync(process.execPath, [MAIN, 'synth', '--out', join(dir, 'synth'), '--quiet'], { encoding: 'utf8', env, timeout: 60_000 });
  t.equal(r.status, 1);
  t.match(r.stderr, /facekit\.json not found.*FACEKIT_DIR/);
});

t.test('facelive serve without the full facekit answers /health and runs the model on a client\'s frames', async (t) => {
  const child = spawn(process.execPath, [MAIN, 'serve', '--host', '127.0.0.1', '--port', '0', '--loopback', '--threads', '1'], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stdout = '', stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  t.teardown(() => void (child.exitCode === null && child.kill('SIGKILL')));
  const healthUrl = await new Promise<string | null>((resolve) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = /health on (http:\/\/\S+\/health)/.exec(stdout);
      if (m) resolve(m[1]);
    });
    void exited.then(() => resolve(null));
  });
  t.ok(healthUrl, healthUrl ? 'the server started' : `the server did not start: ${stdout}${stderr}`);
  if (!healthUrl) return;
  const res = await fetch(healthUrl);
  const health = (await res.json()) as { model: string; sessions: number };
  t.equal(res.status, 200);
  t.same([health.model, health.sessions], ['facestream-small', 0], '/health: the shipped model, no session yet');

  const signal = healthUrl.replace(/^http/, 'ws').replace(/\/health$/, '/signal');
  const out = join(dir, 'live');
  const c = await facelive(['client', '--server', signal, '--input', frames, '--out', out, '--fps', '8', '--loopback', '--quiet']);
  t.equal(c.code, 0, c.stderr);
  const crops = JSON.parse(readFileSync(join(out, 'crops.json'), 'utf8'));
  const faces = crops.frames.filter((f: { face: boolean }) => f.face).length;
  t.ok(faces >= 1, `${faces} results with a face of ${crops.frames.length}`);
  const landmarks = JSON.parse(readFileSync(join(out, 'landmarks.json'), 'utf8'));
  t.equal(landmarks.find((f: { landmarks: unknown[] }) => f.landmarks.length)?.landmarks.length, 68, '68 landmarks');
  // the model's own output: depth maps of the face
  const depth = parseNpy(readFileSync(join(out, 'depth.npy'))).data as Float32Array;
  const face = depth.filter((x) => x > 0.2 && x < 3).length;
  t.ok(face > 1000, `${face} face pixels at plausible depths in the model's maps`);

  child.kill('SIGINT');
  t.equal(await exited, 0, 'stops cleanly on Ctrl-C');
});

t.test('facelive reconstruct without the full facekit writes the tracked mesh, landmarks and blendshapes', async (t) => {
  const out = join(dir, 'reconstruction');
  const r = await facelive(['reconstruct', '--input', frames, '--out', out, '--quiet']);
  t.equal(r.code, 0, r.stderr);
  const crops = JSON.parse(readFileSync(join(out, 'crops.json'), 'utf8'));
  t.equal(crops.frames.length, 6);
  const landmarks: { landmarks: unknown[] }[] = JSON.parse(readFileSync(join(out, 'landmarks.json'), 'utf8'));
  const faceFrames = landmarks.filter((f) => f.landmarks.length);
  t.ok(faceFrames.length >= 3 && faceFrames.every((f) => f.landmarks.length === 68), `${faceFrames.length} frames with 68 landmarks`);
  const pose = JSON.parse(readFileSync(join(out, 'pose.json'), 'utf8'));
  t.equal(pose.blendshape_names.length, 57);
  const objs = readdirSync(join(out, 'mesh'));
  t.ok(objs.length >= 3, `${objs.length} OBJ files`);
  const text = readFileSync(join(out, 'mesh', objs[0]), 'utf8');
  t.same([(text.match(/^v /gm) ?? []).length, (text.match(/^f /gm) ?? []).length], [11248, 22288], 'facekit\'s face and head: 11,248 vertices, 22,288 triangles');
  t.ok(readFileSync(join(out, 'mesh.glb')).length > 1_000_000, 'mesh.glb with the 57 morph targets');
  t.equal(JSON.parse(readFileSync(join(out, 'identity.json'), 'utf8')).identity_weights.length, 100, 'a fitted identity of 100 modes');
});
