/**
 * Gaze per eye from the eyeLook blendshape weights, in degrees, one definition for the generator (which paints
 * the iris along it), the engine (which reports it) and the benches. facekit's eyeLook shapes move the eyelids
 * only (its eyeballs are rigid), so the angle a weight stands for is ours: ARKit-like ranges, a full eyeLookOut
 * turning the eye 30° outwards and a full eyeLookUp 25° up.
 *
 * Yaw is positive towards the subject's left (+x of the canonical frame), pitch positive up, both in the head
 * frame; "out" is away from the nose: the subject's left for the left eye, the right for the right eye.
 */
import { FACEKIT_EXPRESSION_NAMES, type FacekitExpressionName } from './blendshapeNames.js';

export const GAZE_YAW_DEG_PER_WEIGHT = 30;
export const GAZE_PITCH_DEG_PER_WEIGHT = 25;

export interface EyeGaze {
  /** degrees, + towards the subject's left */
  readonly yawDeg: number;
  /** degrees, + up */
  readonly pitchDeg: number;
}

const at = (name: FacekitExpressionName) => FACEKIT_EXPRESSION_NAMES.indexOf(name);
const EYES = {
  left: { out: at('eyeLookOut_L'), in: at('eyeLookIn_L'), up: at('eyeLookUp_L'), down: at('eyeLookDown_L'), outward: 1 },
  right: { out: at('eyeLookOut_R'), in: at('eyeLookIn_R'), up: at('eyeLookUp_R'), down: at('eyeLookDown_R'), outward: -1 },
} as const;

/** Each eye's gaze from facekit-ordered weights (57). */
export function gazeFromWeights(w: ArrayLike<number>): { left: EyeGaze; right: EyeGaze } {
  const eye = (e: (typeof EYES)['left' | 'right']): EyeGaze => ({
    yawDeg: e.outward * (w[e.out] - w[e.in]) * GAZE_YAW_DEG_PER_WEIGHT,
    pitchDeg: (w[e.up] - w[e.down]) * GAZE_PITCH_DEG_PER_WEIGHT,
  });
  return { left: eye(EYES.left), right: eye(EYES.right) };
}

/** Unit gaze direction in the head frame (+z out of the face). */
export function gazeDirection(g: EyeGaze): [number, number, number] {
  const yaw = (g.yawDeg * Math.PI) / 180, pitch = (g.pitchDeg * Math.PI) / 180;
  return [Math.sin(yaw) * Math.cos(pitch), Math.sin(pitch), Math.cos(yaw) * Math.cos(pitch)];
}

/** Angle between two gazes, degrees. */
export function gazeAngleDeg(a: EyeGaze, b: EyeGaze): number {
  const u = gazeDirection(a), v = gazeDirection(b);
  return (Math.acos(Math.min(1, Math.max(-1, u[0] * v[0] + u[1] * v[1] + u[2] * v[2]))) * 180) / Math.PI;
}
