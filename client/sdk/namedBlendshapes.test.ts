import t from 'tap';
import { FACEKIT_EXPRESSION_NAMES } from '../../shared/blendshapeNames.js';
import { decodeServerMessage, encodeMessage, type ResultMessage } from '../../shared/wire/schema.js';
import { namedBlendshapes } from './namedBlendshapes.js';

const hello = { expressionNames: [...FACEKIT_EXPRESSION_NAMES] };
function result(blendshapes: Float32Array | null): ResultMessage {
  const m: ResultMessage = {
    t: 'result', frameId: 1, captureTimeMs: null, face: true, box: { centerX: 50, centerY: 50, side: 80 }, frameWidth: 100, frameHeight: 100,
    intrinsics: Float32Array.of(100, 100, 50, 50), landmarks: new Float32Array(68 * 3), pointIds: new Uint32Array(0), points: new Float32Array(0),
    pose: null, blendshapes, mesh: null, timings: {},
  };
  return decodeServerMessage(encodeMessage(m)) as ResultMessage; // as a client receives it
}

t.test('a client decoding a result gets the weights under facekit\'s and ARKit\'s names', async (t) => {
  const w = new Float32Array(57);
  w[FACEKIT_EXPRESSION_NAMES.indexOf('eyeBlink_L')] = 0.9;
  w[FACEKIT_EXPRESSION_NAMES.indexOf('cheekPuff_L')] = 0.6;
  w[FACEKIT_EXPRESSION_NAMES.indexOf('cheekPuff_R')] = 0.4;
  const named = namedBlendshapes(result(w), hello)!;
  t.ok(Math.abs(named.facekit.eyeBlink_L - 0.9) < 1e-6);
  t.ok(Math.abs(named.arkit!.eyeBlinkLeft - 0.9) < 1e-6, 'eyeBlinkLeft');
  t.ok(Math.abs(named.arkit!.cheekPuff - 0.5) < 1e-6, 'cheekPuff: the pair\'s mean');
  t.equal(named.arkit!.tongueOut, 0);
  t.equal(Object.keys(named.arkit!).length, 52);
  t.same(named.gaze!.left, { yawDeg: 0, pitchDeg: 0 }, 'looking ahead');
  const look = new Float32Array(57);
  look[FACEKIT_EXPRESSION_NAMES.indexOf('eyeLookOut_L')] = 0.5;
  look[FACEKIT_EXPRESSION_NAMES.indexOf('eyeLookUp_L')] = 1;
  t.same(namedBlendshapes(result(look), hello)!.gaze!.left, { yawDeg: 15, pitchDeg: 25 }, 'the left eye 15° out (towards the subject\'s left), 25° up');
});

t.test('no weights, no hello, or a server with other shapes: no ARKit names invented', async (t) => {
  t.equal(namedBlendshapes(result(null), hello), null);
  t.equal(namedBlendshapes(result(new Float32Array(57)), null), null);
  const other = namedBlendshapes(result(Float32Array.of(0.1, 0.2)), { expressionNames: ['smile', 'frown'] })!;
  t.same(Object.keys(other.facekit), ['smile', 'frown']);
  t.equal(other.arkit, null);
  t.equal(other.gaze, null);
});
