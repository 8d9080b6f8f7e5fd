/**
 * Node-only loader of facekit-2 from disk. The folder comes from FACEKIT_DIR, else ../shared/facekit beside the
 * project root. facekit is ICT-FaceKit Light (MIT licence, USC ICT); it is read in place, never copied.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AssetError } from '../../shared/errors.js';
import { projectRoot } from '../projectRoot.js';
import { parseFacekit, type FacekitModel } from '../../shared/facekit/facekitModel.js';

export const FACEKIT_DIR_ENV = 'FACEKIT_DIR';

export function facekitDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[FACEKIT_DIR_ENV];
  return fromEnv ? resolve(fromEnv) : resolve(projectRoot(), '..', 'shared', 'facekit');
}

const cache = new Map<string, FacekitModel>();

/** Loads and verifies facekit (format, sizes, dtypes, sha256). Cached per folder: the arrays are read-only by convention. */
export function loadFacekit(dir: string = facekitDir()): FacekitModel {
  const hit = cache.get(dir);
  if (hit) return hit;
  const jsonPath = join(dir, 'facekit.json');
  const binPath = join(dir, 'facekit.bin');
  for (const p of [jsonPath, binPath]) {
    if (!existsSync(p)) {
      throw new AssetError(
        `facekit: ${p} not found. Put facekit (facekit.json + facekit.bin) there, or set ${FACEKIT_DIR_ENV} to its folder.`,
      );
    }
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(jsonPath, 'utf8'));
  } catch (e) {
    throw new AssetError(`facekit: ${jsonPath} is not valid JSON: ${(e as Error).message}`);
  }
  const bin = readFileSync(binPath);
  const want = (manifest as { sha256?: unknown }).sha256;
  if (typeof want !== 'string' || !/^[0-9a-f]{64}$/.test(want)) throw new AssetError(`facekit: ${jsonPath}: sha256: expected 64 hex digits`);
  const got = createHash('sha256').update(bin).digest('hex');
  if (got !== want) {
    throw new AssetError(`facekit: ${binPath} is corrupt or altered: sha256 ${got}, expected ${want} (size ${bin.byteLength} bytes)`);
  }
  const model = parseFacekit(manifest, bin);
  cache.set(dir, model);
  return model;
}
