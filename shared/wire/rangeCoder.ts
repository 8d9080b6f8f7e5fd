/**
 * A binary adaptive range coder (the carry-propagating kind of LZMA's coder, written for this project): each bit is
 * coded with a probability that adapts to the bits seen in its context, so a map's smooth regions cost a fraction
 * of a bit per value. Used by mapCodec.ts; browser-safe, plain numbers (no BigInt).
 *
 * Probabilities are 12-bit (of a 0 bit) in Uint16Arrays owned by the caller, one slot per context; both sides must
 * make the same calls in the same order. The decoder checks at the end that it read exactly the bytes the encoder
 * wrote, so a truncated or padded stream is an error rather than silently wrong values.
 */
import { ProtocolError } from '../errors.js';

const PROB_BITS = 12;
const PROB_ONE = 1 << PROB_BITS;
/** adaptation speed: small planes (a few thousand values) want a fast one */
const ADAPT_SHIFT = 4;
const TOP = 2 ** 24;
const TWO_32 = 2 ** 32;

/** The probability of a 0 after seeing `bit`: a step of 2^-ADAPT_SHIFT of the way towards it. */
function adapt(p: number, bit: number): number {
  return bit === 0 ? p + ((PROB_ONE - p) >> ADAPT_SHIFT) : p - (p >> ADAPT_SHIFT);
}

/** A fresh table of `n` contexts, each at probability one half. */
export function newProbabilities(n: number): Uint16Array {
  return new Uint16Array(n).fill(PROB_ONE >> 1);
}

export class RangeEncoder {
  private low = 0;
  private range = 0xffffffff;
  private cache = 0;
  private cacheSize = 1;
  private bytes = new Uint8Array(1024);
  private length = 0;
  /** the first byte out is always the initial cache (0) and is not written */
  private skipFirst = true;

  bit(probs: Uint16Array, ctx: number, bit: number): void {
    const p = probs[ctx];
    this.split((this.range >>> PROB_BITS) * p, bit);
    probs[ctx] = adapt(p, bit);
  }

  /** A bit at probability one half, no context. */
  bypass(bit: number): void {
    this.split(this.range >>> 1, bit);
  }

  finish(): Uint8Array {
    for (let i = 0; i < 5; i++) this.shiftLow();
    return this.bytes.slice(0, this.length);
  }

  /** The range splits at `bound`: a 0 takes the part below it, a 1 the rest. */
  private split(bound: number, bit: number): void {
    if (bit === 0) this.range = bound;
    else {
      this.low += bound;
      this.range -= bound;
    }
    while (this.range < TOP) {
      this.range *= 256;
      this.shiftLow();
    }
  }

  private shiftLow(): void {
    const carry = this.low >= TWO_32 ? 1 : 0;
    const low32 = this.low - carry * TWO_32;
    if (low32 < 0xff000000 || carry) {
      let out = this.cache;
      do {
        this.push((out + carry) & 0xff);
        out = 0xff;
      } while (--this.cacheSize !== 0);
      this.cache = low32 >>> 24;
    }
    this.cacheSize++;
    this.low = (low32 & 0xffffff) * 256;
  }

  private push(b: number): void {
    if (this.skipFirst) {
      this.skipFirst = false;
      return;
    }
    if (this.length === this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes[this.length++] = b;
  }
}

export class RangeDecoder {
  private range = 0xffffffff;
  private code = 0;
  private pos = 0;

  constructor(private readonly bytes: Uint8Array, private readonly path: string) {
    for (let i = 0; i < 4; i++) this.code = this.code * 256 + this.next();
  }

  bit(probs: Uint16Array, ctx: number): number {
    const p = probs[ctx];
    const bit = this.decide((this.range >>> PROB_BITS) * p);
    probs[ctx] = adapt(p, bit);
    return bit;
  }

  bypass(): number {
    return this.decide(this.range >>> 1);
  }

  /** Throws unless the stream was used up exactly (the encoder's flush makes the byte counts equal). */
  end(): void {
    if (this.pos !== this.bytes.length) {
      throw new ProtocolError(`${this.path}: the coded stream is ${this.bytes.length} bytes but its values used ${this.pos} (damaged or truncated)`);
    }
  }

  /** The encoder's split at `bound`, read back: which side the code lies on. */
  private decide(bound: number): number {
    let bit = 0;
    if (this.code < bound) this.range = bound;
    else {
      this.code -= bound;
      this.range -= bound;
      bit = 1;
    }
    while (this.range < TOP) {
      this.range *= 256;
      this.code = this.code * 256 + this.next();
    }
    return bit;
  }

  private next(): number {
    // past the end: keep going with zeros, end() reports it (a throw here would leave the caller half-way)
    return this.pos < this.bytes.length ? this.bytes[this.pos++] : (this.pos++, 0);
  }
}
