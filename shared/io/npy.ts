/**
 * NumPy .npy (format 1.0), little-endian, C order: exactly what numpy.load reads. Browser-safe (no I/O):
 * npyHeader/encodeNpy build bytes, parseNpy reads them back with a clear error for anything else.
 */
import { InputError } from '../errors.js';

export type NpyDtype = '<f4' | '<i4' | '|u1' | '<u2' | '<i2';
export type NpyArray = Float32Array | Int32Array | Uint8Array | Uint16Array | Int16Array;

const DTYPE_OF: Record<NpyDtype, { bytes: number; make: (b: ArrayBuffer, n: number) => NpyArray }> = {
  '<f4': { bytes: 4, make: (b, n) => new Float32Array(b, 0, n) },
  '<i4': { bytes: 4, make: (b, n) => new Int32Array(b, 0, n) },
  '|u1': { bytes: 1, make: (b, n) => new Uint8Array(b, 0, n) },
  '<u2': { bytes: 2, make: (b, n) => new Uint16Array(b, 0, n) },
  '<i2': { bytes: 2, make: (b, n) => new Int16Array(b, 0, n) },
};

export function dtypeOf(a: NpyArray): NpyDtype {
  if (a instanceof Float32Array) return '<f4';
  if (a instanceof Int32Array) return '<i4';
  if (a instanceof Uint8Array) return '|u1';
  if (a instanceof Uint16Array) return '<u2';
  return '<i2';
}

/** The header (magic, version, length, dict, padding) for an array of this dtype and shape. */
export function npyHeader(dtype: NpyDtype, shape: readonly number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const total = 10 + dict.length + 1;
  dict += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + dict.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  out[8] = dict.length & 0xff;
  out[9] = dict.length >> 8;
  for (let i = 0; i < dict.length; i++) out[10 + i] = dict.charCodeAt(i);
  return out;
}

export function encodeNpy(data: NpyArray, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new InputError(`encodeNpy: shape [${shape.join(', ')}] holds ${count} values, data has ${data.length}`);
  const header = npyHeader(dtypeOf(data), shape);
  const out = new Uint8Array(header.length + data.byteLength);
  out.set(header);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), header.length);
  return out;
}

export interface ParsedNpy {
  readonly dtype: NpyDtype;
  readonly shape: number[];
  readonly data: NpyArray;
}

export function parseNpy(bytes: Uint8Array, what = 'npy'): ParsedNpy {
  const fail = (m: string): never => {
    throw new InputError(`${what}: ${m}`);
  };
  if (bytes.length < 10 || bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY') fail('not a .npy file (bad magic)');
  if (bytes[6] !== 1) fail(`unsupported .npy version ${bytes[6]}.${bytes[7]} (expected 1.0)`);
  const hlen = bytes[8] | (bytes[9] << 8);
  if (10 + hlen > bytes.length) fail('truncated header');
  const dict = new TextDecoder().decode(bytes.subarray(10, 10 + hlen));
  const descr = /'descr':\s*'([^']+)'/.exec(dict)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(dict)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(dict)?.[1];
  if (!descr || !(descr in DTYPE_OF)) fail(`unsupported dtype ${JSON.stringify(descr)} (expected one of ${Object.keys(DTYPE_OF).join(', ')})`);
  if (fortran !== 'False') fail('Fortran-ordered arrays are not supported');
  if (shapeText === undefined) fail('header has no shape');
  const shape = shapeText!.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (shape.some((n) => !Number.isInteger(n) || n < 0)) fail(`bad shape (${shapeText})`);
  const spec = DTYPE_OF[descr as NpyDtype];
  const count = shape.reduce((a, b) => a * b, 1);
  const start = 10 + hlen;
  if (bytes.length - start !== count * spec.bytes) fail(`expected ${count * spec.bytes} data bytes for shape [${shape.join(', ')}], found ${bytes.length - start}`);
  const copy = new Uint8Array(bytes.subarray(start)).buffer;
  return { dtype: descr as NpyDtype, shape, data: spec.make(copy, count) };
}
