import t from 'tap';
import { ProtocolError } from '../errors.js';
import { CANONICAL_STEP_M, decodeMaps, DEPTH_STEP_M, encodeMaps, type PlainMaps } from './mapCodec.js';
import { renderScene, groundTruthCanonical } from '../../synth/testScenes.js';

function sceneMaps(size: number): PlainMaps {
  const s = renderScene({ size, yawDeg: 20, identity: 4, seed: 'codec' });
  const n = size * size;
  return {
    size,
    depth: s.frame.depth,
    canonical: groundTruthCanonical(s.frame).chw,
    confidence: Float32Array.from({ length: n }, (_, i) => 1 + (i % 97) / 10),
    mask: s.frame.mask,
  };
}

t.test('decodeMaps(encodeMaps()) is within the stated steps and the mask is exact', async (t) => {
  const m = sceneMaps(128);
  const e = encodeMaps(m);
  const d = decodeMaps(e);
  const n = 128 * 128;
  let depthErr = 0, canonErr = 0, confErr = 0, face = 0, maskDiff = 0, offFace = 0;
  for (let i = 0; i < n; i++) {
    if (d.mask[i] !== m.mask[i]) maskDiff++;
    if (d.mask[i] < 1 || d.mask[i] > 5) {
      if (d.depth[i] !== 0 || d.confidence[i] !== 1) offFace++;
      continue;
    }
    face++;
    confErr = Math.max(confErr, Math.abs(d.confidence[i] - Math.min(m.confidence[i], 1 + 255 / 4)));
    depthErr = Math.max(depthErr, Math.abs(d.depth[i] - m.depth[i]));
    for (let k = 0; k < 3; k++) canonErr = Math.max(canonErr, Math.abs(d.canonical[k * n + i] - m.canonical[k * n + i]));
  }
  t.equal(maskDiff, 0, 'mask exact');
  t.equal(offFace, 0, 'off the face: depth 0 and confidence 1');
  t.ok(face > 3000, `${face} face pixels`);
  t.ok(depthErr <= DEPTH_STEP_M / 2 + 1e-7, `depth error ≤ ${depthErr * 1000} mm`);
  t.ok(canonErr <= CANONICAL_STEP_M / 2 + 1e-7, `canonical error ≤ ${canonErr * 1000} mm`);
  t.ok(confErr <= 1 / 8 + 1e-6, `confidence error ≤ ${confErr}`);
  const bytes = e.depth.length + e.canonical.length + e.confidence.length + e.mask.length;
  const raw = n * (4 + 12 + 4 + 1);
  // the deflate coder this replaced reached 40x on this scene
  t.ok(bytes < raw / 60, `${bytes} bytes for ${raw} raw (${(raw / bytes).toFixed(1)}x)`);
});

t.test('maps round-trip at every size down to one pixel, with or without face pixels, and with steep residuals', async (t) => {
  for (const size of [1, 2, 3, 17]) {
    const n = size * size;
    const m: PlainMaps = {
      size,
      // steep, alternating values exercise the long-residual escape; clamped to the wire's ranges
      depth: Float32Array.from({ length: n }, (_, i) => (i % 2 ? 60 : 0.3 + i * 0.01)),
      canonical: Float32Array.from({ length: 3 * n }, (_, i) => (i % 3 === 0 ? -0.09 : 0.12) * (i % 2 ? 1 : -1)),
      confidence: Float32Array.from({ length: n }, (_, i) => 1 + (i * 7) % 70),
      mask: Uint8Array.from({ length: n }, (_, i) => (i * 5) % 8),
    };
    const d = decodeMaps(encodeMaps(m));
    t.same(Array.from(d.mask), Array.from(m.mask), `${size}: mask`);
    const again = decodeMaps(encodeMaps(d));
    t.same(Array.from(again.depth), Array.from(d.depth), `${size}: decoded values code to themselves (depth)`);
    t.same(Array.from(again.canonical), Array.from(d.canonical), `${size}: canonical`);
    t.same(Array.from(again.confidence), Array.from(d.confidence), `${size}: confidence`);
  }
  const empty = decodeMaps(encodeMaps({ size: 8, depth: new Float32Array(64), canonical: new Float32Array(192), confidence: new Float32Array(64).fill(2), mask: new Uint8Array(64) }));
  t.ok(empty.mask.every((v) => v === 0) && empty.depth.every((v) => v === 0), 'a map without a face decodes to background');
});

t.test('decodeMaps() with damaged or mis-sized planes throws ProtocolError', async (t) => {
  const e = encodeMaps(sceneMaps(64));
  t.throws(() => decodeMaps({ ...e, depth: e.depth.subarray(0, 10) }), ProtocolError, 'truncated');
  t.throws(() => decodeMaps({ ...e, canonical: Uint8Array.of(...e.canonical, 0) }), ProtocolError, 'padded');
  t.throws(() => decodeMaps({ ...e, mask: new Uint8Array([1, 2, 3]) }), ProtocolError);
  t.throws(() => decodeMaps({ ...e, depth: new Uint8Array(0) }), ProtocolError, 'empty');
  // flipped bytes: caught by the range checks or by the byte count (a coded stream has no other redundancy)
  let caught = 0;
  for (let k = 0; k < 20; k++) {
    const bad = e.canonical.slice();
    bad[(k * 37) % bad.length] ^= 0x5a;
    try {
      decodeMaps({ ...e, canonical: bad });
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      caught++;
    }
  }
  t.ok(caught >= 10, `${caught} of 20 damaged streams reported`);
  t.throws(() => decodeMaps({ ...e, size: 65 }), ProtocolError);
  t.throws(() => decodeMaps({ ...e, size: -1 }), /maps.size: expected an integer/);
});
