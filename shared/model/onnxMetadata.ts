/**
 * Reads the metadata_props (key/value strings) of an ONNX file without a runtime: a minimal protobuf walk over
 * ModelProto's top-level fields (field 14 = metadata_props, StringStringEntryProto {1: key, 2: value}).
 * Browser-safe. Throws ModelContractError for bytes that are not a protobuf message.
 */
import { ModelContractError } from '../errors.js';

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  varint(): number {
    let result = 0, shift = 0;
    for (;;) {
      if (this.pos >= this.buf.length) throw new ModelContractError('ONNX: truncated varint (not an ONNX file?)');
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return result;
      shift += 7;
      if (shift > 63) throw new ModelContractError('ONNX: bad varint (not an ONNX file?)');
    }
  }
  bytes(): Uint8Array {
    const n = this.varint();
    if (this.pos + n > this.buf.length) throw new ModelContractError('ONNX: field runs past the end of the file (truncated or not ONNX)');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new ModelContractError(`ONNX: unsupported protobuf wire type ${wire} (not an ONNX file?)`);
  }
}

export function readOnnxMetadata(file: Uint8Array): Record<string, string> {
  const r = new Reader(file);
  const out: Record<string, string> = {};
  const text = new TextDecoder();
  let sawGraph = false;
  while (r.pos < file.length) {
    const tag = r.varint();
    const field = Math.floor(tag / 8), wire = tag & 7;
    if (field === 0) throw new ModelContractError('ONNX: field number 0 (not an ONNX file?)');
    if (field === 7 && wire === 2) sawGraph = true;
    if (field === 14 && wire === 2) {
      const entry = new Reader(r.bytes());
      let key = '', value = '';
      while (entry.pos < entry.buf.length) {
        const t = entry.varint();
        if (t >> 3 === 1 && (t & 7) === 2) key = text.decode(entry.bytes());
        else if (t >> 3 === 2 && (t & 7) === 2) value = text.decode(entry.bytes());
        else entry.skip(t & 7);
      }
      out[key] = value;
    } else {
      r.skip(wire);
    }
    if (r.pos > file.length) throw new ModelContractError('ONNX: truncated file');
  }
  if (!sawGraph) throw new ModelContractError('ONNX: no graph in the file (not an ONNX model?)');
  return out;
}
