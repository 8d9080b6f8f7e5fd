import t from 'tap';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssetError } from '../../shared/errors.js';
import { parseFacekit } from '../../shared/facekit/facekitModel.js';
import { facekitDir, loadFacekit } from './loadFacekit.js';

const dir = facekitDir();
const manifest = JSON.parse(readFileSync(join(dir, 'facekit.json'), 'utf8'));

function copyWithBin(bin: Uint8Array): string {
  const d = mkdtempSync(join(tmpdir(), 'facekit-'));
  copyFileSync(join(dir, 'facekit.json'), join(d, 'facekit.json'));
  writeFileSync(join(d, 'facekit.bin'), bin);
  return d;
}

t.test('loadFacekit() reads the real facekit with its documented sizes', async (t) => {
  const m = loadFacekit();
  t.equal(m.vertexCount, 26719);
  t.equal(m.polygonCount, 26384);
  t.equal(m.identityNames.length, 100);
  t.equal(m.expressionNames.length, 57);
  t.equal(m.neutralM.length, 26719 * 3);
  t.equal(m.landmarks68.length, 68);
  // units are metres: the nose tip is 13 cm in front of the origin
  t.ok(Math.abs(m.neutralM[m.landmarks68[30] * 3 + 2] - 0.1307) < 1e-3);
});

t.test('loadFacekit() with a truncated facekit.bin throws AssetError naming the sha256', async (t) => {
  const bin = readFileSync(join(dir, 'facekit.bin'));
  const d = copyWithBin(bin.subarray(0, bin.length - 1000));
  t.throws(() => loadFacekit(d), { name: 'AssetError', message: /corrupt or altered: sha256/ });
});

t.test('loadFacekit() with one altered byte throws AssetError', async (t) => {
  const bin = Uint8Array.from(readFileSync(join(dir, 'facekit.bin')));
  bin[123456] ^= 0x40;
  t.throws(() => loadFacekit(copyWithBin(bin)), AssetError);
});

t.test('loadFacekit() of a missing folder names FACEKIT_DIR in its error', async (t) => {
  t.throws(() => loadFacekit(join(tmpdir(), 'no-such-facekit-dir')), { name: 'AssetError', message: /FACEKIT_DIR/ });
});

t.test('parseFacekit() of a truncated bin (hash not checked) reports where the data ends', async (t) => {
  const bin = readFileSync(join(dir, 'facekit.bin'));
  t.throws(() => parseFacekit(manifest, bin.subarray(0, 20_000_000)), { message: /truncated/ });
});

t.test('parseFacekit() with a wrong dtype or shape in the manifest throws', async (t) => {
  const bin = readFileSync(join(dir, 'facekit.bin'));
  const badDtype = structuredClone(manifest);
  badDtype.arrays[0].dtype = 'float64';
  t.throws(() => parseFacekit(badDtype, bin), { message: /neutral: dtype: expected float32/ });
  const badShape = structuredClone(manifest);
  badShape.arrays[1].shape = [99, 26719, 3];
  t.throws(() => parseFacekit(badShape, bin), { message: /identity_deltas: shape/ });
  t.throws(() => parseFacekit({ ...manifest, format: 'facekit-1' }, bin), { message: /format/ });
});
