import t from 'tap';
import { ProtocolError } from '../errors.js';
import { CANONICAL_STEP_M, decodeMaps, DEPTH_STEP_M, encodeMaps, type PlainMaps } from './mapCodec.js';
import { renderScene, groundTruthCanonical } from '../../server/synth/testScenes.js';

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
  let depthErr = 0, canonErr = 0, confErr = 0, face = 0, maskDiff = 0;
  for (let i = 0; i < n; i++) {
    if (d.mask[i] !== m.mask[i]) maskDiff++;
    confErr = Math.max(confErr, Math.abs(d.confidence[i] - Math.min(m.confidence[i], 1 + 255 / 4)));
    if (m.depth[i] === 0 || d.mask[i] < 1 || d.mask[i] > 5) continue;
    face++;
    depthErr = Math.max(depthErr, Math.abs(d.depth[i] - m.depth[i]));
    for (let k = 0; k < 3; k++) canonErr = Math.max(canonErr, Math.abs(d.canonical[k * n + i] - m.canonical[k * n + i]));
  }
  t.equal(maskDiff, 0, 'mask exact');
  t.ok(face > 3000, `${face} face pixels`);
  t.ok(depthErr <= DEPTH_STEP_M / 2 + 1e-7, `depth error ≤ ${depthErr * 1000} mm`);
  t.ok(canonErr <= CANONICAL_STEP_M / 2 + 1e-7, `canonical error ≤ ${canonErr * 1000} mm`);
  t.ok(confErr <= 1 / 8 + 1e-6, `confidence error ≤ ${confErr}`);
  const bytes = e.depth.length + e.canonical.length + e.confidence.length + e.mask.length;
  const raw = n * (4 + 12 + 4 + 1);
  t.ok(bytes < raw / 8, `${bytes} bytes for ${raw} raw (${(raw / bytes).toFixed(1)}x)`);
});

t.test('decodeMaps() with damaged or mis-sized planes throws ProtocolError', async (t) => {
  const e = encodeMaps(sceneMaps(64));
  t.throws(() => decodeMaps({ ...e, depth: e.depth.subarray(0, 10) }), ProtocolError);
  t.throws(() => decodeMaps({ ...e, mask: new Uint8Array([1, 2, 3]) }), ProtocolError);
  t.throws(() => decodeMaps({ ...e, size: 65 }), ProtocolError);
  t.throws(() => decodeMaps({ ...e, size: -1 }), /maps.size: expected an integer/);
});
