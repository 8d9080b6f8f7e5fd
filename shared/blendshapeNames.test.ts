import t from 'tap';
import { ARKIT_BLENDSHAPE_NAMES, ARKIT_SOURCES, byFacekitName, FACEKIT_EXPRESSION_NAMES, fromArkit, toArkit, WITHOUT_ARKIT_TWIN } from './blendshapeNames.js';

t.test('the mapping covers ARKit\'s 52 names and facekit\'s 57 shapes as documented', async (t) => {
  t.equal(ARKIT_BLENDSHAPE_NAMES.length, 52);
  t.equal(new Set(ARKIT_BLENDSHAPE_NAMES).size, 52);
  t.equal(FACEKIT_EXPRESSION_NAMES.length, 57);
  t.same(WITHOUT_ARKIT_TWIN, ['PupilDilate_L', 'PupilDilate_R', 'cheekRaiser_L', 'cheekRaiser_R']);
  t.same(ARKIT_SOURCES.tongueOut, [], 'tongueOut has no facekit shape');
  t.same(ARKIT_SOURCES.browInnerUp.map((i) => FACEKIT_EXPRESSION_NAMES[i]), ['browInnerUp_L', 'browInnerUp_R']);
  t.same(ARKIT_SOURCES.eyeBlinkLeft.map((i) => FACEKIT_EXPRESSION_NAMES[i]), ['eyeBlink_L'], 'the subject\'s left on both sides');
  const used = ARKIT_BLENDSHAPE_NAMES.flatMap((n) => ARKIT_SOURCES[n]);
  t.equal(new Set(used).size, used.length, 'no facekit shape feeds two ARKit names');
  t.equal(used.length, 53, '53 of the 57 feed ARKit (49 one to one, 2 pairs merged)');
});

t.test('ARKit → facekit → ARKit round-trips every ARKit shape but tongueOut', async (t) => {
  const arkit = Object.fromEntries(ARKIT_BLENDSHAPE_NAMES.map((n, i) => [n, ((i * 37) % 100) / 100]));
  const back = toArkit(fromArkit(arkit));
  for (const n of ARKIT_BLENDSHAPE_NAMES) {
    if (n === 'tongueOut') t.equal(back[n], 0, 'tongueOut is lost: no facekit shape');
    else t.ok(Math.abs(back[n] - arkit[n]) < 1e-6, n);
  }
});

t.test('facekit → ARKit → facekit round-trips every shape with a twin where the merged pairs agree', async (t) => {
  const w = Float32Array.from(FACEKIT_EXPRESSION_NAMES, (_, i) => ((i * 13) % 50) / 50);
  for (const n of ['browInnerUp', 'cheekPuff'] as const) {
    const [a, b] = ARKIT_SOURCES[n];
    w[b] = w[a];
  }
  const back = fromArkit(toArkit(w));
  FACEKIT_EXPRESSION_NAMES.forEach((n, i) => {
    if (WITHOUT_ARKIT_TWIN.includes(n)) t.equal(back[i], 0, `${n}: no twin, 0`);
    else t.ok(Math.abs(back[i] - w[i]) < 1e-6, n);
  });
  const pair = new Float32Array(57);
  pair[ARKIT_SOURCES.cheekPuff[0]] = 0.8;
  t.ok(Math.abs(toArkit(pair).cheekPuff - 0.4) < 1e-6, 'a one-sided cheekPuff counts half');
  t.equal(byFacekitName(w).jawOpen, w[FACEKIT_EXPRESSION_NAMES.indexOf('jawOpen')]);
  t.throws(() => toArkit(new Float32Array(52)), RangeError, 'a wrong length is an error');
});
