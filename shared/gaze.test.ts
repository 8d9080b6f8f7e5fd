import t from 'tap';
import { FACEKIT_EXPRESSION_NAMES } from './blendshapeNames.js';
import { gazeAngleDeg, gazeDirection, gazeFromWeights } from './gaze.js';

const weights = (w: Record<string, number>) => {
  const out = new Float32Array(57);
  for (const [k, v] of Object.entries(w)) out[FACEKIT_EXPRESSION_NAMES.indexOf(k as (typeof FACEKIT_EXPRESSION_NAMES)[number])] = v;
  return out;
};

t.test('both eyes looking to the subject\'s left: the left eye turns out, the right eye in, the same yaw', async (t) => {
  const g = gazeFromWeights(weights({ eyeLookOut_L: 1, eyeLookIn_R: 1 }));
  t.same(g.left, { yawDeg: 30, pitchDeg: 0 });
  t.same(g.right, { yawDeg: 30, pitchDeg: 0 });
  t.ok(Math.abs(gazeFromWeights(weights({ eyeLookDown_L: 0.4 })).left.pitchDeg + 10) < 1e-5, 'eyeLookDown 0.4: 10° down');
});

t.test('directions and angles', async (t) => {
  const d = gazeDirection({ yawDeg: 0, pitchDeg: 0 });
  t.same(d, [0, 0, 1], 'ahead is +z, out of the face');
  t.ok(gazeDirection({ yawDeg: 90, pitchDeg: 0 })[0] > 0.999, '+yaw towards +x (the subject\'s left)');
  t.ok(Math.abs(gazeAngleDeg({ yawDeg: 20, pitchDeg: 0 }, { yawDeg: -10, pitchDeg: 0 }) - 30) < 1e-9);
  t.ok(Math.abs(gazeAngleDeg({ yawDeg: 0, pitchDeg: 25 }, { yawDeg: 0, pitchDeg: 25 })) < 1e-6);
});
