import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { makeOutputFolder } from './outputFolder.js';

t.test('makeOutputFolder() makes the missing levels and refuses what cannot be a folder, without hanging', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'outfolder-'));
  const made = makeOutputFolder(join(dir, 'a', 'b', 'c'));
  t.ok(statSync(made).isDirectory(), 'three levels made');
  t.equal(makeOutputFolder(made), made, 'an existing folder is fine');
  writeFileSync(join(dir, 'file'), 'x');
  t.throws(() => makeOutputFolder(join(dir, 'file')), { name: 'InputError', message: /exists and is not a folder/ });
  t.throws(() => makeOutputFolder(join(dir, 'file', 'under')), { name: 'InputError', message: /is not a folder|not reachable/ });
  t.throws(() => makeOutputFolder('/dev/null'), { name: 'InputError', message: /\/dev\/null exists and is not a folder/ });
  // node's recursive mkdir spins forever here; this must end with an error at once
  t.throws(() => makeOutputFolder('/proc/facelive-test/out'), { name: 'InputError', message: /cannot create \/proc\/facelive-test/ });
});
