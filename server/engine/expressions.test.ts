/**
 * The blendshape weights follow a face the test drives: a held-out identity (test split: identity 6) holds still, then opens
 * its jaw, closes both eyes and smiles on one side, a few frames each, each with fresh sensor noise.
 * A driven shape's weight must rise above ON (its mean over the settled frames) while it is active and stay below
 * OFF (every frame) while it is not: all-zero
 * weights, or weights that ignore the face, fail.
 */
import t from 'tap';
import { join } from 'node:path';
import { projectRoot } from '../../node/projectRoot.js';
import { FACEKIT_EXPRESSION_NAMES, type FacekitExpressionName } from '../../shared/blendshapeNames.js';
import { gazeFromWeights } from '../../shared/gaze.js';
import { loadHeadAssets } from '../../synth/headAssets.js';
import { renderScene } from '../../synth/testScenes.js';
import { FaceEngine } from './engine.js';
import { buildFaceTemplate } from './faceTemplate.js';

const MODEL = join(projectRoot(), 'models', 'facestream-small.onnx');
const ON = 0.35, OFF = 0.2;
const at = (n: FacekitExpressionName) => FACEKIT_EXPRESSION_NAMES.indexOf(n);
const PHASES: { name: string; weights: Partial<Record<FacekitExpressionName, number>>; driven: FacekitExpressionName[] }[] = [
  { name: 'still', weights: {}, driven: [] },
  { name: 'jaw open', weights: { jawOpen: 0.9 }, driven: ['jawOpen'] },
  { name: 'still', weights: {}, driven: [] },
  { name: 'both eyes closed', weights: { eyeBlink_L: 1, eyeBlink_R: 1 }, driven: ['eyeBlink_L', 'eyeBlink_R'] },
  { name: 'still', weights: {}, driven: [] },
  { name: 'left smile', weights: { mouthSmile_L: 0.9 }, driven: ['mouthSmile_L'] },
];
const CHECKED: FacekitExpressionName[] = ['jawOpen', 'eyeBlink_L', 'eyeBlink_R', 'mouthSmile_L'];

t.test('blendshape weights rise with the shapes the face plays and stay low otherwise', async (t) => {
  const assets = loadHeadAssets();
  const engine = await FaceEngine.create({ modelPath: MODEL, threads: 1, template: buildFaceTemplate(assets.model) });
  t.teardown(() => engine.close());
  t.ok(engine.contract.expressionNames, `the shipped model reads the expression (${engine.contract.name} ${engine.contract.version})`);
  const session = engine.openSession();
  const seen: { phase: string; driven: FacekitExpressionName[]; w: Float32Array }[] = [];
  let frameId = 0;
  for (const phase of PHASES) {
    const e = new Float32Array(57);
    for (const [k, v] of Object.entries(phase.weights)) e[at(k as FacekitExpressionName)] = v;
    for (let k = 0; k < 4; k++) {
      const scene = renderScene({ size: 256, distanceM: 0.42, identity: 6, seed: 'expressions-test', noiseSeed: `n${frameId}`, yawDeg: 8, expression: e });
      const r = await session.process({ frameId: frameId++, pixels: { format: 'rgb', width: 256, height: 256, data: scene.frame.rgb }, intrinsics: scene.intrinsics });
      // the first frames of a phase may still show the last (the window): judge the settled ones
      if (k >= 1 && r.kind === 'face' && r.blendshapes) seen.push({ phase: phase.name, driven: phase.driven, w: r.blendshapes });
    }
  }
  session.close();
  t.ok(seen.length >= 15, `${seen.length} settled face frames with weights`);
  for (const shape of CHECKED) {
    const active = seen.filter((s) => s.driven.includes(shape)).map((s) => s.w[at(shape)]);
    const idle = seen.filter((s) => !s.driven.includes(shape)).map((s) => s.w[at(shape)]);
    const mean = active.reduce((a, b) => a + b, 0) / Math.max(1, active.length);
    t.ok(active.length && mean > ON, `${shape} while played: ${active.map((x) => x.toFixed(2)).join(' ')} (mean > ${ON})`);
    t.ok(Math.max(...idle) < OFF, `${shape} otherwise: max ${Math.max(...idle).toFixed(2)} (< ${OFF})`);
  }
  // and the still head's weights hold still
  const still = seen.filter((s) => s.phase === 'still').map((s) => s.w);
  let move = 0;
  for (let i = 1; i < 3; i++) for (let e = 0; e < 57; e++) move += Math.abs(still[i][e] - still[i - 1][e]) / (2 * 57);
  t.ok(move < 0.02, `a still head's weights move ${move.toFixed(4)} per frame on average`);
  t.ok(Math.abs(gazeFromWeights(still[0]).left.yawDeg) < 15, 'a head looking ahead is not read as looking aside');
});
