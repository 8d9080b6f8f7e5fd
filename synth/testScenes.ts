/**
 * Scenes for tests and benches: a frame rendered from explicit settings (pose, identity, expression), with the
 * generator's random appearance, lighting and background, so that geometry can be checked independently.
 */
import { sampleAppearance, textureSizeFor } from './appearance.js';
import { sampleBackground } from './background.js';
import { headRotation, intrinsicsFromFov, mat3Vec, type Intrinsics, type Pose } from './camera.js';
import { sampleCameraEffects } from './degrade.js';
import { EXPRESSION_COUNT } from './expressionTimeline.js';
import { FrameRenderer, type SynthFrame } from './frameRenderer.js';
import { buildHairShell } from './hair.js';
import { loadHeadAssets } from './headAssets.js';
import { sampleLighting } from './lighting.js';
import { occluderMesh } from './occluder.js';
import { Rng } from './random.js';
import { hasCanonical } from '../shared/parts.js';
import { identityWeights } from './sequence.js';

export interface SceneOptions {
  readonly size?: number;
  readonly fovDeg?: number;
  readonly yawDeg?: number;
  readonly pitchDeg?: number;
  readonly rollDeg?: number;
  /** distance of the head origin from the camera, metres */
  readonly distanceM?: number;
  /** identity asset index, or 'mean' for the template identity */
  readonly identity?: number | 'mean';
  /** [57] expression weights (default all zero) */
  readonly expression?: Float32Array;
  readonly seed?: string;
  /** sensor noise key; defaults to `seed` (vary it alone for a static scene with fresh noise per frame) */
  readonly noiseSeed?: string;
  readonly hair?: boolean;
  /** an opaque disc this far in front of the nose tip, covering it */
  readonly occluderInFrontM?: number;
}

export interface Scene {
  readonly frame: SynthFrame;
  readonly intrinsics: Intrinsics;
  readonly pose: Pose;
  /** [V*3] posed-free mesh (identity + expression) in the head frame, metres */
  readonly meshHead: Float32Array;
}

export function renderScene(o: SceneOptions = {}): Scene {
  const assets = loadHeadAssets();
  const size = o.size ?? 128;
  const K = intrinsicsFromFov(size, size, o.fovDeg ?? 50);
  const rotation = headRotation(o.yawDeg ?? 0, o.pitchDeg ?? 0, o.rollDeg ?? 0);
  const d = o.distanceM ?? 0.5;
  // keep the face centre on the optical axis
  const anchor = mat3Vec(rotation, [0, 0.01, 0.085]);
  const pose: Pose = { rotation, translationM: Float64Array.of(-anchor[0], -anchor[1], d - anchor[2]) };
  const rng = new Rng(`scene:${o.seed ?? 'default'}`);
  const weights = o.identity === 'mean' || o.identity === undefined ? new Float32Array(100) : identityWeights(o.identity);
  const identityBase = assets.evaluator.identityBase(weights);
  const expression = o.expression ?? new Float32Array(EXPRESSION_COUNT);
  const appearance = sampleAppearance(rng, assets, textureSizeFor(size));
  const hair = o.hair ? buildHairShell({ ...appearance.hair, bald: false }, assets) : null;
  let occluder = null;
  if (o.occluderInFrontM !== undefined) {
    const nose = mat3Vec(rotation, [0, 0.0041, 0.1307]);
    const z = nose[2] + pose.translationM[2] - o.occluderInFrontM;
    occluder = { mesh: occluderMesh('hand', nose[0] + pose.translationM[0], nose[1] + pose.translationM[1], z, 0.03, 0.03, 0), color: appearance.skinTone };
  }
  const frame = new FrameRenderer(assets, size, size).render({
    intrinsics: K,
    pose,
    identityBase,
    expression,
    appearance,
    lighting: sampleLighting(rng),
    background: sampleBackground(rng, 'train', size, size, 4),
    backgroundShift: [0, 0],
    hair,
    occluder,
    effects: sampleCameraEffects(rng),
    noise: new Rng(`scene-noise:${o.noiseSeed ?? o.seed ?? 'default'}`),
  });
  return { frame, intrinsics: K, pose, meshHead: assets.evaluator.evaluate(identityBase, expression) };
}

/** A rendered frame's ground-truth canonical map in the model's layout ([3*S*S], channels first) and its validity. */
export function groundTruthCanonical(frame: SynthFrame): { chw: Float32Array; valid: Uint8Array } {
  const n = frame.width * frame.height;
  const chw = new Float32Array(3 * n), valid = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    valid[i] = hasCanonical(frame.mask[i]) ? 1 : 0;
    for (let k = 0; k < 3; k++) chw[k * n + i] = frame.canonical[i * 3 + k];
  }
  return { chw, valid };
}
