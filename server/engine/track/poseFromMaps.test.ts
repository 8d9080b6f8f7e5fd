import t from 'tap';
import { loadHeadAssets } from '../../../synth/headAssets.js';
import { Rng } from '../../../synth/random.js';
import { groundTruthCanonical, renderScene } from '../../../synth/testScenes.js';
import { CropPlacement } from '../../../shared/cropPlacement.js';
import { buildFaceTemplate } from '../faceTemplate.js';
import { rotationAngleDeg } from './headPose.js';
import { poseFromMaps } from './poseFromMaps.js';

const assets = loadHeadAssets();
const template = buildFaceTemplate(assets.model);

/** Ground-truth maps of a render, with the model's kind of depth error: a scale bias and per-pixel noise. */
function maps(yawDeg: number, pitchDeg: number, rollDeg: number, depthBias: number, depthNoise: number) {
  const S = 192;
  const s = renderScene({ size: S, yawDeg, pitchDeg, rollDeg, identity: 'mean' });
  const { chw } = groundTruthCanonical(s.frame);
  const rng = new Rng(`depth-${yawDeg}`);
  const depth = Float32Array.from(s.frame.depth, (d) => (d > 0 ? d * (1 + depthBias + rng.uniform(-depthNoise, depthNoise)) : 0));
  return { s, S, maps: { canonical: chw, depth, confidence: new Float32Array(S * S).fill(2), mask: s.frame.mask } };
}

t.test('poseFromMaps() recovers the head pose from canonical and depth maps, despite depth errors', async (t) => {
  for (const [yaw, pitch, roll] of [[0, 0, 0], [35, 10, -10], [-60, -15, 15]]) {
    for (const [bias, noise] of [[0, 0], [0.08, 0.05]]) {
      const { s, S, maps: m } = maps(yaw, pitch, roll, bias, noise);
      const whole = new CropPlacement({ centerX: (S - 1) / 2, centerY: (S - 1) / 2, side: S }, S);
      const pose = poseFromMaps(m, whole, s.intrinsics, template.rigidRegion)!;
      t.ok(pose, 'a pose');
      const deg = rotationAngleDeg(pose.rotation, s.pose.rotation);
      const mm = 1000 * Math.hypot(...[0, 1, 2].map((k) => pose.translationM[k] - s.pose.translationM[k]));
      t.ok(deg < 1, `yaw ${yaw}, depth bias ${bias}, noise ±${noise}: ${deg.toFixed(2)}°, ${mm.toFixed(1)} mm`);
    }
  }
});
