/**
 * The folder a command writes into (`--out`), made before any work starts, with a clear InputError for a path
 * that cannot be one: an existing file, a device, a path under a file, a read-only or virtual file system.
 * Node's own `mkdirSync(..., { recursive: true })` spins forever on a path under /proc (it retries ENOENT), so
 * the missing levels are made one at a time.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InputError } from '../../shared/errors.js';

const code = (e: unknown) => (e as NodeJS.ErrnoException)?.code ?? (e as Error)?.message ?? String(e);

export function makeOutputFolder(path: string, what = '--out'): string {
  const target = resolve(path);
  const missing: string[] = [];
  for (let p = target; ; p = dirname(p)) {
    let isFolder: boolean;
    try {
      isFolder = statSync(p).isDirectory();
    } catch (e) {
      if (code(e) === 'ENOENT' && dirname(p) !== p) {
        missing.push(p);
        continue;
      }
      throw new InputError(`${what}: cannot use ${target}: ${p} is not reachable (${code(e)})`);
    }
    if (!isFolder) throw new InputError(`${what}: cannot use ${target}: ${p} exists and is not a folder`);
    break;
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir);
    } catch (e) {
      if (code(e) === 'EEXIST' && statSync(dir).isDirectory()) continue; // made meanwhile by someone else
      throw new InputError(`${what}: cannot create ${dir} (${code(e)})`);
    }
  }
  return target;
}
