/**
 * The camera model that the generator, the engine and the benches share. Camera frame: OpenCV's (x right, y down,
 * z forward, metres); pixel centres at integer coordinates. Head frame: the canonical/template frame (x to the
 * subject's left, y up, z out of the face). A point maps as X_cam = R * X_head + t, with R the camera-from-head
 * rotation (row-major 3x3).
 */

/** Pinhole intrinsics, pixels. */
export interface PinholeIntrinsics {
  /** focal lengths, pixels */
  readonly fx: number;
  readonly fy: number;
  /** principal point, pixels */
  readonly cx: number;
  readonly cy: number;
}

/** Intrinsics of an image of a known size. */
export interface ImageIntrinsics extends PinholeIntrinsics {
  readonly width: number;
  readonly height: number;
}

export interface CameraFromHead {
  /** [9] row-major camera-from-head rotation */
  readonly rotation: Float64Array;
  /** [3] head origin in camera coordinates, metres */
  readonly translationM: Float64Array;
}

/** Without intrinsics from the caller, a 60° horizontal field of view (a typical webcam) is assumed. */
export const DEFAULT_FOV_DEG = 60;

/** Square or rectangular image with a horizontal field of view, principal point at the centre. */
export function intrinsicsFromFov(width: number, height: number, fovXDeg = DEFAULT_FOV_DEG): ImageIntrinsics {
  const fx = width / 2 / Math.tan((fovXDeg * Math.PI) / 360);
  return { width, height, fx, fy: fx, cx: (width - 1) / 2, cy: (height - 1) / 2 };
}
