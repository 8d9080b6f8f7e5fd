import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { facekitDir } from '../../node/facekit/loadFacekit.js';
import { projectRoot } from '../../node/projectRoot.js';

const SCRIPT = join(projectRoot(), 'build', 'models', 'facekit-runtime', 'derive.js');
const COMMITTED = join(projectRoot(), 'models', 'facekit-runtime');
const noFullFacekit = existsSync(join(facekitDir(), 'facekit.json')) ? false : `no full facekit in ${facekitDir()} (FACEKIT_DIR) to derive from`;

t.test('deriving the runtime facekit again from the full facekit gives the committed files, byte for byte', { skip: noFullFacekit }, async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'facekit-runtime-'));
  const r = spawnSync(process.execPath, [SCRIPT, '--out', out], { encoding: 'utf8', timeout: 120_000 });
  t.equal(r.status, 0, r.stderr);
  for (const name of ['facekit-runtime.bin', 'facekit-runtime.json', 'LICENSE', 'README.md']) {
    t.ok(readFileSync(join(out, name)).equals(readFileSync(join(COMMITTED, name))), `${name} as committed (else: npm run build && node build/models/facekit-runtime/derive.js, and commit)`);
  }
  t.ok(readFileSync(join(out, 'LICENSE')).equals(readFileSync(join(facekitDir(), 'LICENSE'))), 'LICENSE is facekit\'s, verbatim');
});

t.test('derive.js with an unknown flag or no facekit exits 1 with one line', async (t) => {
  const bad = spawnSync(process.execPath, [SCRIPT, '--bogus'], { encoding: 'utf8' });
  t.equal(bad.status, 1);
  t.match(bad.stderr, /derive: .*bogus/);
  const none = spawnSync(process.execPath, [SCRIPT, '--facekit', join(tmpdir(), 'no-such-facekit'), '--out', mkdtempSync(join(tmpdir(), 'facekit-runtime-'))], { encoding: 'utf8' });
  t.equal(none.status, 1);
  t.match(none.stderr, /facekit\.json not found/);
});
