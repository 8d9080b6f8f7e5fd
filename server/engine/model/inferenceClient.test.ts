import t from 'tap';
import { join } from 'node:path';
import { projectRoot } from '../../../node/projectRoot.js';
import { FaceModel } from './faceModel.js';
import { InferenceClient } from './inferenceClient.js';

const MODEL = join(projectRoot(), 'models', 'facestream-small.onnx');

function image(S: number, seed: number): Float32Array {
  return Float32Array.from({ length: 3 * S * S }, (_, i) => ((i * 7919 + seed * 104729) % 1000) / 1000);
}

t.test('InferenceClient.run() in a worker gives the same outputs and state as FaceModel.step() here', async (t) => {
  const client = await InferenceClient.create(MODEL, 1);
  const direct = await FaceModel.load(MODEL, { threads: 1 });
  const S = client.contract.cropSize;
  const a = client.createState(), b = direct.createState();
  let worst = 0;
  for (let f = 0; f < 3; f++) {
    const viaWorker = await client.run(image(S, f), 140, a);
    const here = await direct.step(image(S, f), 140, b);
    for (const k of ['depth', 'canonical', 'confidence', 'parts'] as const) {
      for (let i = 0; i < here[k].length; i += 97) worst = Math.max(worst, Math.abs(viaWorker[k][i] - here[k][i]));
    }
  }
  t.ok(worst < 1e-6, `worst ${worst}`);
  t.same(Array.from(a.cacheValid), Array.from(b.cacheValid), 'same window state');
  await client.close();
  await direct.close();
});

t.test('InferenceClient.run() leaves the event loop free while the model runs', async (t) => {
  const client = await InferenceClient.create(MODEL, 1);
  const S = client.contract.cropSize;
  const state = client.createState();
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const started = performance.now();
  for (let f = 0; f < 20; f++) await client.run(image(S, f), 140, state);
  const ms = performance.now() - started;
  clearInterval(timer);
  t.ok(ticks > ms / 10, `${ticks} timer ticks during ${ms.toFixed(0)} ms of inference`);
  await client.close();
});

t.test('InferenceClient: a bad input rejects with InputError; after close() runs reject with InvalidStateError', async (t) => {
  const client = await InferenceClient.create(MODEL, 1);
  const state = client.createState();
  await t.rejects(client.run(new Float32Array(12), 140, state), { name: 'InputError' });
  const S = client.contract.cropSize;
  const pending = t.rejects(client.run(image(S, 1), 140, state), { name: 'InvalidStateError' });
  await client.close();
  await pending;
  await t.rejects(client.run(image(S, 2), 140, state), { name: 'InvalidStateError' });
  await client.close();
});

t.test('InferenceClient.create() of a missing model rejects with the loader\'s error', async (t) => {
  await t.rejects(InferenceClient.create(join(projectRoot(), 'models', 'nope.onnx')), { name: 'InputError', message: /cannot read it/ });
});
