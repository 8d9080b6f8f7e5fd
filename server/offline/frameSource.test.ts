import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../node/projectRoot.js';
import { openFrameSource } from './frameSource.js';

const MAIN = join(projectRoot(), 'build', 'server', 'cli', 'main.js');

/** A 4-frame generator sequence: PNG frames and a y4m video of the same frames. */
function sequence(): string {
  const dir = mkdtempSync(join(tmpdir(), 'frames-'));
  const r = spawnSync(process.execPath, [MAIN, 'synth', '--out', dir, '--frames', '4', '--size', '64', '--quiet']);
  if (r.status !== 0) throw new Error(String(r.stderr));
  return join(dir, 'seq_0000');
}

async function collect(input: string) {
  const src = openFrameSource(input);
  const frames = [];
  for await (const f of src.frames()) frames.push(f);
  return { src, frames };
}

t.test('openFrameSource() reads a folder of images in name order, a single image, and a video', async (t) => {
  const seq = sequence();
  const folder = await collect(join(seq, 'rgb'));
  t.equal(folder.src.kind, 'folder');
  t.same(folder.frames.map((f) => f.name), ['000000.png', '000001.png', '000002.png', '000003.png']);
  const one = await collect(join(seq, 'rgb', '000002.png'));
  t.equal(one.frames.length, 1);
  t.same(one.frames[0].pixels.data, folder.frames[2].pixels.data, 'same pixels as in the folder');
  const video = await collect(join(seq, 'video.y4m'));
  t.equal(video.src.kind, 'video');
  t.equal(video.src.fps, 30);
  t.equal(video.frames.length, 4);
  // y4m is 4:2:0: the decoded frame is close to the PNG, not equal
  const a = video.frames[1].pixels.data, b = folder.frames[1].pixels.data;
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  t.ok(sum / a.length < 12, `mean abs difference ${(sum / a.length).toFixed(2)} levels`);
});

t.test('openFrameSource() of bad inputs throws one clear InputError', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bad-'));
  t.throws(() => openFrameSource(join(dir, 'missing.mp4')), { name: 'InputError', message: /no such file/ });
  t.throws(() => openFrameSource(dir), { name: 'InputError', message: /no \.png, \.jpg or \.jpeg images/ });
  writeFileSync(join(dir, 'broken.png'), 'not a png');
  t.throws(() => openFrameSource(join(dir, 'broken.png')), { name: 'InputError', message: /not a readable PNG image/ });
  writeFileSync(join(dir, 'notes.txt'), 'hello');
  t.throws(() => openFrameSource(join(dir, 'notes.txt')), { name: 'InputError', message: /not a video ffmpeg can read|ffmpeg not found/ });
  const mixed = mkdtempSync(join(tmpdir(), 'mixed-'));
  const seq = sequence();
  copyFileSync(join(seq, 'rgb', '000000.png'), join(mixed, 'a.png'));
  copyFileSync(join(projectRoot(), 'docs', 'synth-preview.png'), join(mixed, 'b.png'));
  const src = openFrameSource(mixed);
  await t.rejects(async () => {
    for await (const f of src.frames()) void f;
  }, { name: 'InputError', message: /but the sequence started at 64x64/ });
});

t.test('a truncated .y4m gives its whole frames and a warning; a PNG header that says 20000x20000 is refused unread', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'damaged-'));
  const frame = Buffer.concat([Buffer.from('FRAME\n'), Buffer.alloc(64 * 48 * 3 / 2, 128)]);
  const header = Buffer.from('YUV4MPEG2 W64 H48 F25:1 Ip A1:1 C420jpeg\n');
  writeFileSync(join(dir, 'whole.y4m'), Buffer.concat([header, frame, frame]));
  writeFileSync(join(dir, 'cut.y4m'), Buffer.concat([header, frame, frame, frame.subarray(0, 1000)]));
  for (const [name, warned] of [['whole.y4m', false], ['cut.y4m', true]] as const) {
    const src = openFrameSource(join(dir, name));
    let n = 0;
    for await (const f of src.frames()) n += f.pixels.width === 64 ? 1 : 0;
    t.equal(n, 2, `${name}: both whole frames`);
    t.equal(src.warnings.length, warned ? 1 : 0, `${name}: ${warned ? 'one warning' : 'no warning'}`);
    if (warned) t.match(src.warnings[0], /truncated: the last frame is incomplete \(1000 bytes after frame 2\)/);
  }
  // a valid PNG signature and IHDR announcing 20000x20000, then nothing: refused from the header alone
  const ihdr = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(ihdr, 0);
  ihdr.writeUInt32BE(13, 8);
  ihdr.write('IHDR', 12, 'latin1');
  ihdr.writeUInt32BE(20000, 16);
  ihdr.writeUInt32BE(20000, 20);
  writeFileSync(join(dir, 'huge.png'), ihdr);
  t.throws(() => openFrameSource(join(dir, 'huge.png')), { name: 'InputError', message: /20000x20000 is larger than 1920x1080/ });
});
