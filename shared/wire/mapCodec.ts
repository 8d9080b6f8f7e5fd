/**
 * Per-pixel maps on the wire: quantized with a stated error bound, then coded losslessly (the quantized values come
 * back exactly):
 *
 *   mask        part ids, every pixel
 *   depth       metres → steps of DEPTH_STEP_M (error ≤ half a step)                      } only where the mask has
 *   canonical   metres → steps of CANONICAL_STEP_M per channel around the canonical centre } a canonical coordinate;
 *   confidence  ≥ 1 → (c − 1) × 4 in 0..255 (error ≤ 1/8, capped at 64.75)                 } 0 / 1 elsewhere
 *
 * Each plane is predicted pixel by pixel from its already-coded face neighbours (LOCO-I's median edge detector:
 * left, up, up-left), and the residual goes through an adaptive binary range coder (rangeCoder.ts) whose
 * probabilities depend on how large the neighbours' residuals were: flat skin costs well under a bit per value,
 * edges cost more. Pixels off the face are not coded at all. The mask is coded first with its left and upper
 * neighbours' ids as context. The steps are far below the model's own error (millimetres to centimetres), so
 * nothing a client can see is lost. Browser-safe: pure TypeScript.
 */
import { CANONICAL_NORMALIZATION } from '../canonical.js';
import { ProtocolError } from '../errors.js';
import { hasCanonical } from '../parts.js';
import { newProbabilities, RangeDecoder, RangeEncoder } from './rangeCoder.js';

export const DEPTH_STEP_M = 0.001;
export const CANONICAL_STEP_M = 0.002;
const CONFIDENCE_SCALE = 4;
/** part ids are 0..7 (shared/parts.ts): three bits per pixel before coding */
const MASK_BITS = 3;

export interface PlainMaps {
  readonly size: number;
  /** [S*S] metres */
  readonly depth: Float32Array;
  /** [3*S*S] channels first, metres */
  readonly canonical: Float32Array;
  /** [S*S] ≥ 1 */
  readonly confidence: Float32Array;
  /** [S*S] PartId */
  readonly mask: Uint8Array;
}

/** Each plane is one range-coded stream; depth, canonical and confidence can only be decoded with the mask. */
export interface EncodedMaps {
  readonly size: number;
  readonly depth: Uint8Array;
  readonly canonical: Uint8Array;
  readonly confidence: Uint8Array;
  readonly mask: Uint8Array;
}

export function encodeMaps(m: PlainMaps): EncodedMaps {
  const S = m.size, n = S * S;
  const face = new Uint8Array(n);
  for (let i = 0; i < n; i++) face[i] = hasCanonical(m.mask[i]) ? 1 : 0;
  const depth = new Int32Array(n), confidence = new Int32Array(n);
  const canonical = [new Int32Array(n), new Int32Array(n), new Int32Array(n)];
  const centre = CANONICAL_NORMALIZATION.centerM;
  for (let i = 0; i < n; i++) {
    if (!face[i]) continue;
    depth[i] = clamp(Math.round(m.depth[i] / DEPTH_STEP_M), 0, 65535);
    confidence[i] = clamp(Math.round((m.confidence[i] - 1) * CONFIDENCE_SCALE), 0, 255);
    for (let k = 0; k < 3; k++) canonical[k][i] = clamp(Math.round((m.canonical[k * n + i] - centre[k]) / CANONICAL_STEP_M), -32767, 32767);
  }
  return {
    size: S,
    mask: encodeMask(m.mask, S),
    depth: encodePlanes([depth], face, S),
    canonical: encodePlanes(canonical, face, S),
    confidence: encodePlanes([confidence], face, S),
  };
}

export function decodeMaps(e: EncodedMaps): PlainMaps {
  const S = e.size;
  if (!(Number.isInteger(S) && S >= 1 && S <= 1024)) throw new ProtocolError(`maps.size: expected an integer 1..1024, got ${S}`);
  const n = S * S;
  const mask = decodeMask(e.mask, S);
  const face = new Uint8Array(n);
  for (let i = 0; i < n; i++) face[i] = hasCanonical(mask[i]) ? 1 : 0;
  const [depthQ] = decodePlanes(e.depth, 1, face, S, 'maps.depth', 0, 65535);
  const canonQ = decodePlanes(e.canonical, 3, face, S, 'maps.canonical', -32767, 32767);
  const [confQ] = decodePlanes(e.confidence, 1, face, S, 'maps.confidence', 0, 255);
  const depth = new Float32Array(n), canonical = new Float32Array(3 * n), confidence = new Float32Array(n).fill(1);
  const centre = CANONICAL_NORMALIZATION.centerM;
  for (let i = 0; i < n; i++) {
    if (!face[i]) continue;
    depth[i] = depthQ[i] * DEPTH_STEP_M;
    confidence[i] = 1 + confQ[i] / CONFIDENCE_SCALE;
    for (let k = 0; k < 3; k++) canonical[k * n + i] = canonQ[k][i] * CANONICAL_STEP_M + centre[k];
  }
  return { size: S, depth, canonical, confidence, mask };
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

// ---- mask: a 3-level binary tree per pixel, its probabilities chosen by the left and upper neighbours' ids ----

function encodeMask(mask: Uint8Array, S: number): Uint8Array {
  const enc = new RangeEncoder(), probs = newProbabilities(64 << MASK_BITS);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
    const i = y * S + x, v = mask[i];
    if (v >= 1 << MASK_BITS) throw new RangeError(`mask value ${v} at pixel ${i} is not a part id`);
    const base = maskContext(mask, i, x, y, S) << MASK_BITS;
    let node = 1;
    for (let b = MASK_BITS - 1; b >= 0; b--) {
      const bit = (v >> b) & 1;
      enc.bit(probs, base + node, bit);
      node = (node << 1) | bit;
    }
  }
  return enc.finish();
}

function decodeMask(bytes: Uint8Array, S: number): Uint8Array {
  const dec = new RangeDecoder(bytes, 'maps.mask'), probs = newProbabilities(64 << MASK_BITS), mask = new Uint8Array(S * S);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
    const i = y * S + x, base = maskContext(mask, i, x, y, S) << MASK_BITS;
    let node = 1;
    for (let b = 0; b < MASK_BITS; b++) node = (node << 1) | dec.bit(probs, base + node);
    mask[i] = node - (1 << MASK_BITS);
  }
  dec.end();
  return mask;
}

function maskContext(mask: Uint8Array, i: number, x: number, y: number, S: number): number {
  return ((x > 0 ? mask[i - 1] : 0) << 3) | (y > 0 ? mask[i - S] : 0);
}

// ---- value planes: prediction from face neighbours, residuals by an adaptive binarization ----

/** contexts: how large the left and upper residuals were (bucketed) */
const ACTIVITY_BUCKETS = [0, 1, 1, 2, 2, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6];
const CONTEXTS = 8;
/** magnitudes up to this are coded in unary with adaptive bits; larger ones escape to Exp-Golomb */
const UNARY_LIMIT = 14;
/** an Exp-Golomb prefix longer than this cannot come from a 16-bit plane: the stream is damaged */
const MAX_PREFIX = 20;

class ResidualModel {
  readonly zero = newProbabilities(CONTEXTS);
  readonly sign = newProbabilities(CONTEXTS);
  readonly magnitude = newProbabilities(CONTEXTS * UNARY_LIMIT);
}

function activityContext(err: Int32Array, face: Uint8Array, i: number, x: number, y: number, S: number): number {
  const t = (x > 0 && face[i - 1] ? 2 * err[i - 1] : 0) + (y > 0 && face[i - S] ? 2 * err[i - S] : 0) + (y > 0 && x + 1 < S && face[i - S + 1] ? err[i - S + 1] : 0) + (y > 0 && x > 0 && face[i - S - 1] ? err[i - S - 1] : 0);
  return t < ACTIVITY_BUCKETS.length ? ACTIVITY_BUCKETS[t] : CONTEXTS - 1;
}

/**
 * LOCO-I's median edge detector over the face neighbours that exist; at the start of a face run with none of
 * them, the upper-right one, else the last value coded in the plane.
 */
function predict(q: Int32Array, face: Uint8Array, i: number, x: number, y: number, S: number, last: number): number {
  const hasA = x > 0 && face[i - 1] === 1, hasB = y > 0 && face[i - S] === 1;
  if (hasA && hasB) {
    const a = q[i - 1], b = q[i - S];
    if (!face[i - S - 1]) return (a + b) >> 1;
    const c = q[i - S - 1];
    if (c >= Math.max(a, b)) return Math.min(a, b);
    if (c <= Math.min(a, b)) return Math.max(a, b);
    return a + b - c;
  }
  if (hasA) return q[i - 1];
  if (hasB) return q[i - S];
  if (y > 0 && x + 1 < S && face[i - S + 1]) return q[i - S + 1];
  return last;
}

function encodePlanes(planes: Int32Array[], face: Uint8Array, S: number): Uint8Array {
  const enc = new RangeEncoder(), err = new Int32Array(S * S);
  for (const q of planes) {
    const model = new ResidualModel();
    let last = 0;
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
      const i = y * S + x;
      if (!face[i]) continue;
      const r = q[i] - predict(q, face, i, x, y, S, last);
      const ctx = activityContext(err, face, i, x, y, S);
      encodeResidual(enc, model, ctx, r);
      err[i] = Math.abs(r);
      last = q[i];
    }
  }
  return enc.finish();
}

function decodePlanes(bytes: Uint8Array, count: number, face: Uint8Array, S: number, path: string, lo: number, hi: number): Int32Array[] {
  const dec = new RangeDecoder(bytes, path), err = new Int32Array(S * S), planes: Int32Array[] = [];
  for (let p = 0; p < count; p++) {
    const q = new Int32Array(S * S), model = new ResidualModel();
    let last = 0;
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
      const i = y * S + x;
      if (!face[i]) continue;
      const ctx = activityContext(err, face, i, x, y, S);
      const r = decodeResidual(dec, model, ctx, path);
      const v = predict(q, face, i, x, y, S, last) + r;
      if (v < lo || v > hi) throw new ProtocolError(`${path}: decoded value ${v} is outside ${lo}..${hi} (damaged stream)`);
      q[i] = v;
      err[i] = Math.abs(r);
      last = v;
    }
    planes.push(q);
  }
  dec.end();
  return planes;
}

function encodeResidual(enc: RangeEncoder, m: ResidualModel, ctx: number, r: number): void {
  enc.bit(m.zero, ctx, r === 0 ? 0 : 1);
  if (r === 0) return;
  enc.bit(m.sign, ctx, r < 0 ? 1 : 0);
  const extra = Math.abs(r) - 1;
  const base = ctx * UNARY_LIMIT;
  for (let k = 0; k < UNARY_LIMIT; k++) {
    const more = extra > k ? 1 : 0;
    enc.bit(m.magnitude, base + k, more);
    if (!more) return;
  }
  // Exp-Golomb of order 0 for the rest, at probability one half
  const rest = extra - UNARY_LIMIT + 1;
  const bits = 31 - Math.clz32(rest);
  for (let b = 0; b < bits; b++) enc.bypass(1);
  enc.bypass(0);
  for (let b = bits - 1; b >= 0; b--) enc.bypass((rest >> b) & 1);
}

function decodeResidual(dec: RangeDecoder, m: ResidualModel, ctx: number, path: string): number {
  if (dec.bit(m.zero, ctx) === 0) return 0;
  const negative = dec.bit(m.sign, ctx) === 1;
  const base = ctx * UNARY_LIMIT;
  let extra = 0;
  while (extra < UNARY_LIMIT && dec.bit(m.magnitude, base + extra) === 1) extra++;
  if (extra === UNARY_LIMIT) {
    let bits = 0;
    while (dec.bypass() === 1) {
      if (++bits > MAX_PREFIX) throw new ProtocolError(`${path}: a residual longer than 16 bits (damaged stream)`);
    }
    let rest = 1;
    for (let b = 0; b < bits; b++) rest = (rest << 1) | dec.bypass();
    extra = UNARY_LIMIT - 1 + rest;
  }
  return negative ? -(extra + 1) : extra + 1;
}
