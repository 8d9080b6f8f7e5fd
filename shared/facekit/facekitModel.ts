/**
 * facekit-2 (ICT-FaceKit Light, MIT licence, USC Institute for Creative Technologies) parsed into typed arrays.
 * Pure: takes the manifest and the bytes, checks them, returns arrays. File access lives in loadFacekit.ts.
 *
 * Units after parsing: metres (the file stores centimetres), right-handed, +y up, +z out of the face.
 */
import { AssetError } from '../errors.js';

export const FACEKIT_FORMAT = 'facekit-2';

export interface FacekitPart {
  readonly name: string;
  /** inclusive vertex range */
  readonly vertices: readonly [number, number];
  /** inclusive polygon range; empty (its end before its start) where the runtime facekit keeps only some of the part's vertices */
  readonly polygons: readonly [number, number];
}

export interface FacekitModel {
  readonly vertexCount: number;
  readonly polygonCount: number;
  readonly identityNames: readonly string[];
  readonly expressionNames: readonly string[];
  /** [V*3] metres: the neutral template (mean identity, zero expression) */
  readonly neutralM: Float32Array;
  /** [I][V*3] raw int16 steps; multiply by deltaStepM */
  readonly identityDeltas: Int16Array;
  /** [E][V*3] raw int16 steps; multiply by deltaStepM */
  readonly expressionDeltas: Int16Array;
  /** size of one int16 step, metres */
  readonly deltaStepM: number;
  /** [P*4] polygon vertex indices; -1 in the 4th slot for a triangle */
  readonly polygons: Int32Array;
  /** [U*2] texture coordinates (u spans several unit tiles: one per part group) */
  readonly uv: Float32Array;
  /** [P*4] per-corner uv indices, like polygons */
  readonly polygonUvs: Int32Array;
  readonly parts: readonly FacekitPart[];
  /** 68 Multi-PIE landmark vertex indices */
  readonly landmarks68: Int32Array;
  /** vertices that barely move with expression */
  readonly rigidVertices: Int32Array;
  /**
   * facekit's index of each vertex, where this model is a subset of facekit (the runtime facekit,
   * shared/facekit/runtimeFacekit.ts); absent for the full facekit, whose vertex i is facekit's vertex i.
   */
  readonly sourceVertices?: Int32Array;
}

type Dtype = 'float32' | 'int16' | 'int32';
const DTYPE_BYTES: Record<Dtype, number> = { float32: 4, int16: 2, int32: 4 };

interface ArraySpec {
  name: string;
  dtype: Dtype;
  shape: number[];
  offset: number;
  bytes: number;
}

/** What each array must look like, given the counts of the manifest. */
function expectedArrays(v: number, p: number, u: number, ids: number, exprs: number): Record<string, [Dtype, number[]]> {
  return {
    neutral: ['float32', [v, 3]],
    identity_deltas: ['int16', [ids, v, 3]],
    expression_deltas: ['int16', [exprs, v, 3]],
    faces: ['int32', [p, 4]],
    uv: ['float32', [u, 2]],
    face_uvs: ['int32', [p, 4]],
  };
}

function fail(message: string): never {
  throw new AssetError(`facekit: ${message}`);
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function intField(m: Record<string, unknown>, key: string): number {
  const x = m[key];
  if (typeof x !== 'number' || !Number.isInteger(x) || x <= 0) fail(`facekit.json: ${key}: expected a positive integer, got ${JSON.stringify(x)}`);
  return x;
}

function stringList(m: Record<string, unknown>, key: string): string[] {
  const x = m[key];
  if (!Array.isArray(x) || !x.every((s) => typeof s === 'string')) fail(`facekit.json: ${key}: expected an array of strings`);
  return x as string[];
}

function intList(m: Record<string, unknown>, key: string, max: number): Int32Array {
  const x = m[key];
  if (!Array.isArray(x) || !x.every((n) => Number.isInteger(n) && n >= 0 && n < max)) {
    fail(`facekit.json: ${key}: expected an array of vertex indices below ${max}`);
  }
  return Int32Array.from(x as number[]);
}

/** Copies a byte range into its own (aligned) buffer: several arrays sit at offsets not divisible by 4. */
function typedSlice(bin: Uint8Array, spec: ArraySpec): Float32Array | Int16Array | Int32Array {
  // new Uint8Array(view) copies; Buffer.slice would not.
  const copy = new Uint8Array(bin.subarray(spec.offset, spec.offset + spec.bytes)).buffer;
  switch (spec.dtype) {
    case 'float32':
      return new Float32Array(copy);
    case 'int16':
      return new Int16Array(copy);
    case 'int32':
      return new Int32Array(copy);
  }
}

/**
 * Checks the manifest against the bytes (sizes, dtypes, shapes, index ranges) and builds the model.
 * The sha256 is checked by the caller that has the file (hashing needs node:crypto).
 */
export function parseFacekit(manifest: unknown, bin: Uint8Array): FacekitModel {
  if (!isRecord(manifest)) fail('facekit.json: expected a JSON object');
  if (manifest.format !== FACEKIT_FORMAT) fail(`facekit.json: format: expected "${FACEKIT_FORMAT}", got ${JSON.stringify(manifest.format)}`);
  const v = intField(manifest, 'vertices');
  const p = intField(manifest, 'polygons');
  const u = intField(manifest, 'uvs');
  const identityNames = stringList(manifest, 'identity_names');
  const expressionNames = stringList(manifest, 'expression_names');
  const step = manifest.delta_step_cm;
  if (typeof step !== 'number' || !(step > 0)) fail(`facekit.json: delta_step_cm: expected a positive number, got ${JSON.stringify(step)}`);

  const arrays = manifest.arrays;
  if (!Array.isArray(arrays)) fail('facekit.json: arrays: expected an array');
  const want = expectedArrays(v, p, u, identityNames.length, expressionNames.length);
  const found = new Map<string, ArraySpec>();
  for (const a of arrays as unknown[]) {
    if (!isRecord(a) || typeof a.name !== 'string') fail('facekit.json: arrays[]: expected objects with a name');
    const w = want[a.name];
    if (!w) continue;
    const [dtype, shape] = w;
    if (a.dtype !== dtype) fail(`array ${a.name}: dtype: expected ${dtype}, got ${JSON.stringify(a.dtype)}`);
    if (!Array.isArray(a.shape) || a.shape.join(',') !== shape.join(',')) {
      fail(`array ${a.name}: shape: expected [${shape.join(', ')}], got ${JSON.stringify(a.shape)}`);
    }
    const bytes = shape.reduce((x, y) => x * y, 1) * DTYPE_BYTES[dtype];
    if (a.bytes !== bytes) fail(`array ${a.name}: bytes: expected ${bytes}, got ${JSON.stringify(a.bytes)}`);
    if (typeof a.offset !== 'number' || !Number.isInteger(a.offset) || a.offset < 0) fail(`array ${a.name}: offset: expected a non-negative integer`);
    if (a.offset + bytes > bin.byteLength) {
      fail(`array ${a.name} ends at byte ${a.offset + bytes} but facekit.bin has only ${bin.byteLength} bytes (truncated?)`);
    }
    found.set(a.name, { name: a.name, dtype, shape, offset: a.offset, bytes });
  }
  const missing = Object.keys(want).filter((k) => !found.has(k));
  if (missing.length) fail(`facekit.json: arrays: missing ${missing.join(', ')}`);
  const get = (name: string) => typedSlice(bin, found.get(name)!);

  const neutralCm = get('neutral') as Float32Array;
  const neutralM = new Float32Array(neutralCm.length);
  for (let i = 0; i < neutralCm.length; i++) {
    const x = neutralCm[i];
    if (!Number.isFinite(x) || Math.abs(x) > 100) fail(`neutral[${i}] = ${x} cm is not a plausible head coordinate`);
    neutralM[i] = x * 0.01;
  }
  const polygons = get('faces') as Int32Array;
  const polygonUvs = get('face_uvs') as Int32Array;
  for (let i = 0; i < polygons.length; i++) {
    const corner = i & 3;
    const vi = polygons[i];
    const ui = polygonUvs[i];
    const triangleSlot = corner === 3 && vi === -1;
    if (!triangleSlot && (vi < 0 || vi >= v)) fail(`faces[${i >> 2}][${corner}] = ${vi} is not a vertex index below ${v}`);
    if (!(corner === 3 && ui === -1) && (ui < 0 || ui >= u)) fail(`face_uvs[${i >> 2}][${corner}] = ${ui} is not a uv index below ${u}`);
  }

  const partsRaw = manifest.parts;
  if (!Array.isArray(partsRaw)) fail('facekit.json: parts: expected an array');
  const parts: FacekitPart[] = (partsRaw as unknown[]).map((x, i) => {
    if (!isRecord(x) || typeof x.name !== 'string' || !Array.isArray(x.vertices) || !Array.isArray(x.polygons)) {
      fail(`facekit.json: parts[${i}]: expected {name, vertices, polygons}`);
    }
    const [v0, v1] = x.vertices as number[];
    const [p0, p1] = x.polygons as number[];
    if (!(v0 >= 0 && v1 >= v0 && v1 < v && p0 >= 0 && p1 >= p0 && p1 < p)) fail(`facekit.json: parts[${i}] (${x.name}): ranges out of bounds`);
    return { name: x.name, vertices: [v0, v1], polygons: [p0, p1] };
  });

  const landmarks68 = intList(manifest, 'landmarks_multipie68', v);
  if (landmarks68.length !== 68) fail(`facekit.json: landmarks_multipie68: expected 68 indices, got ${landmarks68.length}`);

  return {
    vertexCount: v,
    polygonCount: p,
    identityNames,
    expressionNames,
    neutralM,
    identityDeltas: get('identity_deltas') as Int16Array,
    expressionDeltas: get('expression_deltas') as Int16Array,
    deltaStepM: step * 0.01,
    polygons,
    uv: get('uv') as Float32Array,
    polygonUvs,
    parts,
    landmarks68,
    rigidVertices: intList(manifest, 'rigid_vertices', v),
  };
}

/** The part a vertex range or polygon belongs to, by name. Throws if the model has no such part. */
export function partByName(model: FacekitModel, name: string): FacekitPart {
  const part = model.parts.find((x) => x.name === name);
  if (!part) fail(`no part named "${name}" (have: ${model.parts.map((x) => x.name).join(', ')})`);
  return part;
}
