import t from 'tap';
import { mat3Transpose, mat3Vec } from '../../../synth/camera.js';
import { EXPRESSION_NAMES } from '../../../synth/expressionTimeline.js';
import { loadHeadAssets } from '../../../synth/headAssets.js';
import { identityWeights } from '../../../synth/sequence.js';
import { groundTruthCanonical, renderScene } from '../../../synth/testScenes.js';
import { BlendshapeFitter } from './blendshapes.js';
import { CanonicalIndex } from './canonicalIndex.js';

const assets = loadHeadAssets();
const rendered: number[] = [];
for (let v = 0; v < assets.model.vertexCount; v += 3) if (assets.topology.vertexMask[v] !== 255) rendered.push(v);
const fitter = new BlendshapeFitter(assets.model, Int32Array.from(rendered));

/** The tracked template mesh of a ground-truth frame: each vertex found by lookup, lifted with depth, in the head frame. */
function trackedMesh(options: Parameters<typeof renderScene>[0]) {
  const s = renderScene({ size: 192, distanceM: 0.4, ...options });
  const f = s.frame, S = 192, n = S * S;
  const { chw, valid } = groundTruthCanonical(f);
  const index = CanonicalIndex.build(chw, S, valid);
  const Rt = mat3Transpose(s.pose.rotation), K = s.intrinsics;
  const observed = new Float32Array(fitter.template.length), seen = new Uint8Array(rendered.length);
  const pixels = new Float32Array(rendered.length * 2).fill(NaN);
  rendered.forEach((_, i) => {
    const m = index.locate(fitter.template[i * 3], fitter.template[i * 3 + 1], fitter.template[i * 3 + 2], 0.0015);
    if (!m) return;
    pixels[i * 2] = m.x;
    pixels[i * 2 + 1] = m.y;
    // sub-pixel position, depth bilinear where the 2x2 cell is all surface
    const x0 = Math.floor(m.x), y0 = Math.floor(m.y), tx = m.x - x0, ty = m.y - y0;
    const cell = [[x0, y0], [x0 + 1, y0], [x0, y0 + 1], [x0 + 1, y0 + 1]].map(([xx, yy]) => f.depth[Math.min(S - 1, yy) * S + Math.min(S - 1, xx)]);
    const d = cell.every((v) => v > 0)
      ? (cell[0] * (1 - tx) + cell[1] * tx) * (1 - ty) + (cell[2] * (1 - tx) + cell[3] * tx) * ty
      : f.depth[m.pixel];
    const x = m.x, y = m.y;
    const cam = [((x - K.cx) / K.fx) * d - s.pose.translationM[0], ((y - K.cy) / K.fy) * d - s.pose.translationM[1], d - s.pose.translationM[2]];
    observed.set(mat3Vec(Rt, cam), i * 3);
    seen[i] = 1;
  });
  return { observed, seen, pixels, pose: s.pose, intrinsics: K };
}

const expr = (w: Record<string, number>) => {
  const e = new Float32Array(57);
  for (const [k, v] of Object.entries(w)) e[EXPRESSION_NAMES.indexOf(k as (typeof EXPRESSION_NAMES)[number])] = v;
  return e;
};

t.test('BlendshapeFitter.fitExpressionImage() on ground-truth lookups recovers the weights, subtle shapes included', async (t) => {
  const truth = expr({ jawOpen: 0.5, mouthSmile_L: 0.8, eyeBlink_R: 1, cheekPuff_L: 0.6, cheekPuff_R: 0.6, noseSneer_L: 0.7, browInnerUp_L: 0.5, browInnerUp_R: 0.5 });
  const { pixels, pose, intrinsics } = trackedMesh({ identity: 'mean', yawDeg: 10, expression: truth });
  const base = fitter.identityBase(new Float32Array(100));
  // exact lookups: a pixel's worth of sigma and a weak ridge; a few Gauss-Newton rounds from the previous answer,
  // as the engine runs it frame after frame
  let w: Float32Array = new Float32Array(57);
  for (let round = 0; round < 4; round++) w = fitter.fitExpressionImage(pixels, base, pose, intrinsics, 0.5, w, 0.5);
  let worst = 0, worstName = '', sum = 0;
  for (let e = 0; e < 57; e++) {
    const err = Math.abs(w[e] - truth[e]);
    sum += err;
    if (err > worst) (worst = err), (worstName = EXPRESSION_NAMES[e]);
  }
  for (const name of ['jawOpen', 'mouthSmile_L', 'eyeBlink_R', 'cheekPuff_L', 'noseSneer_L']) {
    const e = EXPRESSION_NAMES.indexOf(name as (typeof EXPRESSION_NAMES)[number]);
    t.ok(Math.abs(w[e] - truth[e]) < 0.15, `${name}: fitted ${w[e].toFixed(3)}, true ${truth[e]}`);
  }
  t.ok(sum / 57 < 0.03, `mean abs error ${(sum / 57).toFixed(4)} over 57 shapes (worst ${worstName} ${worst.toFixed(3)})`);
});

t.test('BlendshapeFitter.fitIdentity() over a few frames gets closer to the true identity than the mean face', async (t) => {
  const idw = identityWeights(31);
  const frames = [0, 25, -30].map((yaw) => ({ ...trackedMesh({ identity: 31, yawDeg: yaw }), expression: new Float32Array(57) }));
  const fitted = fitter.identityBase(fitter.fitIdentity(frames));
  const truth = fitter.identityBase(idw), mean = fitter.identityBase(new Float32Array(100));
  let eFit = 0, eMean = 0;
  for (let i = 0; i < truth.length; i++) {
    eFit += (fitted[i] - truth[i]) ** 2;
    eMean += (mean[i] - truth[i]) ** 2;
  }
  const rms = (x: number) => Math.sqrt(x / (truth.length / 3)) * 1000;
  t.ok(rms(eFit) < 0.5 * rms(eMean), `shape rms error ${rms(eFit).toFixed(2)} mm fitted vs ${rms(eMean).toFixed(2)} mm for the mean face`);
});
