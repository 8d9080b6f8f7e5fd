/**
 * The generator's camera: the shared camera model (shared/camera.ts, the engine's too) and the rotations that pose
 * a head.
 */
import type { CameraFromHead, ImageIntrinsics } from '../shared/camera.js';

export { intrinsicsFromFov } from '../shared/camera.js';
export type Intrinsics = ImageIntrinsics;
export type Pose = CameraFromHead;

export function mat3Mul(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const o = new Float64Array(9);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) o[r * 3 + c] = a[r * 3] * b[c] + a[r * 3 + 1] * b[3 + c] + a[r * 3 + 2] * b[6 + c];
  }
  return o;
}

export function mat3Vec(a: ArrayLike<number>, v: ArrayLike<number>): Float64Array {
  return Float64Array.of(
    a[0] * v[0] + a[1] * v[1] + a[2] * v[2],
    a[3] * v[0] + a[4] * v[1] + a[5] * v[2],
    a[6] * v[0] + a[7] * v[1] + a[8] * v[2],
  );
}

export function mat3Transpose(a: ArrayLike<number>): Float64Array {
  return Float64Array.of(a[0], a[3], a[6], a[1], a[4], a[7], a[2], a[5], a[8]);
}

export function rotX(rad: number): Float64Array {
  const c = Math.cos(rad), s = Math.sin(rad);
  return Float64Array.of(1, 0, 0, 0, c, -s, 0, s, c);
}
export function rotY(rad: number): Float64Array {
  const c = Math.cos(rad), s = Math.sin(rad);
  return Float64Array.of(c, 0, s, 0, 1, 0, -s, 0, c);
}
export function rotZ(rad: number): Float64Array {
  const c = Math.cos(rad), s = Math.sin(rad);
  return Float64Array.of(c, -s, 0, s, c, 0, 0, 0, 1);
}

const DEG = Math.PI / 180;

/** Turns the head frame (y up, z towards the viewer) into the camera frame (y down, z away from the viewer). */
const HEAD_TO_CAMERA_AXES = Float64Array.of(1, 0, 0, 0, -1, 0, 0, 0, -1);

/**
 * Camera-from-head rotation of a head turned by yaw (about its own up axis; positive turns the face towards the
 * image's right), pitch (about its left-right axis; positive lifts the chin) and roll (about the viewing axis),
 * seen by a camera that looks at it. Degrees.
 */
export function headRotation(yawDeg: number, pitchDeg: number, rollDeg: number): Float64Array {
  const head = mat3Mul(mat3Mul(rotY(yawDeg * DEG), rotX(-pitchDeg * DEG)), rotZ(rollDeg * DEG));
  return mat3Mul(HEAD_TO_CAMERA_AXES, head);
}

/** Small rotation of the camera itself (shake), applied after the head pose: X' = S * X. Degrees. */
export function shakeRotation(xDeg: number, yDeg: number, zDeg: number): Float64Array {
  return mat3Mul(mat3Mul(rotY(yDeg * DEG), rotX(xDeg * DEG)), rotZ(zDeg * DEG));
}

/**
 * Transforms template-frame points into camera coordinates and projects them.
 * Writes camera-space positions (cam, [V*3]) and screen coordinates with 1/z.
 */
export function projectPoints(
  pointsHead: Float32Array,
  pose: Pose,
  k: Intrinsics,
  cam: Float32Array,
  sx: Float32Array,
  sy: Float32Array,
  invZ: Float32Array,
  nearM = 0.02,
): void {
  const R = pose.rotation;
  const t = pose.translationM;
  const r0 = R[0], r1 = R[1], r2 = R[2], r3 = R[3], r4 = R[4], r5 = R[5], r6 = R[6], r7 = R[7], r8 = R[8];
  const { fx, fy, cx, cy } = k;
  const n = pointsHead.length / 3;
  for (let i = 0; i < n; i++) {
    const x = pointsHead[i * 3], y = pointsHead[i * 3 + 1], z = pointsHead[i * 3 + 2];
    const X = r0 * x + r1 * y + r2 * z + t[0];
    const Y = r3 * x + r4 * y + r5 * z + t[1];
    const Z = r6 * x + r7 * y + r8 * z + t[2];
    cam[i * 3] = X;
    cam[i * 3 + 1] = Y;
    cam[i * 3 + 2] = Z;
    if (Z > nearM) {
      const iz = 1 / Z;
      invZ[i] = iz;
      sx[i] = fx * X * iz + cx;
      sy[i] = fy * Y * iz + cy;
    } else {
      invZ[i] = 0;
      sx[i] = 0;
      sy[i] = 0;
    }
  }
}
