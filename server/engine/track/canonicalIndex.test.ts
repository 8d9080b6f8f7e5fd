import t from 'tap';
import { loadHeadAssets } from '../../../synth/headAssets.js';
import { Rng } from '../../../synth/random.js';
import { groundTruthCanonical, renderScene } from '../../../synth/testScenes.js';
import { CanonicalIndex } from './canonicalIndex.js';

/** A rendered frame's ground-truth canonical map, channels first, and its validity. */
function groundTruthMap(yawDeg: number) {
  const s = renderScene({ size: 128, identity: 9, yawDeg });
  const f = s.frame, n = 128 * 128;
  const { chw, valid } = groundTruthCanonical(f);
  return { chw, valid, frame: f };
}

t.test('CanonicalIndex.nearest() finds the same pixel distance as a brute-force scan', async (t) => {
  const { chw, valid } = groundTruthMap(25);
  const index = CanonicalIndex.build(chw, 128, valid);
  const n = 128 * 128, rng = new Rng('nn');
  let mismatches = 0;
  for (let q = 0; q < 300; q++) {
    const c = [rng.uniform(-0.09, 0.09), rng.uniform(-0.1, 0.1), rng.uniform(0.0, 0.13)];
    let bd = Infinity;
    for (let i = 0; i < n; i++) if (valid[i]) bd = Math.min(bd, (chw[i] - c[0]) ** 2 + (chw[n + i] - c[1]) ** 2 + (chw[2 * n + i] - c[2]) ** 2);
    const hit = index.nearest(c[0], c[1], c[2])!;
    if (Math.abs(hit.distM - Math.sqrt(bd)) > 1e-7) mismatches++;
  }
  t.equal(mismatches, 0, '300 random queries');
  t.equal(index.nearest(0, 0, 0.1, 1e-9), null, 'nothing within a nanometre of an arbitrary point');
});

t.test('CanonicalIndex.nearest() within a distance: the brute-force answer, or null when it is farther', async (t) => {
  const { chw, valid } = groundTruthMap(25);
  const index = CanonicalIndex.build(chw, 128, valid);
  const n = 128 * 128, rng = new Rng('nn-bounded');
  let mismatches = 0, found = 0, missed = 0;
  for (const maxDist of [0.003, 0.006, 0.01, 0.02]) {
    for (let q = 0; q < 200; q++) {
      const c = [rng.uniform(-0.09, 0.09), rng.uniform(-0.1, 0.1), rng.uniform(0.0, 0.13)];
      let bd = Infinity;
      for (let i = 0; i < n; i++) if (valid[i]) bd = Math.min(bd, (chw[i] - c[0]) ** 2 + (chw[n + i] - c[1]) ** 2 + (chw[2 * n + i] - c[2]) ** 2);
      const hit = index.nearest(c[0], c[1], c[2], maxDist);
      if (Math.sqrt(bd) > maxDist) {
        missed++;
        if (hit !== null) mismatches++;
      } else {
        found++;
        if (!hit || Math.abs(hit.distM - Math.sqrt(bd)) > 1e-7) mismatches++;
      }
    }
  }
  t.equal(mismatches, 0, `${found} found and ${missed} out of reach, as brute force says`);
  t.ok(found > 50 && missed > 50, 'both cases exercised');
});

t.test('CanonicalIndex.locate() puts the 68 landmarks within half a pixel on a ground-truth map', async (t) => {
  const assets = loadHeadAssets();
  const { chw, valid, frame } = groundTruthMap(0);
  const index = CanonicalIndex.build(chw, 128, valid);
  const errors: number[] = [];
  for (let l = 0; l < 68; l++) {
    if (!frame.landmarks[l * 3 + 2]) continue;
    const m = index.locate(assets.landmarksTemplate[l * 3], assets.landmarksTemplate[l * 3 + 1], assets.landmarksTemplate[l * 3 + 2], 0.01);
    if (m) errors.push(Math.hypot(m.x - frame.landmarks[l * 3], m.y - frame.landmarks[l * 3 + 1]));
  }
  errors.sort((a, b) => a - b);
  t.ok(errors.length >= 60, `${errors.length} landmarks found`);
  t.ok(errors[errors.length >> 1] < 0.5, `median ${errors[errors.length >> 1].toFixed(3)} px`);
});

t.test('CanonicalIndex.build() of mismatched arrays throws', async (t) => {
  t.throws(() => CanonicalIndex.build(new Float32Array(10), 128, new Uint8Array(128 * 128)), RangeError);
});
