import t from 'tap';
import { loadHeadAssets } from '../../../synth/headAssets.js';
import { Rng } from '../../../synth/random.js';
import { groundTruthCanonical, renderScene } from '../../../synth/testScenes.js';
import { CanonicalIndex } from './canonicalIndex.js';
import { absoluteOrientation, fitHeadPose, rotationAngleDeg } from './headPose.js';

const assets = loadHeadAssets();

/** Rigid template points found in a ground-truth frame by canonical lookup, with their back-projected 3D positions. */
function correspondences(options: Parameters<typeof renderScene>[0]) {
  const s = renderScene({ size: 160, ...options });
  const f = s.frame, S = 160, n = S * S;
  const { chw, valid } = groundTruthCanonical(f);
  const index = CanonicalIndex.build(chw, S, valid);
  const template: number[] = [], observed: number[] = [];
  const P = assets.model.neutralM, K = s.intrinsics;
  for (const v of assets.model.rigidVertices) {
    const m = index.nearest(P[v * 3], P[v * 3 + 1], P[v * 3 + 2], 0.002);
    if (!m) continue;
    const x = m.pixel % S, y = Math.floor(m.pixel / S), d = f.depth[m.pixel];
    template.push(chw[m.pixel], chw[n + m.pixel], chw[2 * n + m.pixel]);
    observed.push(((x - K.cx) / K.fx) * d, ((y - K.cy) / K.fy) * d, d);
  }
  return { s, template, observed };
}

t.test('absoluteOrientation() recovers an exact rotation and translation', async (t) => {
  const rng = new Rng('kabsch');
  const src = Array.from({ length: 30 }, () => rng.uniform(-0.1, 0.1));
  const { s } = correspondences({ yawDeg: 40, pitchDeg: -10, rollDeg: 20, identity: 'mean' });
  const R = s.pose.rotation, tr = s.pose.translationM;
  const dst = src.map((_, i) => {
    const p = Math.floor(i / 3) * 3, r = i % 3;
    return R[r * 3] * src[p] + R[r * 3 + 1] * src[p + 1] + R[r * 3 + 2] * src[p + 2] + tr[r];
  });
  const fit = absoluteOrientation(src, dst, new Float64Array(10).fill(1));
  t.ok(rotationAngleDeg(fit.rotation, R) < 1e-6, 'rotation');
  t.ok(Math.hypot(...[0, 1, 2].map((k) => fit.translationM[k] - tr[k])) < 1e-9, 'translation');
});

t.test('fitHeadPose() on ground-truth maps recovers the head pose within 0.5°, also with 25 % gross outliers', async (t) => {
  for (const [yaw, pitch, roll] of [[0, 0, 0], [45, 15, -10], [-65, -20, 20]]) {
    const { s, template, observed } = correspondences({ yawDeg: yaw, pitchDeg: pitch, rollDeg: roll, identity: 'mean' });
    const n = template.length / 3;
    t.ok(n >= 20, `${n} rigid points in view`);
    const clean = fitHeadPose(template, observed)!;
    const bad = observed.slice();
    const rng = new Rng(`outliers-${yaw}`);
    for (let i = 0; i < n; i += 4) for (let k = 0; k < 3; k++) bad[i * 3 + k] += rng.uniform(-0.05, 0.05);
    const robust = fitHeadPose(template, bad)!;
    for (const [label, fit] of [['clean', clean], ['outliers', robust]] as const) {
      const deg = rotationAngleDeg(fit.rotation, s.pose.rotation);
      const mm = Math.hypot(...[0, 1, 2].map((k) => fit.translationM[k] - s.pose.translationM[k])) * 1000;
      t.ok(deg < 0.5 && mm < 3, `yaw ${yaw}, ${label}: ${deg.toFixed(3)}°, ${mm.toFixed(2)} mm`);
    }
  }
});

t.test('fitHeadPose() with fewer than 4 points returns null', async (t) => {
  t.equal(fitHeadPose([0, 0, 0, 1, 0, 0], [0, 0, 0, 1, 0, 0]), null);
});
