/**
 * Node-only loaders of facekit from disk.
 *
 * The full facekit (facekit-2, 22 MB; the generator, training and benches read it) comes from FACEKIT_DIR, else
 * ../shared/facekit beside the project root; it is read in place, never copied. The runtime facekit
 * (facekit-runtime-1, what the server and `reconstruct` read) is part of the repository: models/facekit-runtime,
 * derived from the full one by models/facekit-runtime/derive.ts. Both are ICT-FaceKit Light (MIT licence, USC ICT).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AssetError } from '../../shared/errors.js';
import { projectRoot } from '../projectRoot.js';
import { parseFacekit, type FacekitModel } from '../../shared/facekit/facekitModel.js';
import { parseRuntimeFacekit } from '../../shared/facekit/runtimeFacekit.js';

export const FACEKIT_DIR_ENV = 'FACEKIT_DIR';

export function facekitDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[FACEKIT_DIR_ENV];
  return fromEnv ? resolve(fromEnv) : resolve(projectRoot(), '..', 'shared', 'facekit');
}

/** The runtime facekit's folder in the repository. */
export const runtimeFacekitDir = (): string => join(projectRoot(), 'models', 'facekit-runtime');
export const RUNTIME_FACEKIT_JSON = 'facekit-runtime.json';
export const RUNTIME_FACEKIT_BIN = 'facekit-runtime.bin';

const cache = new Map<string, FacekitModel>();

/** Reads a manifest and its bin, checks the bin's sha256 against the manifest's. */
function readVerified(what: string, jsonPath: string, binPath: string, missing: string): { manifest: unknown; bin: Buffer } {
  for (const p of [jsonPath, binPath]) if (!existsSync(p)) throw new AssetError(`${what}: ${p} not found. ${missing}`);
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(jsonPath, 'utf8'));
  } catch (e) {
    throw new AssetError(`${what}: ${jsonPath} is not valid JSON: ${(e as Error).message}`);
  }
  const bin = readFileSync(binPath);
  const want = (manifest as { sha256?: unknown }).sha256;
  if (typeof want !== 'string' || !/^[0-9a-f]{64}$/.test(want)) throw new AssetError(`${what}: ${jsonPath}: sha256: expected 64 hex digits`);
  const got = createHash('sha256').update(bin).digest('hex');
  if (got !== want) {
    throw new AssetError(`${what}: ${binPath} is corrupt or altered: sha256 ${got}, expected ${want} (size ${bin.byteLength} bytes)`);
  }
  return { manifest, bin };
}

/** Loads and verifies the full facekit (format, sizes, dtypes, sha256). Cached per folder: the arrays are read-only by convention. */
export function loadFacekit(dir: string = facekitDir()): FacekitModel {
  const hit = cache.get(dir);
  if (hit) return hit;
  const { manifest, bin } = readVerified('facekit', join(dir, 'facekit.json'), join(dir, 'facekit.bin'),
    `Put facekit (facekit.json + facekit.bin) there, or set ${FACEKIT_DIR_ENV} to its folder.`);
  const model = parseFacekit(manifest, bin);
  cache.set(dir, model);
  return model;
}

/**
 * Loads and verifies the runtime facekit: the vertices, shapes and modes the engine reads (FacekitModel with
 * `sourceVertices`). Needs no full facekit. Cached per folder.
 */
export function loadRuntimeFacekit(dir: string = runtimeFacekitDir()): FacekitModel {
  const key = `runtime:${dir}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const { manifest, bin } = readVerified('facekit runtime', join(dir, RUNTIME_FACEKIT_JSON), join(dir, RUNTIME_FACEKIT_BIN),
    'It is part of the repository (models/facekit-runtime); restore it from git, or derive it again from the full facekit with node build/models/facekit-runtime/derive.js.');
  const model = parseRuntimeFacekit(manifest, bin);
  cache.set(key, model);
  return model;
}
