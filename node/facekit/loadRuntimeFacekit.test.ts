/** The runtime facekit the repository carries: read, checked, and its licence beside it. Needs no full facekit. */
import t from 'tap';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssetError } from '../../shared/errors.js';
import { ESCAPE, parseRuntimeFacekit } from '../../shared/facekit/runtimeFacekit.js';
import { loadRuntimeFacekit, runtimeFacekitDir, RUNTIME_FACEKIT_BIN, RUNTIME_FACEKIT_JSON } from './loadFacekit.js';

const dir = runtimeFacekitDir();
const manifest = JSON.parse(readFileSync(join(dir, RUNTIME_FACEKIT_JSON), 'utf8'));
const bin = readFileSync(join(dir, RUNTIME_FACEKIT_BIN));

function copyWithBin(bytes: Uint8Array): string {
  const d = mkdtempSync(join(tmpdir(), 'facekit-runtime-'));
  copyFileSync(join(dir, RUNTIME_FACEKIT_JSON), join(d, RUNTIME_FACEKIT_JSON));
  writeFileSync(join(d, RUNTIME_FACEKIT_BIN), bytes);
  return d;
}

t.test('loadRuntimeFacekit() reads the committed runtime facekit: the face and head whole, all modes and shapes, 68 landmarks', async (t) => {
  const m = loadRuntimeFacekit();
  t.equal(m.identityNames.length, 100);
  t.equal(m.expressionNames.length, 57);
  t.equal(m.landmarks68.length, 68);
  t.same(m.parts.slice(0, 2), [
    { name: 'face', vertices: [0, 9408], polygons: [0, 9229] },
    { name: 'head_neck', vertices: [9409, 11247], polygons: [9230, 11143] },
  ], 'face and head_neck with facekit\'s own ranges');
  t.ok(m.parts.slice(2).every((p) => p.polygons[1] < p.polygons[0]), 'the other parts: sample vertices, no polygon');
  const src = m.sourceVertices!;
  t.equal(src.length, m.vertexCount);
  t.ok(src.every((v, i) => (i < 11248 ? v === i : v > src[i - 1])), 'facekit\'s numbering for the face and head, increasing after');
  t.equal(m.identityDeltas.length, 100 * m.vertexCount * 3);
  t.equal(m.expressionDeltas.length, 57 * m.vertexCount * 3);
  // units are metres: the nose tip is 13 cm in front of the origin, as in the full facekit
  t.ok(Math.abs(m.neutralM[m.landmarks68[30] * 3 + 2] - 0.1307) < 1e-3);
  t.equal(loadRuntimeFacekit(), m, 'cached');
});

t.test('the runtime facekit carries facekit\'s MIT licence and says where it came from', async (t) => {
  const licence = readFileSync(join(dir, 'LICENSE'), 'utf8');
  t.match(licence, /^MIT License\n\nCopyright \(c\) 2020 USC Institute for Creative Technologies\n/);
  t.match(licence, /The above copyright notice and this permission notice shall be included in all\ncopies or substantial portions of the Software\./);
  t.match(manifest.source, /ICT-FaceKit/);
  t.match(manifest.derived_from.sha256, /^[0-9a-f]{64}$/);
  t.equal(manifest.derivation, 'node build/models/facekit-runtime/derive.js');
  t.equal(createHash('sha256').update(bin).digest('hex'), manifest.sha256);
  const readme = readFileSync(join(dir, 'README.md'), 'utf8');
  t.ok(readme.includes(manifest.sha256) && readme.includes(manifest.derived_from.sha256) && readme.includes(manifest.derivation), 'its README names both hashes and the command');
});

t.test('loadRuntimeFacekit() with one altered byte throws AssetError naming the sha256', async (t) => {
  const altered = Uint8Array.from(bin);
  altered[123456] ^= 0x40;
  t.throws(() => loadRuntimeFacekit(copyWithBin(altered)), { name: 'AssetError', message: /corrupt or altered: sha256/ });
});

t.test('loadRuntimeFacekit() of a missing folder says the files belong to the repository and how to derive them', async (t) => {
  t.throws(() => loadRuntimeFacekit(join(tmpdir(), 'no-such-facekit-runtime')), { name: 'AssetError', message: /part of the repository.*derive\.js/ });
});

t.test('parseRuntimeFacekit() refuses a truncated bin, a wrong format and escapes its overflow cannot serve', async (t) => {
  t.throws(() => parseRuntimeFacekit(manifest, bin.subarray(0, 1_000_000)), { message: /truncated/ });
  t.throws(() => parseRuntimeFacekit({ ...manifest, format: 'facekit-2' }, bin), { message: /format/ });
  const spec = manifest.arrays.find((a: { name: string }) => a.name === 'identity_deltas');
  const extra = Uint8Array.from(bin);
  const i = extra.subarray(spec.offset, spec.offset + spec.bytes).findIndex((x) => x !== (ESCAPE & 0xff));
  extra[spec.offset + i] = ESCAPE & 0xff;
  t.throws(() => parseRuntimeFacekit(manifest, extra), AssetError, 'one escape too many');
});
