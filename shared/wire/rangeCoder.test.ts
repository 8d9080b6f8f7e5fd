import t from 'tap';
import { ProtocolError } from '../errors.js';
import { newProbabilities, RangeDecoder, RangeEncoder } from './rangeCoder.js';

/** deterministic bits: contexts with very different odds, bypass bits between them */
function script(count: number, seed: number): { ctx: number; bit: number; bypass: boolean }[] {
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const odds = [0.001, 0.02, 0.5, 0.97, 0.9999];
  return Array.from({ length: count }, () => {
    const ctx = Math.floor(rand() * odds.length), bypass = rand() < 0.1;
    return { ctx, bypass, bit: rand() < (bypass ? 0.5 : odds[ctx]) ? 1 : 0 };
  });
}

t.test('every bit comes back, including long runs that carry into written bytes', async (t) => {
  for (const seed of [1, 2, 3]) {
    const bits = script(200_000, seed);
    const enc = new RangeEncoder(), probs = newProbabilities(5);
    for (const b of bits) (b.bypass ? enc.bypass(b.bit) : enc.bit(probs, b.ctx, b.bit));
    const bytes = enc.finish();
    const dec = new RangeDecoder(bytes, 'test'), back = newProbabilities(5);
    let wrong = 0;
    for (const b of bits) if ((b.bypass ? dec.bypass() : dec.bit(back, b.ctx)) !== b.bit) wrong++;
    t.equal(wrong, 0, `seed ${seed}: all ${bits.length} bits`);
    t.doesNotThrow(() => dec.end(), 'the whole stream was used');
    // the skewed contexts cost far less than a bit each
    t.ok(bytes.length < bits.length / 8 / 2, `${bytes.length} bytes for ${bits.length} bits`);
  }
});

t.test('an empty stream, and a stream read past its end', async (t) => {
  const bytes = new RangeEncoder().finish();
  t.doesNotThrow(() => new RangeDecoder(bytes, 'empty').end());
  const enc = new RangeEncoder(), probs = newProbabilities(1);
  for (let i = 0; i < 1000; i++) enc.bit(probs, 0, i % 3 === 0 ? 1 : 0);
  const coded = enc.finish();
  const dec = new RangeDecoder(coded.subarray(0, coded.length - 3), 'cut'), back = newProbabilities(1);
  for (let i = 0; i < 1000; i++) dec.bit(back, 0);
  t.throws(() => dec.end(), ProtocolError);
});
