import t from 'tap';
import { CHUNK_HEADER_BYTES, Reassembler, splitMessage } from './chunks.js';

const message = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

t.test('splitMessage() chunks are within the limit and Reassembler.push() puts them back in any order', async (t) => {
  const m = message(100_000, 1);
  const chunks = splitMessage(m, 7, 16384);
  t.equal(chunks.length, Math.ceil(100_000 / (16384 - CHUNK_HEADER_BYTES)));
  t.ok(chunks.every((c) => c.length <= 16384));
  const r = new Reassembler();
  const shuffled = [chunks[3], chunks[0], chunks[6], chunks[1], chunks[5], chunks[2], chunks[4]];
  const outs = shuffled.map((c) => r.push(c));
  t.same(outs.slice(0, -1), new Array(6).fill(null), 'nothing before the last chunk');
  t.same(outs[6], m, 'the message, byte for byte');
  t.same(r.stats(), { completed: 1, dropped: 0, malformed: 0, stale: 0 });
});

t.test('Reassembler with a lost chunk drops that message only; the next one completes', async (t) => {
  const r = new Reassembler();
  const a = splitMessage(message(40_000, 2), 1, 16384), b = splitMessage(message(40_000, 3), 2, 16384);
  r.push(a[0]);
  r.push(a[2]); // a[1] is lost
  let done: Uint8Array | null = null;
  for (const c of b) done = r.push(c) ?? done;
  t.same(done, message(40_000, 3));
  t.equal(r.push(a[1]), null, 'a late chunk of the dropped message is ignored');
  t.same(r.stats(), { completed: 1, dropped: 1, malformed: 0, stale: 1 });
});

t.test('Reassembler keeps at most maxPending messages in flight', async (t) => {
  const r = new Reassembler({ maxPending: 2 });
  for (let id = 1; id <= 5; id++) r.push(splitMessage(message(30_000, id), id, 16384)[0]);
  t.equal(r.stats().dropped, 3, 'the oldest incomplete ones are given up');
});

t.test('Reassembler.push() counts chunks that are not chunks instead of throwing', async (t) => {
  const r = new Reassembler({ maxMessageBytes: 20_000 });
  const good = splitMessage(message(30_000, 9), 3, 16384);
  const badIndex = good[0].slice();
  badIndex[2] = 9; // index 9 of 2
  for (const c of [new Uint8Array(0), new Uint8Array([1, 2, 3]), Uint8Array.from([0xfa, 2, 0, 0, 1, 0, 1, 0, 0, 0]), badIndex]) t.equal(r.push(c), null);
  t.equal(r.stats().malformed, 4);
  r.push(good[0]);
  t.equal(r.push(good[1]), null, 'larger than maxMessageBytes');
  t.equal(r.stats().malformed, 5);
  t.throws(() => splitMessage(message(10, 0), 1, 70_000), RangeError);
});
