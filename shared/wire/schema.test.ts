import t from 'tap';
import { Packr } from 'msgpackr';
import { ProtocolError } from '../errors.js';
import { Reassembler, splitMessage } from './chunks.js';
import { decodeMaps, encodeMaps } from './mapCodec.js';
import { decodeClientMessage, decodeServerMessage, encodeMessage, type ServerMessage } from './schema.js';

const face: ServerMessage = {
  t: 'result', frameId: 42, captureTimeMs: 1234.5, face: true, box: { centerX: 320, centerY: 240, side: 300 }, frameWidth: 640, frameHeight: 480, intrinsics: Float32Array.of(554, 554, 319.5, 239.5),
  landmarks: Float32Array.from({ length: 204 }, (_, i) => (i % 3 === 2 ? 1 : 1.5)), pointIds: Uint32Array.from([3, 4]), points: Float32Array.from([1, 2, 2, 3, 4, 0]),
  pose: { rotation: Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]), translationM: Float32Array.from([0, 0, 0.5]) },
  blendshapes: new Float32Array(57).fill(0.25), mesh: null, timings: { model: 6.5, total: 15 },
};

t.test('decodeServerMessage(encodeMessage()) round-trips every server message', async (t) => {
  const messages: ServerMessage[] = [
    { t: 'hello', v: 1, sessionId: 's1', model: { name: 'facestream-small', cropSize: 128, window: 8 }, expressionNames: ['jawOpen'], meshTriangles: Uint16Array.of(0, 1, 2) },
    face,
    { t: 'result', frameId: 43, captureTimeMs: null, face: false, reason: 'notFound' },
    { t: 'stats', framesIn: 10, framesProcessed: 9, framesDropped: 1, mapsDropped: 0, counters: { 'ingest.packets': 31, 'slot.replaced': 1 } },
  ];
  for (const m of messages) t.same(decodeServerMessage(encodeMessage(m)), m, m.t);
  t.same(decodeClientMessage(encodeMessage({ t: 'options', mapsEvery: 1, meshEvery: 5, mapsStride: 2, fovDeg: 62.5 })), { t: 'options', mapsEvery: 1, meshEvery: 5, mapsStride: 2, fovDeg: 62.5 });
});

t.test('landmarks and points travel in 1/16 px, NaN kept, visibility exact', async (t) => {
  if (face.t !== 'result' || !face.face) throw new Error('fixture');
  const landmarks = Float32Array.from({ length: 204 }, (_, i) => (i % 3 === 2 ? i % 2 : i === 3 || i === 4 ? NaN : (i * 37.123) % 1900 - 100));
  const points = Float32Array.of(-12.34, 1079.99, 2, 640.03, 0.01, 0);
  const m = decodeServerMessage(encodeMessage({ ...face, landmarks, points }));
  if (m.t !== 'result' || !m.face) return t.fail('a face result');
  let worst = 0;
  for (const [a, b] of [[landmarks, m.landmarks], [points, m.points]]) {
    for (let i = 0; i < a.length; i++) {
      if (i % 3 === 2) t.equal(b[i], a[i]);
      else if (Number.isNaN(a[i])) t.ok(Number.isNaN(b[i]), 'NaN stays NaN');
      else worst = Math.max(worst, Math.abs(a[i] - b[i]));
    }
  }
  t.ok(worst <= 1 / 32 + 1e-4, `worst position error ${worst} px`);
  const asFloats = new Packr({ useRecords: false, moreTypes: true }).pack({ ...face, landmarks, points }).length;
  t.equal(asFloats - encodeMessage({ ...face, landmarks, points }).length, (204 + 6) * 2, 'two bytes less per value than float32');
});

t.test('maps travel coded, chunked and reassembled, and decode to the same maps', async (t) => {
  const S = 64, n = S * S;
  const mask = Uint8Array.from({ length: n }, (_, i) => (i % S > 10 && i % S < 50 ? 1 : 0));
  const depth = Float32Array.from({ length: n }, (_, i) => 0.5 + (i % S) * 0.001);
  const canonical = Float32Array.from({ length: 3 * n }, (_, i) => ((i % 97) - 48) * 0.001);
  const plain = { size: S, depth, canonical, confidence: new Float32Array(n).fill(2), mask };
  const bytes = encodeMessage({ t: 'maps', frameId: 5, box: { centerX: 1, centerY: 2, side: 3, angle: -0.4 }, maps: encodeMaps(plain) });
  const r = new Reassembler();
  let whole: Uint8Array | null = null;
  for (const c of splitMessage(bytes, 5, 1024).reverse()) whole = r.push(c) ?? whole;
  const m = decodeServerMessage(whole!);
  t.equal(m.t, 'maps');
  if (m.t !== 'maps') return;
  t.same(m.box, { centerX: 1, centerY: 2, side: 3, angle: -0.4 }, 'a turned crop keeps its angle');
  const back = decodeMaps(m.maps);
  t.same(back.mask, mask);
  t.ok(Math.abs(back.depth[20] - depth[20]) <= 0.0005);
});

t.test('decode*Message() with bad bytes throws ProtocolError naming the field', async (t) => {
  const p = new Packr({ useRecords: false, moreTypes: true });
  // a face result as it is on the wire (positions in int16)
  const wire = { ...face, landmarks: new Int16Array(204), points: Int16Array.of(16, 32, 2, 48, 64, 0) };
  t.doesNotThrow(() => decodeServerMessage(p.pack(wire)), 'the wire form itself decodes');
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array([0x92]), /not a msgpack message/],
    [new Uint8Array([0xc1]), /expected a map/],
    [p.pack([1, 2]), /expected a map, got an array/],
    [p.pack({ t: 'nope' }), /message.t: expected hello, result, stats or maps, got "nope"/],
    [p.pack({ ...wire, frameId: -1 }), /result.frameId: expected an integer/],
    [p.pack({ ...wire, landmarks: new Int16Array(5) }), /result.landmarks: expected Int16Array of 204/],
    [p.pack({ ...wire, landmarks: new Float32Array(204) }), /result.landmarks: expected Int16Array/],
    [p.pack({ ...wire, intrinsics: new Float32Array(3) }), /result.intrinsics: expected Float32Array of 4/],
    [p.pack({ ...wire, points: new Int16Array(5) }), /result.points: expected 6 values for 2 ids/],
    [p.pack({ ...wire, box: { centerX: 1, centerY: 2, side: -3 } }), /result.box.side: expected a positive number/],
    [p.pack({ ...wire, box: { centerX: 1, centerY: 2, side: 3, angle: 'up' } }), /result.box.angle: expected a finite number/],
    [p.pack({ ...wire, box: { centerX: 1, centerY: 2, side: 3, angle: 9 } }), /result.box.angle: expected radians within ±2π/],
    [p.pack({ ...wire, pose: { rotation: [1, 2], translationM: new Float32Array(3) } }), /result.pose.rotation: expected Float32Array/],
  ];
  for (const [bytes, message] of cases) t.throws(() => decodeServerMessage(bytes), message);
  t.throws(() => decodeClientMessage(p.pack({ t: 'options', mapsEvery: 1.5, meshEvery: 0, mapsStride: 1, fovDeg: 60 })), ProtocolError);
  t.throws(() => decodeClientMessage(p.pack({ t: 'options', mapsEvery: 1, meshEvery: 0, mapsStride: 8, fovDeg: 60 })), /options.mapsStride: expected an integer 1..4/);
  t.throws(() => decodeClientMessage(p.pack({ t: 'options', mapsEvery: 1, meshEvery: 0, mapsStride: 1, fovDeg: 170 })), /options.fovDeg: expected a number 20..120/);
  t.throws(() => decodeClientMessage(p.pack({ t: 'result' })), /client message.t: expected options/);
  // a value whose String() throws must still come out as a ProtocolError (a TypeError once took the server down)
  t.throws(() => decodeClientMessage(p.pack({ t: { toString: 1 } })), ProtocolError);
  t.throws(() => decodeServerMessage(p.pack({ t: { toString: 1 } })), ProtocolError);
});
