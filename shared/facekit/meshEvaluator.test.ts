import t from 'tap';
import { loadFacekit } from '../../node/facekit/loadFacekit.js';
import { MeshEvaluator } from './meshEvaluator.js';

const model = loadFacekit();
const ev = new MeshEvaluator(model);
const V3 = model.vertexCount * 3;

t.test('MeshEvaluator.evaluate() with zero weights returns the neutral template', async (t) => {
  const p = ev.evaluate(ev.identityBase(new Float32Array(100)), new Float32Array(57));
  t.same(Array.from(p.subarray(0, 30)), Array.from(model.neutralM.subarray(0, 30)));
  let worst = 0;
  for (let i = 0; i < V3; i++) worst = Math.max(worst, Math.abs(p[i] - model.neutralM[i]));
  t.equal(worst, 0);
});

t.test('MeshEvaluator.evaluate() matches the dense formula of the facekit README', async (t) => {
  const idw = Float32Array.from({ length: 100 }, (_, i) => Math.sin(i * 1.3));
  const exw = new Float32Array(57);
  exw[26] = 0.7; // jawOpen
  exw[45] = 0.4; // mouthSmile_L
  exw[10] = 1; // eyeBlink_L
  const p = ev.evaluate(ev.identityBase(idw), exw);
  const step = model.deltaStepM;
  let worst = 0;
  for (let k = 0; k < V3; k += 97) {
    let want = model.neutralM[k];
    for (let i = 0; i < 100; i++) want += step * idw[i] * model.identityDeltas[i * V3 + k];
    for (let e = 0; e < 57; e++) want += step * exw[e] * model.expressionDeltas[e * V3 + k];
    worst = Math.max(worst, Math.abs(p[k] - want));
  }
  t.ok(worst < 1e-6, `worst ${worst} m`);
});

t.test('MeshEvaluator.evaluate() with a wrong number of weights throws InputError', async (t) => {
  t.throws(() => ev.evaluate(model.neutralM, new Float32Array(56)), { name: 'InputError', message: /expected 57/ });
  t.throws(() => ev.identityBase(new Float32Array(3)), { name: 'InputError', message: /expected 100/ });
});
