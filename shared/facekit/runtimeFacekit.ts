/**
 * The runtime facekit (format facekit-runtime-1): the part of facekit-2 that the server and `reconstruct` read,
 * small enough to live in the repository (models/facekit-runtime, with facekit's MIT notice), so that a fresh
 * clone runs without the full facekit. The generator, training and the benches keep reading the full facekit.
 *
 * It keeps a chosen set of vertices (the engine names them: engineVertices in server/engine/faceTemplate.ts), in
 * facekit's order, with every number of facekit-2 about them unchanged: the neutral positions, all 100 identity
 * modes and all 57 expression shapes in facekit's int16 steps of 10 micrometres (the expressions only where a shape
 * moves a vertex). The steps are stored as int8 where they fit, which nearly all do, with an escape to int16 for the
 * rest (ESCAPE): lossless, so the engine computes the same numbers from either. Parts that are kept whole keep their polygons and the
 * uvs those use; parts of which only some vertices are kept (the sampled vertices of the blendshape fit) keep no
 * polygon. Indices (polygons, landmarks, rigid vertices) are renumbered to the kept vertices.
 *
 * encodeRuntimeFacekit derives it from the full model, parseRuntimeFacekit reads it back as a FacekitModel with
 * `sourceVertices` set. Pure: hashing and files live in node/facekit/loadFacekit.ts.
 */
import { AssetError } from '../errors.js';
import type { FacekitModel, FacekitPart } from './facekitModel.js';

export const RUNTIME_FACEKIT_FORMAT = 'facekit-runtime-1';

/** An int8 of this value stands for the next int16 of the array's overflow: the step did not fit in -127..127. */
export const ESCAPE = -128;

/** Where the runtime facekit came from: facekit's own source line and the hash of the facekit.bin it was derived from. */
export interface RuntimeFacekitProvenance {
  readonly source: string;
  readonly facekitSha256: string;
  /** the command that derived it */
  readonly derivation: string;
}

type Dtype = 'float32' | 'int32' | 'int16' | 'int8' | 'uint8';
const DTYPE_BYTES: Record<Dtype, number> = { float32: 4, int32: 4, int16: 2, int8: 1, uint8: 1 };

interface ArraySpec {
  readonly name: string;
  readonly dtype: Dtype;
  readonly shape: number[];
  readonly offset: number;
  readonly bytes: number;
}

interface RuntimePart {
  readonly name: string;
  /** inclusive range of kept vertices */
  readonly vertices: [number, number];
  /** inclusive polygon range; null for a part of which only some vertices are kept */
  readonly polygons: [number, number] | null;
}

/** facekit-runtime.json, less its sha256 (of the bin, added by whoever writes the file). */
export interface RuntimeFacekitManifest {
  readonly format: string;
  readonly source: string;
  readonly licence: string;
  readonly derived_from: { format: 'facekit-2'; sha256: string; vertices: number; polygons: number; uvs: number };
  readonly derivation: string;
  readonly units: string;
  readonly vertices: number;
  readonly polygons: number;
  readonly uvs: number;
  readonly identity_names: readonly string[];
  readonly expression_names: readonly string[];
  readonly identity_note: string;
  readonly expression_note: string;
  readonly delta_step_cm: number;
  readonly storage_note: string;
  readonly parts: RuntimePart[];
  readonly landmarks_multipie68: number[];
  readonly rigid_vertices: number[];
  readonly arrays: ArraySpec[];
}

function fail(message: string): never {
  throw new AssetError(`facekit runtime: ${message}`);
}

/** Lays typed arrays back to back, each at an offset divisible by 4. */
class BinWriter {
  readonly arrays: ArraySpec[] = [];
  private readonly chunks: Uint8Array[] = [];
  private size = 0;

  add(name: string, dtype: Dtype, shape: number[], data: Float32Array | Int32Array | Int16Array | Int8Array | Uint8Array): void {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (bytes.length !== shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype]) throw new RangeError(`${name}: ${bytes.length} bytes for shape [${shape}] of ${dtype}`);
    const pad = (4 - (this.size % 4)) % 4;
    if (pad) this.chunks.push(new Uint8Array(pad));
    this.size += pad;
    this.arrays.push({ name, dtype, shape, offset: this.size, bytes: bytes.length });
    this.chunks.push(Uint8Array.from(bytes));
    this.size += bytes.length;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) (out.set(c, o), (o += c.length));
    return out;
  }
}

/**
 * The runtime facekit of `full` keeping the vertices `keep` (facekit indices, any order; kept in facekit's order).
 * Deterministic: the same model and vertices give the same bytes (the host is little-endian, as every typed array
 * this project writes assumes).
 */
export function encodeRuntimeFacekit(full: FacekitModel, keep: ArrayLike<number>, provenance: RuntimeFacekitProvenance): { manifest: RuntimeFacekitManifest; bin: Uint8Array } {
  if (full.sourceVertices) throw new RangeError('encodeRuntimeFacekit: expected the full facekit, got a subset');
  const V = full.vertexCount, I = full.identityNames.length, E = full.expressionNames.length;
  const kept = Int32Array.from(new Set(Array.from(keep))).sort();
  if (kept.length === 0 || kept[0] < 0 || kept[kept.length - 1] >= V) throw new RangeError(`encodeRuntimeFacekit: vertices to keep must lie in 0..${V - 1}`);
  const K = kept.length;
  const newIndex = new Int32Array(V).fill(-1);
  kept.forEach((v, i) => (newIndex[v] = i));

  // parts: kept whole (with their polygons) or in part (vertices only); parts with no kept vertex are left out
  const parts: RuntimePart[] = [];
  const polygonsKept: number[] = [];
  for (const part of full.parts) {
    let first = -1, last = -1, count = 0;
    for (let v = part.vertices[0]; v <= part.vertices[1]; v++) {
      if (newIndex[v] < 0) continue;
      if (first < 0) first = newIndex[v];
      last = newIndex[v];
      count++;
    }
    if (count === 0) continue;
    const whole = count === part.vertices[1] - part.vertices[0] + 1;
    let polygons: [number, number] | null = null;
    if (whole) {
      const p0 = polygonsKept.length;
      for (let p = part.polygons[0]; p <= part.polygons[1]; p++) {
        for (let k = 0; k < 4; k++) {
          const v = full.polygons[p * 4 + k];
          if (v >= 0 && newIndex[v] < 0) throw new RangeError(`encodeRuntimeFacekit: polygon ${p} of part ${part.name} uses vertex ${v}, which is not kept`);
        }
        polygonsKept.push(p);
      }
      if (polygonsKept.length > p0) polygons = [p0, polygonsKept.length - 1];
    }
    parts.push({ name: part.name, vertices: [first, last], polygons });
  }
  const P = polygonsKept.length;

  // the uvs the kept polygons use, in facekit's order
  const uvUsed = new Uint8Array(full.uv.length / 2);
  for (const p of polygonsKept) for (let k = 0; k < 4; k++) if (full.polygonUvs[p * 4 + k] >= 0) uvUsed[full.polygonUvs[p * 4 + k]] = 1;
  const uvIndex = new Int32Array(uvUsed.length).fill(-1);
  let U = 0;
  uvUsed.forEach((used, u) => used && (uvIndex[u] = U++));
  const uv = new Float32Array(U * 2);
  uvIndex.forEach((n, u) => n >= 0 && ((uv[n * 2] = full.uv[u * 2]), (uv[n * 2 + 1] = full.uv[u * 2 + 1])));
  const faces = new Int32Array(P * 4), faceUvs = new Int32Array(P * 4);
  polygonsKept.forEach((p, i) => {
    for (let k = 0; k < 4; k++) {
      const v = full.polygons[p * 4 + k], u = full.polygonUvs[p * 4 + k];
      faces[i * 4 + k] = v < 0 ? -1 : newIndex[v];
      faceUvs[i * 4 + k] = u < 0 ? -1 : uvIndex[u];
    }
  });

  // neutral: the parsed model's metres, bit for bit
  const neutralM = new Float32Array(K * 3);
  kept.forEach((v, i) => neutralM.set(full.neutralM.subarray(v * 3, v * 3 + 3), i * 3));

  // identity: every mode's steps at the kept vertices
  const V3 = V * 3;
  const identity = new Int16Array(I * K * 3);
  for (let m = 0; m < I; m++) kept.forEach((v, i) => identity.set(full.identityDeltas.subarray(m * V3 + v * 3, m * V3 + v * 3 + 3), (m * K + i) * 3));
  const identityStored = escapeToInt8(identity);

  // expressions: the steps of the vertices each shape moves, with a bit per kept vertex saying which
  const maskBytes = Math.ceil(K / 8);
  const masks = new Uint8Array(E * maskBytes);
  const moved: number[] = [];
  for (let e = 0; e < E; e++) {
    kept.forEach((v, i) => {
      const o = e * V3 + v * 3, d = full.expressionDeltas;
      if (d[o] === 0 && d[o + 1] === 0 && d[o + 2] === 0) return;
      masks[e * maskBytes + (i >> 3)] |= 1 << (i & 7);
      moved.push(d[o], d[o + 1], d[o + 2]);
    });
  }
  const expressionStored = escapeToInt8(Int16Array.from(moved));

  const landmarks = Array.from(full.landmarks68, (v) => {
    if (newIndex[v] < 0) throw new RangeError(`encodeRuntimeFacekit: landmark vertex ${v} is not kept`);
    return newIndex[v];
  });
  const rigid = Array.from(full.rigidVertices).filter((v) => newIndex[v] >= 0).map((v) => newIndex[v]);

  const w = new BinWriter();
  w.add('neutral_m', 'float32', [K, 3], neutralM);
  w.add('source_vertices', 'int32', [K], kept);
  w.add('identity_deltas', 'int8', [I, K, 3], identityStored.narrow);
  w.add('identity_overflow', 'int16', [identityStored.overflow.length], identityStored.overflow);
  w.add('expression_masks', 'uint8', [E, maskBytes], masks);
  w.add('expression_deltas', 'int8', [moved.length / 3, 3], expressionStored.narrow);
  w.add('expression_overflow', 'int16', [expressionStored.overflow.length], expressionStored.overflow);
  w.add('faces', 'int32', [P, 4], faces);
  w.add('uv', 'float32', [U, 2], uv);
  w.add('face_uvs', 'int32', [P, 4], faceUvs);
  const stepCm = full.deltaStepM / 0.01;
  if (stepCm * 0.01 !== full.deltaStepM) throw new RangeError(`encodeRuntimeFacekit: delta step ${full.deltaStepM} m does not survive a round trip through centimetres`);
  const manifest: RuntimeFacekitManifest = {
    format: RUNTIME_FACEKIT_FORMAT,
    source: provenance.source,
    licence: 'MIT (ICT-FaceKit, Copyright (c) 2020 USC Institute for Creative Technologies): see LICENSE beside this file, which travels with this data',
    derived_from: { format: 'facekit-2', sha256: provenance.facekitSha256, vertices: V, polygons: full.polygonCount, uvs: full.uv.length / 2 },
    derivation: provenance.derivation,
    units: "neutral_m in metres, deltas in steps of delta_step_cm centimetres; right-handed, +y up, +z towards the face's front",
    vertices: K,
    polygons: P,
    uvs: U,
    identity_names: [...full.identityNames],
    expression_names: [...full.expressionNames],
    identity_note: 'each identity delta is one standard deviation of its PCA mode; sample weights from N(0,1)',
    expression_note: 'ARKit-style blendshapes; weights in [0,1]; expression_deltas holds the vertices each shape moves, shape by shape: bit i of expression_masks[shape] (byte i >> 3, bit i & 7) says vertex i moves',
    storage_note: `deltas in steps of delta_step_cm, as facekit-2 has them (lossless): int8, where ${ESCAPE} stands for the next int16 of the array's overflow`,
    delta_step_cm: stepCm,
    parts,
    landmarks_multipie68: landmarks,
    rigid_vertices: rigid,
    arrays: w.arrays,
  };
  return { manifest, bin: w.bytes() };
}

/** int16 steps as int8, ESCAPE standing for the next value of `overflow` (the few that do not fit). */
function escapeToInt8(steps: Int16Array): { narrow: Int8Array; overflow: Int16Array } {
  const narrow = new Int8Array(steps.length), overflow: number[] = [];
  steps.forEach((x, i) => {
    if (x >= -127 && x <= 127) narrow[i] = x;
    else (narrow[i] = ESCAPE), overflow.push(x);
  });
  return { narrow, overflow: Int16Array.from(overflow) };
}

/** The inverse of escapeToInt8; `what` names the array in errors. */
function unescapeInt8(narrow: Int8Array, overflow: Int16Array, what: string): Int16Array {
  const out = new Int16Array(narrow.length);
  let j = 0;
  for (let i = 0; i < narrow.length; i++) {
    if (narrow[i] !== ESCAPE) out[i] = narrow[i];
    else if (j < overflow.length) out[i] = overflow[j++];
    else fail(`${what}: more escapes than its overflow holds (${overflow.length})`);
  }
  if (j !== overflow.length) fail(`${what}: its overflow holds ${overflow.length} values, the escapes use ${j}`);
  return out;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function count(m: Record<string, unknown>, key: string): number {
  const x = m[key];
  if (typeof x !== 'number' || !Number.isInteger(x) || x <= 0) fail(`${key}: expected a positive integer, got ${JSON.stringify(x)}`);
  return x;
}

function strings(m: Record<string, unknown>, key: string): string[] {
  const x = m[key];
  if (!Array.isArray(x) || !x.every((s) => typeof s === 'string')) fail(`${key}: expected an array of strings`);
  return x as string[];
}

function indices(m: Record<string, unknown>, key: string, below: number, min = 0): Int32Array {
  const x = m[key];
  if (!Array.isArray(x) || !x.every((n) => Number.isInteger(n) && n >= min && n < below)) fail(`${key}: expected an array of integers in ${min}..${below - 1}`);
  return Int32Array.from(x as number[]);
}

/** Checks the manifest against the bytes and builds the model (metres). The sha256 is the caller's to check. */
export function parseRuntimeFacekit(manifest: unknown, bin: Uint8Array): FacekitModel {
  if (!isRecord(manifest)) fail('expected a JSON object');
  if (manifest.format !== RUNTIME_FACEKIT_FORMAT) fail(`format: expected "${RUNTIME_FACEKIT_FORMAT}", got ${JSON.stringify(manifest.format)}`);
  const K = count(manifest, 'vertices'), P = count(manifest, 'polygons'), U = count(manifest, 'uvs');
  const identityNames = strings(manifest, 'identity_names'), expressionNames = strings(manifest, 'expression_names');
  const I = identityNames.length, E = expressionNames.length;
  const step = manifest.delta_step_cm;
  if (typeof step !== 'number' || !(step > 0)) fail(`delta_step_cm: expected a positive number, got ${JSON.stringify(step)}`);
  const from = manifest.derived_from;
  if (!isRecord(from) || !Number.isInteger(from.vertices)) fail('derived_from: expected {format, sha256, vertices, polygons, uvs}');

  const maskBytes = Math.ceil(K / 8);
  const want: Record<string, [Dtype, number[] | null]> = {
    neutral_m: ['float32', [K, 3]],
    source_vertices: ['int32', [K]],
    identity_deltas: ['int8', [I, K, 3]],
    identity_overflow: ['int16', null],
    expression_masks: ['uint8', [E, maskBytes]],
    expression_deltas: ['int8', null],
    expression_overflow: ['int16', null],
    faces: ['int32', [P, 4]],
    uv: ['float32', [U, 2]],
    face_uvs: ['int32', [P, 4]],
  };
  const found = new Map<string, ArraySpec>();
  if (!Array.isArray(manifest.arrays)) fail('arrays: expected an array');
  for (const a of manifest.arrays as unknown[]) {
    if (!isRecord(a) || typeof a.name !== 'string' || !(a.name in want)) continue;
    const [dtype, shape] = want[a.name];
    if (a.dtype !== dtype) fail(`array ${a.name}: dtype: expected ${dtype}, got ${JSON.stringify(a.dtype)}`);
    if (!Array.isArray(a.shape) || !a.shape.every((n) => Number.isInteger(n) && n >= 0)) fail(`array ${a.name}: shape: expected non-negative integers`);
    if (shape && a.shape.join(',') !== shape.join(',')) fail(`array ${a.name}: shape: expected [${shape.join(', ')}], got ${JSON.stringify(a.shape)}`);
    const bytes = (a.shape as number[]).reduce((x, y) => x * y, 1) * DTYPE_BYTES[dtype];
    if (a.bytes !== bytes) fail(`array ${a.name}: bytes: expected ${bytes}, got ${JSON.stringify(a.bytes)}`);
    if (typeof a.offset !== 'number' || !Number.isInteger(a.offset) || a.offset < 0) fail(`array ${a.name}: offset: expected a non-negative integer`);
    if (a.offset + bytes > bin.byteLength) fail(`array ${a.name} ends at byte ${a.offset + bytes} but the bin has only ${bin.byteLength} bytes (truncated?)`);
    found.set(a.name, { name: a.name, dtype, shape: a.shape as number[], offset: a.offset, bytes });
  }
  const missing = Object.keys(want).filter((k) => !found.has(k));
  if (missing.length) fail(`arrays: missing ${missing.join(', ')}`);
  const raw = (name: string) => {
    const s = found.get(name)!;
    return new Uint8Array(bin.subarray(s.offset, s.offset + s.bytes)).buffer;
  };

  const neutralM = new Float32Array(raw('neutral_m'));
  for (let i = 0; i < neutralM.length; i++) {
    if (!Number.isFinite(neutralM[i]) || Math.abs(neutralM[i]) > 1) fail(`neutral_m[${i}] = ${neutralM[i]} m is not a plausible head coordinate`);
  }
  const sourceVertices = new Int32Array(raw('source_vertices'));
  for (let i = 0; i < K; i++) {
    if (!(sourceVertices[i] >= 0 && sourceVertices[i] < (from.vertices as number) && (i === 0 || sourceVertices[i] > sourceVertices[i - 1]))) {
      fail(`source_vertices[${i}] = ${sourceVertices[i]}: expected increasing facekit indices below ${String(from.vertices)}`);
    }
  }

  const identityDeltas = unescapeInt8(new Int8Array(raw('identity_deltas')), new Int16Array(raw('identity_overflow')), 'identity_deltas');

  const masks = new Uint8Array(raw('expression_masks'));
  const moved = unescapeInt8(new Int8Array(raw('expression_deltas')), new Int16Array(raw('expression_overflow')), 'expression_deltas');
  const expressionDeltas = new Int16Array(E * K * 3);
  let next = 0;
  for (let e = 0; e < E; e++) {
    for (let i = 0; i < K; i++) {
      if (!(masks[e * maskBytes + (i >> 3)] & (1 << (i & 7)))) continue;
      if (next + 3 > moved.length) fail(`expression_masks mark more moved vertices than expression_deltas holds (${moved.length / 3})`);
      expressionDeltas.set(moved.subarray(next, next + 3), (e * K + i) * 3);
      next += 3;
    }
  }
  if (next !== moved.length) fail(`expression_deltas holds ${moved.length / 3} vertices, the masks mark ${next / 3}`);

  const polygons = new Int32Array(raw('faces'));
  const polygonUvs = new Int32Array(raw('face_uvs'));
  for (let i = 0; i < polygons.length; i++) {
    const corner = i & 3, vi = polygons[i], ui = polygonUvs[i];
    if (!(corner === 3 && vi === -1) && (vi < 0 || vi >= K)) fail(`faces[${i >> 2}][${corner}] = ${vi} is not a vertex index below ${K}`);
    if (!(corner === 3 && ui === -1) && (ui < 0 || ui >= U)) fail(`face_uvs[${i >> 2}][${corner}] = ${ui} is not a uv index below ${U}`);
  }

  if (!Array.isArray(manifest.parts)) fail('parts: expected an array');
  const parts: FacekitPart[] = (manifest.parts as unknown[]).map((x, i) => {
    if (!isRecord(x) || typeof x.name !== 'string' || !Array.isArray(x.vertices) || !(x.polygons === null || Array.isArray(x.polygons))) {
      fail(`parts[${i}]: expected {name, vertices, polygons}`);
    }
    const [v0, v1] = x.vertices as number[];
    // a part kept in part has no polygon: an empty range, its end before its start
    const [p0, p1] = (x.polygons as number[] | null) ?? [P, P - 1];
    if (!(v0 >= 0 && v1 >= v0 && v1 < K && p0 >= 0 && p1 >= p0 - 1 && p1 < P)) fail(`parts[${i}] (${x.name}): ranges out of bounds`);
    return { name: x.name, vertices: [v0, v1], polygons: [p0, p1] };
  });

  const landmarks68 = indices(manifest, 'landmarks_multipie68', K);
  if (landmarks68.length !== 68) fail(`landmarks_multipie68: expected 68 indices, got ${landmarks68.length}`);

  return {
    vertexCount: K,
    polygonCount: P,
    identityNames,
    expressionNames,
    neutralM,
    identityDeltas,
    expressionDeltas,
    deltaStepM: step * 0.01,
    polygons,
    uv: new Float32Array(raw('uv')),
    polygonUvs,
    parts,
    landmarks68,
    rigidVertices: indices(manifest, 'rigid_vertices', K),
    sourceVertices,
  };
}
