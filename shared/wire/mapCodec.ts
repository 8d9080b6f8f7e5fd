/**
 * Per-pixel maps on the wire: quantized with a stated error bound, then predicted and deflated (lossless).
 *
 *   depth       metres → steps of DEPTH_STEP_M (error ≤ half a step), 0 where the mask has no canonical
 *   canonical   metres → steps of CANONICAL_STEP_M per channel around the canonical centre, 0 off the face
 *   confidence  ≥ 1 → (c − 1) × 4 as a byte (error ≤ 1/8, capped at 64.75)
 *   mask        part ids as bytes
 *
 * Each 16-bit plane is predicted from its left, upper and upper-left neighbours (a plane through them; the edges
 * from the one neighbour they have), zig-zag mapped and split
 * into high and low byte planes before deflate: smooth face maps become runs of small numbers. The steps are far
 * below the model's own error (millimetres to centimetres), so nothing a client can see is lost.
 * Browser-safe: pure TypeScript plus fflate.
 */
import { deflateSync, inflateSync } from 'fflate';
import { CANONICAL_NORMALIZATION } from '../canonical.js';
import { ProtocolError } from '../errors.js';
import { hasCanonical } from '../parts.js';

export const DEPTH_STEP_M = 0.001;
export const CANONICAL_STEP_M = 0.002;
const CONFIDENCE_SCALE = 4;
/** canonical steps are stored with this offset so that the whole normalization cube fits in 16 bits */
const CANONICAL_OFFSET = 32768;

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

export interface EncodedMaps {
  readonly size: number;
  readonly depth: Uint8Array;
  readonly canonical: Uint8Array;
  readonly confidence: Uint8Array;
  readonly mask: Uint8Array;
}

/** Deflate level: 1 is within a few per cent of 6 on these planes at a fraction of the time (bench/wire). */
const LEVEL = 1;

export function encodeMaps(m: PlainMaps): EncodedMaps {
  const S = m.size, n = S * S;
  const depth = new Uint16Array(n), canonical = new Uint16Array(3 * n), confidence = new Uint8Array(n);
  const [c0, c1, c2] = CANONICAL_NORMALIZATION.centerM;
  const centre = [c0, c1, c2];
  for (let i = 0; i < n; i++) {
    confidence[i] = Math.min(255, Math.max(0, Math.round((m.confidence[i] - 1) * CONFIDENCE_SCALE)));
    if (!hasCanonical(m.mask[i])) continue;
    depth[i] = Math.min(65535, Math.max(0, Math.round(m.depth[i] / DEPTH_STEP_M)));
    for (let k = 0; k < 3; k++) {
      const q = Math.round((m.canonical[k * n + i] - centre[k]) / CANONICAL_STEP_M) + CANONICAL_OFFSET;
      canonical[k * n + i] = Math.min(65535, Math.max(0, q));
    }
  }
  return {
    size: S,
    depth: deflateSync(planes16(depth, S, 1), { level: LEVEL }),
    canonical: deflateSync(planes16(canonical, S, 3), { level: LEVEL }),
    confidence: deflateSync(confidence, { level: LEVEL }),
    mask: deflateSync(m.mask, { level: LEVEL }),
  };
}

export function decodeMaps(e: EncodedMaps): PlainMaps {
  const S = e.size;
  if (!(Number.isInteger(S) && S >= 1 && S <= 1024)) throw new ProtocolError(`maps.size: expected an integer 1..1024, got ${S}`);
  const n = S * S;
  const depthQ = unplanes16(inflate(e.depth, 2 * n, 'maps.depth'), S, 1);
  const canonQ = unplanes16(inflate(e.canonical, 6 * n, 'maps.canonical'), S, 3);
  const confQ = inflate(e.confidence, n, 'maps.confidence');
  const mask = inflate(e.mask, n, 'maps.mask');
  const depth = new Float32Array(n), canonical = new Float32Array(3 * n), confidence = new Float32Array(n);
  const centre = CANONICAL_NORMALIZATION.centerM;
  for (let i = 0; i < n; i++) {
    confidence[i] = 1 + confQ[i] / CONFIDENCE_SCALE;
    if (!hasCanonical(mask[i])) continue;
    depth[i] = depthQ[i] * DEPTH_STEP_M;
    for (let k = 0; k < 3; k++) canonical[k * n + i] = (canonQ[k * n + i] - CANONICAL_OFFSET) * CANONICAL_STEP_M + centre[k];
  }
  return { size: S, depth, canonical, confidence, mask };
}

function inflate(bytes: Uint8Array, expected: number, path: string): Uint8Array {
  let out: Uint8Array;
  try {
    out = inflateSync(bytes, { out: new Uint8Array(expected) });
  } catch (e) {
    throw new ProtocolError(`${path}: not a deflate stream (${(e as Error).message})`);
  }
  if (out.length !== expected) throw new ProtocolError(`${path}: expected ${expected} bytes, got ${out.length}`);
  return out;
}

/** Planar prediction, zig-zag, then all high bytes followed by all low bytes. */
function planes16(values: Uint16Array, S: number, channels: number): Uint8Array {
  const n = values.length, out = new Uint8Array(2 * n);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const i = c * S * S + y * S + x;
        const pred = predict(values, i, x, y, S);
        const d = ((values[i] - pred) << 16) >> 16;          // the difference mod 2^16, as a signed 16-bit value
        const z = ((d << 1) ^ (d >> 31)) & 0xffff;           // zig-zag: small magnitudes → small numbers
        out[i] = z >> 8;
        out[n + i] = z & 0xff;
      }
    }
  }
  return out;
}

function unplanes16(bytes: Uint8Array, S: number, channels: number): Uint16Array {
  const n = bytes.length / 2, out = new Uint16Array(n);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const i = c * S * S + y * S + x;
        const z = (bytes[i] << 8) | bytes[n + i];
        const d = (z >>> 1) ^ -(z & 1);
        const pred = predict(out, i, x, y, S);
        out[i] = (pred + d) & 0xffff;
      }
    }
  }
  return out;
}

/** left + up − up-left (exact on planes, so on smooth surfaces the residual is small), clamped to 16 bits */
function predict(v: Uint16Array, i: number, x: number, y: number, S: number): number {
  if (x > 0 && y > 0) {
    const p = v[i - 1] + v[i - S] - v[i - S - 1];
    return p < 0 ? 0 : p > 65535 ? 65535 : p;
  }
  return x > 0 ? v[i - 1] : y > 0 ? v[i - S] : 0;
}
