import t from 'tap';
import { splitMessage } from '../../shared/wire/chunks.js';
import { encodeMaps } from '../../shared/wire/mapCodec.js';
import { encodeMessage, type ServerMessage } from '../../shared/wire/schema.js';
import { ResultStream, type DecodedMapsEvent } from './resultStream.js';

const S = 16;
function maps() {
  const n = S * S;
  const depth = new Float32Array(n).fill(0.4), canonical = new Float32Array(3 * n).fill(0.01), confidence = new Float32Array(n).fill(2), mask = new Uint8Array(n).fill(1);
  return { size: S, depth, canonical, confidence, mask };
}
const box = { centerX: 100, centerY: 80, side: 120 };
let nextId = 0;
const chunks = (m: ServerMessage, max = 200) => splitMessage(encodeMessage(m), nextId++, max);

t.test('results-channel messages arrive typed, large ones over several chunks; stats with every stage counter', async (t) => {
  const seen: string[] = [];
  let stats: unknown;
  const stream = new ResultStream({ hello: (m) => seen.push(`hello ${m.sessionId}`), result: (m) => seen.push(`result ${m.frameId}`), stats: (m) => (stats = m.counters) });
  for (const c of chunks({ t: 'hello', v: 1, sessionId: 's1', model: { name: 'm', cropSize: 128, window: 8 }, expressionNames: Array(57).fill('shape'), meshTriangles: new Uint16Array(300) })) stream.pushResults(c);
  for (const c of chunks({ t: 'result', frameId: 7, captureTimeMs: null, face: false, reason: 'notFound' })) stream.pushResults(c);
  for (const c of chunks({ t: 'stats', framesIn: 3, framesProcessed: 2, framesDropped: 1, mapsDropped: 0, counters: { 'slot.replaced': 1 } })) stream.pushResults(c);
  t.same(seen, ['hello s1', 'result 7']);
  t.same(stats, { 'slot.replaced': 1 });
  t.equal(stream.invalid, 0);
});

t.test('maps arrive decoded; a frame whose chunk is lost is skipped, not the next one', async (t) => {
  const got: DecodedMapsEvent[] = [];
  const stream = new ResultStream({ maps: (m) => got.push(m) });
  const first = chunks({ t: 'maps', frameId: 1, box, maps: encodeMaps(maps()) }, 120);
  const second = chunks({ t: 'maps', frameId: 2, box, maps: encodeMaps(maps()) }, 120);
  t.ok(first.length > 1, `${first.length} chunks a frame`);
  for (const c of first.slice(1)) stream.pushMapsChunk(c); // the first chunk lost
  for (const c of second.reverse()) stream.pushMapsChunk(c); // unordered channel
  t.same(got.map((m) => m.frameId), [2]);
  t.ok(Math.abs(got[0].maps.depth[0] - 0.4) < 0.001, 'depth decoded');
});

t.test('a message that does not decode is counted, and the stream goes on', async (t) => {
  const got: number[] = [];
  const stream = new ResultStream({ result: (m) => got.push(m.frameId) });
  for (const c of splitMessage(Uint8Array.of(0xc1, 0xc1, 0xc1), nextId++, 200)) stream.pushResults(c);
  for (const c of chunks({ t: 'maps', frameId: 3, box, maps: encodeMaps(maps()) })) stream.pushResults(c); // maps on the wrong channel
  for (const c of chunks({ t: 'result', frameId: 9, captureTimeMs: 5, face: false, reason: 'lost' })) stream.pushResults(c);
  t.equal(stream.invalid, 2);
  t.same(got, [9]);
});
