import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseNpy } from '../../shared/io/npy.js';
import { projectRoot } from '../../node/projectRoot.js';
import { readDepthPng16 } from '../offline/exporters/png16.js';

const MAIN = join(projectRoot(), 'build', 'server', 'cli', 'main.js');
const facelive = (args: string[]) => {
  // a limit: a run that hangs (an --out under /proc once did) fails here instead of holding the suite
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

t.test('facelive reconstruct of a generator video writes every export, readable by independent readers', async (t) => {
  const src = mkdtempSync(join(tmpdir(), 'rc-src-'));
  t.equal(facelive(['synth', '--out', src, '--frames', '12', '--size', '192', '--seed', '8', '--split', 'test', '--quiet']).code, 0);
  const out = join(mkdtempSync(join(tmpdir(), 'rc-out-')), 'result');
  const r = facelive(['reconstruct', '--input', join(src, 'seq_0000', 'video.y4m'), '--out', out, '--quiet']);
  t.equal(r.code, 0, r.stderr);
  const crops = JSON.parse(readFileSync(join(out, 'crops.json'), 'utf8'));
  t.equal(crops.frames.length, 12, 'one entry per frame');
  t.same([crops.complete, crops.problems], [true, []], 'a whole run says so');
  const faces = crops.frames.filter((f: { face: boolean }) => f.face).length;
  t.ok(faces >= 6, `${faces} frames with a face`);
  // depth: the 16-bit PNGs hold the same millimetres as depth.npy
  const depth = parseNpy(readFileSync(join(out, 'depth.npy')));
  const [T, S] = depth.shape;
  t.same(depth.shape, [12, S, S]);
  const firstFace = crops.frames.findIndex((f: { face: boolean }) => f.face);
  const png = readDepthPng16(readFileSync(join(out, 'depth', `${String(firstFace).padStart(6, '0')}.png`)));
  let worst = 0;
  for (let i = 0; i < S * S; i++) worst = Math.max(worst, Math.abs(png.mm[i] - Math.round((depth.data as Float32Array)[firstFace * S * S + i] * 1000)));
  t.equal(worst, 0, 'PNG16 millimetres match depth.npy');
  // numpy reads the arrays
  const py = spawnSync('/usr/bin/python3', ['-c', `import numpy as np, sys; d = sys.argv[1]
print(np.load(d + '/canonical.npy').shape, np.load(d + '/confidence.npy').dtype, np.load(d + '/mask.npy').dtype)`, out], { encoding: 'utf8' });
  t.equal(py.stdout.trim(), `(${T}, ${S}, ${S}, 3) float32 uint8`, py.stderr);
  // PLY: a valid header whose vertex count matches the body
  const plyName = readdirSync(join(out, 'ply'))[0];
  const ply = readFileSync(join(out, 'ply', plyName));
  const headerEnd = ply.indexOf('end_header\n') + 'end_header\n'.length;
  const header = ply.subarray(0, headerEnd).toString('ascii');
  const n = Number(/element vertex (\d+)/.exec(header)?.[1]);
  t.match(header, /^ply\nformat binary_little_endian 1.0/);
  t.equal(ply.length - headerEnd, n * 27, `${n} vertices of 27 bytes`);
  const z = ply.readFloatLE(headerEnd + 8);
  t.ok(z > 0.1 && z < 3, `first point at z = ${z.toFixed(3)} m`);
  // tracks and landmarks
  const tracks = JSON.parse(readFileSync(join(out, 'tracks.json'), 'utf8'));
  t.equal(tracks.length, 12);
  t.ok(tracks.some((f: { points: unknown[] }) => f.points.length > 10), 'points seeded and tracked');
  t.match(readFileSync(join(out, 'landmarks.csv'), 'utf8'), /^frame,landmark,x,y,visible\n/);
  // every face frame has 68 points, each a finite x and y with a 0/1 flag: a consumer never meets a null
  const landmarks: { frame: number; landmarks: unknown[][] }[] = JSON.parse(readFileSync(join(out, 'landmarks.json'), 'utf8'));
  const faceFrames = landmarks.filter((f) => f.landmarks.length);
  t.equal(faceFrames.length, faces, 'landmarks for every face frame');
  t.ok(faceFrames.every((f) => f.landmarks.length === 68 && f.landmarks.every((l) => l.length === 3 && Number.isFinite(l[0]) && Number.isFinite(l[1]) && (l[2] === 0 || l[2] === 1))), 'each with 68 finite points and a visibility flag');
  t.ok(readdirSync(out).includes('preview.png'));
  // tracked mesh: one OBJ per frame with a pose, same topology in each; the glTF passes Khronos' validator
  const pose = JSON.parse(readFileSync(join(out, 'pose.json'), 'utf8'));
  t.equal(pose.blendshape_names.length, 57);
  t.equal(pose.arkit_names.length, 52, 'ARKit names beside facekit\'s');
  const withWeights = pose.frames.find((f: { blendshapes: number[] | null }) => f.blendshapes);
  t.equal(withWeights.arkit[pose.arkit_names.indexOf('jawOpen')], withWeights.blendshapes[pose.blendshape_names.indexOf('jawOpen')], 'the same weight under both names');
  const csv = readFileSync(join(out, 'blendshapes-arkit.csv'), 'utf8').trim().split('\n');
  t.equal(csv[0].split(',').length, 53, 'blendshapes-arkit.csv: frame and 52 columns');
  t.equal(csv.length, pose.frames.length + 1, 'a row per frame');
  t.match(readFileSync(join(out, 'blendshapes.csv'), 'utf8'), /^frame,browDown_L,/);
  const posed = pose.frames.filter((f: { pose: unknown }) => f.pose).length;
  const objs = readdirSync(join(out, 'mesh')).sort();
  t.equal(objs.length, posed, `${objs.length} OBJ files, one per frame with a pose`);
  const counts = objs.slice(0, 2).map((f) => {
    const text = readFileSync(join(out, 'mesh', f), 'utf8');
    return [(text.match(/^v /gm) ?? []).length, (text.match(/^f /gm) ?? []).length];
  });
  t.same(counts[0], counts[1], 'same vertex and face count in every frame');
  t.ok(counts[0][0] > 10000 && counts[0][1] > 20000, `${counts[0][0]} vertices, ${counts[0][1]} triangles`);
  const { validateBytes } = await import('gltf-validator');
  const report = await validateBytes(new Uint8Array(readFileSync(join(out, 'mesh.glb'))));
  t.equal(report.issues.numErrors, 0, 'mesh.glb: no glTF validation errors');
  t.equal(report.info?.animationCount, 1, 'one animation');
  t.equal(report.info?.hasMorphTargets, true, 'expressions as morph targets');
});

t.test('facelive reconstruct stopped with Ctrl-C leaves complete files for the frames it processed', async (t) => {
  const src = mkdtempSync(join(tmpdir(), 'rc-int-'));
  t.equal(facelive(['synth', '--out', src, '--frames', '150', '--size', '128', '--seed', '9', '--split', 'test', '--quiet']).code, 0);
  const out = join(src, 'result');
  const child = spawn(process.execPath, [MAIN, 'reconstruct', '--input', join(src, 'seq_0000', 'video.y4m'), '--out', out, '--export', 'depth,tracks'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    // plain progress lines (not a TTY; a y4m stream has no frame count): interrupt once frames are through
    const done = /reconstruct (\d+) frames/.exec(stderr.trim().split('\n').pop() ?? '');
    if (done && Number(done[1]) >= 10 && !child.killed) child.kill('SIGINT');
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.equal(code, 130, `exit 130 after Ctrl-C (${stderr.trim().split('\n').pop()})`);
  const crops = JSON.parse(readFileSync(join(out, 'crops.json'), 'utf8'));
  const T = crops.frames.length;
  t.ok(T >= 5 && T < 150, `${T} frames processed before the stop`);
  const depth = parseNpy(readFileSync(join(out, 'depth.npy')));
  t.equal(depth.shape[0], T, 'depth.npy holds exactly those frames');
  t.equal(JSON.parse(readFileSync(join(out, 'tracks.json'), 'utf8')).length, T, 'tracks.json too');
});

t.test('facelive reconstruct with bad inputs gives one clear message and a non-zero exit', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rc-bad-'));
  writeFileSync(join(dir, 'broken.jpg'), 'not a jpeg');
  writeFileSync(join(dir, 'notes.txt'), 'not a video');
  const grey = join(dir, 'grey');
  spawnSync('mkdir', [grey]);
  const { PNG } = await import('pngjs');
  const png = new PNG({ width: 64, height: 48 });
  png.data.fill(128);
  writeFileSync(join(grey, 'a.png'), PNG.sync.write(png));
  const cases: [string[], number, RegExp][] = [
    [['reconstruct', '--out', dir], 2, /--input is required/],
    [['reconstruct', '--input', join(dir, 'missing.mp4'), '--out', join(dir, 'o1')], 1, /no such file or folder/],
    [['reconstruct', '--input', join(dir, 'broken.jpg'), '--out', join(dir, 'o2')], 1, /not a readable JPG image/],
    [['reconstruct', '--input', join(dir, 'notes.txt'), '--out', join(dir, 'o3')], 1, /not a video ffmpeg can read/],
    [['reconstruct', '--input', grey, '--out', join(dir, 'o4')], 1, /no face found in any of the 1 frames/],
    [['reconstruct', '--input', grey, '--out', join(dir, 'o5'), '--export', 'depth,meshes'], 2, /--export: unknown "meshes"/],
    [['reconstruct', '--input', grey, '--out', join(dir, 'o6'), '--window', '9'], 1, /window must be an integer from 1 to 8/],
    [['reconstruct', '--input', grey, '--out', join(dir, 'o7'), '--face-box', '10,20'], 2, /--face-box: expected X,Y,SIDE/],
    [['reconstruct', '--input', grey, '--out', join(dir, 'o8'), '--face-box', '1,,20'], 2, /--face-box: expected X,Y,SIDE/],
    [['reconstruct', '--input', grey, '--out', join(dir, 'o9'), '--face-box', '500,500,40'], 2, /centre \(520, 520\) lies outside the 64x48 frame/],
    [['reconstruct', '--input', grey, '--out', join(dir, 'notes.txt')], 1, /notes\.txt exists and is not a folder/],
    [['reconstruct', '--input', grey, '--out', join(dir, 'notes.txt', 'under')], 1, /--out: cannot use/],
    [['reconstruct', '--input', grey, '--out', '/dev/null'], 1, /\/dev\/null exists and is not a folder/],
    [['reconstruct', '--input', grey, '--out', '/proc/facelive-test'], 1, /--out: cannot create \/proc\/facelive-test/],
    [['reconstruct', '--input', grey, '--out', join(dir, 'o10'), '--model', join(dir, 'notes.txt')], 1, /notes\.txt.*(not an ONNX file|not a facelive model)/],
  ];
  for (const [args, code, message] of cases) {
    const r = facelive(args);
    t.equal(r.code, code, `${args.slice(1).join(' ')} → exit ${code}`);
    t.match(r.stderr, message);
    t.notMatch(r.stderr, /internal error/);
  }
});

t.test('facelive reconstruct of damaged input writes every whole frame, warns, and exits 1', async (t) => {
  const src = mkdtempSync(join(tmpdir(), 'rc-damaged-'));
  t.equal(facelive(['synth', '--out', src, '--frames', '6', '--size', '128', '--seed', '8', '--split', 'test', '--quiet']).code, 0);
  const seq = join(src, 'seq_0000');
  // a video cut in the middle of its last frame
  const video = readFileSync(join(seq, 'video.y4m'));
  writeFileSync(join(src, 'cut.y4m'), video.subarray(0, video.length - 5000));
  const cut = facelive(['reconstruct', '--input', join(src, 'cut.y4m'), '--out', join(src, 'out-cut'), '--export', 'tracks', '--quiet']);
  t.equal(cut.code, 1, 'exit 1');
  t.match(cut.stderr, /warning: .*cut\.y4m: truncated: the last frame is incomplete/);
  const cutCrops = JSON.parse(readFileSync(join(src, 'out-cut', 'crops.json'), 'utf8'));
  t.equal(cutCrops.frames.length, 5, 'the 5 whole frames written');
  t.equal(cutCrops.complete, false, 'and marked incomplete');
  t.match(cutCrops.problems[0], /truncated/);
  // a folder whose fourth image is damaged: the three before it are written whole, crops.json included
  const folder = join(src, 'frames');
  mkdirSync(folder);
  for (const f of readdirSync(join(seq, 'rgb')).sort().slice(0, 3)) copyFileSync(join(seq, 'rgb', f), join(folder, f));
  writeFileSync(join(folder, '000003.png'), 'not a png');
  const broken = facelive(['reconstruct', '--input', folder, '--out', join(src, 'out-folder'), '--export', 'depth,tracks', '--quiet']);
  t.equal(broken.code, 1);
  t.match(broken.stderr, /000003\.png: not a readable PNG image .*\(the 3 frames before it are written to /);
  t.notMatch(broken.stderr, /internal error/);
  const folderCrops = JSON.parse(readFileSync(join(src, 'out-folder', 'crops.json'), 'utf8'));
  t.equal(folderCrops.frames.length, 3);
  t.equal(folderCrops.complete, false);
  t.match(folderCrops.problems[0], /stopped by an error after 3 frames: .*000003\.png/);
  t.equal(readdirSync(join(src, 'out-folder', 'depth')).length, JSON.parse(readFileSync(join(src, 'out-folder', 'crops.json'), 'utf8')).frames.filter((f: { face: boolean }) => f.face).length, 'a depth PNG per face frame');
});

t.test('facelive reconstruct --device: cpu runs, an unknown one exits 2, webgpu runs or exits 1 with the reason', async (t) => {
  const src = mkdtempSync(join(tmpdir(), 'rc-dev-'));
  t.equal(facelive(['synth', '--out', src, '--frames', '3', '--size', '192', '--seed', '8', '--split', 'test', '--quiet']).code, 0);
  const input = join(src, 'seq_0000', 'video.y4m');
  const run = (device: string) => facelive(['reconstruct', '--input', input, '--out', join(mkdtempSync(join(tmpdir(), 'rc-dev-out-')), device), '--export', 'depth', '--device', device, '--quiet']);
  const bad = run('tpu');
  t.equal(bad.code, 2);
  t.match(bad.stderr, /reconstruct: --device: expected one of cpu, webgpu, cuda, got "tpu"/);
  t.equal(run('cpu').code, 0, 'cpu');
  // no GPU here: WebGPU finds no adapter (its Vulkan loader's warnings come first); where there is one, it runs
  const gpu = run('webgpu');
  const last = gpu.stderr.trim().split('\n').pop() ?? '';
  if (gpu.code === 0) t.pass('webgpu runs on this machine');
  else {
    t.equal(gpu.code, 1, 'exit 1');
    t.match(last, /^facelive: --device webgpu: onnxruntime could not run the model on WebGPU \(.*\): \S/, last);
    t.notMatch(gpu.stderr, /internal error|    at .*\.js/, 'no stack');
  }
});
