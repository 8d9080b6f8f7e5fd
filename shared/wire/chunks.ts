/**
 * Messages larger than a data channel should carry in one piece (maps: tens of KB) are split into chunks of at
 * most `maxChunkBytes` and put back together on the other side. On an unordered, no-retransmit channel chunks
 * arrive in any order or not at all: a message is complete when all its chunks are in; one that cannot complete
 * (its chunks stopped coming while newer messages arrive) is dropped and counted. Nothing waits without bound.
 *
 * Chunk layout (little endian): magic 0xFA, version 1, index u16, count u16, messageId u32, payload.
 */
const MAGIC = 0xfa;
const VERSION = 1;
export const CHUNK_HEADER_BYTES = 10;
/** The largest message a data channel carries everywhere (browsers and libdatachannel agree on 64 KiB). */
export const MAX_CHANNEL_MESSAGE_BYTES = 65536;

export function splitMessage(message: Uint8Array, messageId: number, maxChunkBytes = 16384): Uint8Array[] {
  if (!(maxChunkBytes > CHUNK_HEADER_BYTES && maxChunkBytes <= MAX_CHANNEL_MESSAGE_BYTES)) {
    throw new RangeError(`maxChunkBytes must be in ${CHUNK_HEADER_BYTES + 1}..${MAX_CHANNEL_MESSAGE_BYTES}, got ${maxChunkBytes}`);
  }
  const room = maxChunkBytes - CHUNK_HEADER_BYTES;
  const count = Math.max(1, Math.ceil(message.length / room));
  if (count > 0xffff) throw new RangeError(`message of ${message.length} bytes needs more than 65535 chunks`);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const payload = message.subarray(i * room, (i + 1) * room);
    const c = new Uint8Array(CHUNK_HEADER_BYTES + payload.length);
    const v = new DataView(c.buffer);
    c[0] = MAGIC;
    c[1] = VERSION;
    v.setUint16(2, i, true);
    v.setUint16(4, count, true);
    v.setUint32(6, messageId >>> 0, true);
    c.set(payload, CHUNK_HEADER_BYTES);
    chunks.push(c);
  }
  return chunks;
}

export interface ReassemblerOptions {
  /** messages being assembled at once; a chunk of a newer message beyond this drops the oldest incomplete one */
  readonly maxPending: number;
  /** a message claiming to be larger than this is refused */
  readonly maxMessageBytes: number;
}

export interface ReassemblerStats {
  completed: number;
  /** incomplete messages given up (a chunk was lost) */
  dropped: number;
  /** chunks that were not chunks (bad magic, version, index) */
  malformed: number;
  /** chunks of a message already completed or given up, or repeated */
  stale: number;
}

interface Pending {
  readonly id: number;
  readonly parts: (Uint8Array | undefined)[];
  received: number;
  bytes: number;
}

export class Reassembler {
  private readonly pending: Pending[] = [];
  /** newest message id completed or dropped: chunks at or below it (and not pending) are stale */
  private floor = -1;
  private readonly counters: ReassemblerStats = { completed: 0, dropped: 0, malformed: 0, stale: 0 };
  private readonly o: ReassemblerOptions;

  constructor(o: Partial<ReassemblerOptions> = {}) {
    this.o = { maxPending: 3, maxMessageBytes: 8 << 20, ...o };
  }

  /** A chunk in; the whole message out when this chunk completed it. Bad chunks are counted, never thrown. */
  push(chunk: Uint8Array): Uint8Array | null {
    const h = parseChunkHeader(chunk);
    if (!h || h.index >= h.count) {
      this.counters.malformed++;
      return null;
    }
    let p = this.pending.find((x) => x.id === h.messageId);
    if (!p) {
      if (h.messageId <= this.floor) {
        this.counters.stale++;
        return null;
      }
      p = { id: h.messageId, parts: new Array(h.count), received: 0, bytes: 0 };
      this.pending.push(p);
      this.pending.sort((a, b) => a.id - b.id);
      while (this.pending.length > this.o.maxPending) this.giveUp(this.pending[0]);
      if (!this.pending.includes(p)) return null;
    }
    if (p.parts.length !== h.count) {
      this.counters.malformed++;
      return null;
    }
    if (p.parts[h.index]) {
      this.counters.stale++;
      return null;
    }
    const payload = chunk.subarray(CHUNK_HEADER_BYTES);
    p.bytes += payload.length;
    if (p.bytes > this.o.maxMessageBytes) {
      this.counters.malformed++;
      this.giveUp(p);
      return null;
    }
    p.parts[h.index] = payload;
    p.received++;
    if (p.received < h.count) return null;
    const out = new Uint8Array(p.bytes);
    let at = 0;
    for (const part of p.parts) {
      out.set(part!, at);
      at += part!.length;
    }
    this.remove(p);
    this.counters.completed++;
    // older incomplete messages can no longer be shown (the client wants the newest): give them up now
    for (const q of [...this.pending]) if (q.id < p.id) this.giveUp(q);
    this.floor = Math.max(this.floor, p.id);
    return out;
  }

  stats(): Readonly<ReassemblerStats> {
    return { ...this.counters };
  }

  private giveUp(p: Pending): void {
    this.remove(p);
    this.counters.dropped++;
    this.floor = Math.max(this.floor, p.id);
  }

  private remove(p: Pending): void {
    const i = this.pending.indexOf(p);
    if (i >= 0) this.pending.splice(i, 1);
  }
}

function parseChunkHeader(c: Uint8Array): { index: number; count: number; messageId: number } | null {
  if (!(c instanceof Uint8Array) || c.length < CHUNK_HEADER_BYTES || c[0] !== MAGIC || c[1] !== VERSION) return null;
  const v = new DataView(c.buffer, c.byteOffset, c.byteLength);
  const count = v.getUint16(4, true);
  if (count === 0) return null;
  return { index: v.getUint16(2, true), count, messageId: v.getUint32(6, true) };
}
