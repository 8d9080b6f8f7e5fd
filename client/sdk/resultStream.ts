/**
 * What a client does with the two data channels' bytes: decode and check each message (shared/wire), put the
 * maps' chunks back together, and hand out typed events. Browser-safe; the Node client and the page use it.
 */
import { ProtocolError } from '../../shared/errors.js';
import { Reassembler, type ReassemblerStats } from '../../shared/wire/chunks.js';
import { decodeMaps, type PlainMaps } from '../../shared/wire/mapCodec.js';
import { decodeServerMessage, type HelloMessage, type ResultMessage, type ServerMessage, type StatsMessage } from '../../shared/wire/schema.js';

export interface DecodedMapsEvent {
  readonly frameId: number;
  readonly box: { readonly centerX: number; readonly centerY: number; readonly side: number };
  readonly maps: PlainMaps;
}

export interface ResultStreamHandlers {
  hello?(m: HelloMessage): void;
  result?(m: ResultMessage): void;
  maps?(m: DecodedMapsEvent): void;
  stats?(m: StatsMessage): void;
}

export class ResultStream {
  private readonly reassembler = new Reassembler();
  private readonly resultsReassembler = new Reassembler();
  /** messages that failed to decode (counted, not thrown: a bad message must not stop the stream) */
  invalid = 0;
  bytesIn = 0;

  constructor(private readonly on: ResultStreamHandlers) {}

  /** A chunk from the reliable "results" channel (in order; large messages such as the hello span several). */
  pushResults(bytes: Uint8Array): void {
    this.take(this.resultsReassembler, bytes, (m) => {
      if (m.t === 'hello') this.on.hello?.(m);
      else if (m.t === 'result') this.on.result?.(m);
      else if (m.t === 'stats') this.on.stats?.(m);
      else throw new ProtocolError(`results channel: unexpected ${m.t}`);
    });
  }

  /** A chunk from the unordered "maps" channel. */
  pushMapsChunk(bytes: Uint8Array): void {
    this.take(this.reassembler, bytes, (m) => {
      if (m.t !== 'maps') throw new ProtocolError(`maps channel: expected maps, got ${m.t}`);
      this.on.maps?.({ frameId: m.frameId, box: m.box, maps: decodeMaps(m.maps) });
    });
  }

  /** One chunk in; a completed message decoded and handed on; a bad one counted. */
  private take(reassembler: Reassembler, bytes: Uint8Array, handle: (m: ServerMessage) => void): void {
    this.bytesIn += bytes.length;
    const whole = reassembler.push(bytes);
    if (!whole) return;
    try {
      handle(decodeServerMessage(whole));
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      this.invalid++;
    }
  }

  chunkStats(): Readonly<ReassemblerStats> {
    return this.reassembler.stats();
  }
}
