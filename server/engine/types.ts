/**
 * The engine's public types: what a frame is, what a session is asked, what a result holds. Apart from engine.ts so
 * that the stages (track/, pointCloud) can name them without importing the engine back.
 */
import { DEFAULT_FOV_DEG, intrinsicsFromFov, type PinholeIntrinsics } from '../../shared/camera.js';
import type { CropBox, CropPlacement } from '../../shared/cropPlacement.js';
import type { FramePixels } from './crop.js';
import type { FaceRegionOptions } from './faceRegion.js';
import type { FaceTemplate, LandmarkConvention } from './faceTemplate.js';
import type { RigidPose } from './track/headPose.js';
import type { ModelDevice } from './model/defaults.js';

/** Pinhole intrinsics of the frame, pixels (centres at integers): the camera model shared with the generator. */
export type FrameIntrinsics = PinholeIntrinsics;

export { DEFAULT_FOV_DEG };

export function defaultIntrinsics(width: number, height: number, fovDeg = DEFAULT_FOV_DEG): FrameIntrinsics {
  const { fx, fy, cx, cy } = intrinsicsFromFov(width, height, fovDeg);
  return { fx, fy, cx, cy };
}

export interface DecodedFrame {
  readonly frameId: number;
  readonly captureTimeMs?: number;
  readonly pixels: FramePixels;
  readonly intrinsics?: FrameIntrinsics;
  /** the caller knows the shot changed: forget the window and the tracked box */
  readonly cut?: boolean;
}

/** Maps on the crop's grid; `placement` puts them in the frame. */
export interface FaceMaps {
  readonly size: number;
  /** [S*S] metres along the camera z axis */
  readonly depth: Float32Array;
  /** [3*S*S] channels first, metres, canonical frame */
  readonly canonical: Float32Array;
  /** [S*S] >= 1 */
  readonly confidence: Float32Array;
  /** [S*S] PartId */
  readonly mask: Uint8Array;
}

export type PointVisibility = 'visible' | 'occluded' | 'lowConfidence';

export interface TrackedPoint {
  readonly id: number;
  /** frame pixels; NaN when not found */
  readonly x: number;
  readonly y: number;
  readonly visibility: PointVisibility;
}

export type FaceResult =
  | {
      readonly kind: 'face';
      readonly frameId: number;
      readonly captureTimeMs?: number;
      readonly box: CropBox;
      readonly placement: CropPlacement;
      readonly intrinsics: FrameIntrinsics;
      readonly maps: FaceMaps;
      /**
       * [68*3] frame x, y, seen: 1 where the canonical lookup found the landmark, 0 where it is estimated (hidden
       * or not found: placed by the head model fitted to this frame, track/landmarkCompletion.ts); never NaN
       */
      readonly landmarks: Float32Array;
      readonly points: readonly TrackedPoint[];
      /** camera-from-head pose from the rigid points, null when too few are in view */
      readonly pose: RigidPose | null;
      /** [57] facekit expression weights 0..1 (shared/blendshapeNames.ts): the model's own where it reads them, else fitted to the tracked template mesh (null without a pose) */
      readonly blendshapes: Float32Array | null;
      /** [100] identity weights, fitted once over the first face frames; null until then */
      readonly identity: Float32Array | null;
      readonly timings: StageTimings;
    }
  | { readonly kind: 'noFace'; readonly frameId: number; readonly captureTimeMs?: number; readonly reason: 'notFound' | 'lost' };

/** Where one frame's time went, milliseconds. */
export interface StageTimings {
  /** finding the face: the detector on the whole frame, or around the tracked box (0 without the detector while tracked) */
  readonly detect: number;
  /** crop + resample to the model input */
  readonly crop: number;
  /** the model step in the worker, including the hand-over */
  readonly model: number;
  /** part argmax, face gate, next box, canonical index */
  readonly post: number;
  /** landmarks and tracked points by lookup */
  readonly track: number;
  /** head pose and blendshape (and identity) fit */
  readonly fit: number;
  readonly total: number;
}

export interface SessionOptions {
  readonly region?: FaceRegionOptions;
  /** seed tracked points on the first face frame, every `seedStridePx` crop pixels of face skin (0: none) */
  readonly seedStridePx?: number;
  /** a lookup farther than this from the sought canonical coordinate means the point is not in view, metres */
  readonly maxLookupDistM?: number;
  /** confidence below this marks a found point lowConfidence */
  readonly minConfidence?: number;
  /** frames the model may attend to, 1..the model's window (default: all of it) */
  readonly window?: number;
  /** fit blendshapes (and the identity) every frame (default true) */
  readonly blendshapes?: boolean;
  /**
   * where the face is when the whole-frame detection cannot find it (frame pixels): used for the first frame and
   * whenever the face is lost and not re-detected.
   */
  readonly faceBox?: CropBox;
  /**
   * find faces with the detector trained on real faces (MediaPipe BlazeFace), and ask it before a tracked face
   * is given up (default true); false leaves only the face model's own mask, as before the detector existed
   */
  readonly detector?: boolean;
  /**
   * which 68 points the landmarks are: 'ibug' (default) where annotators of real photographs and the trackers
   * trained on them put them; 'facekit' facekit's own 68 vertices, as the generator's ground truth has them
   */
  readonly landmarks?: LandmarkConvention;
}

export interface EngineOptions {
  readonly modelPath: string;
  /** onnxruntime threads in each model worker (default 2) */
  readonly threads?: number;
  /** model workers side by side (default 1; the live server: one per core) */
  readonly modelWorkers?: number;
  /** the face model's execution provider (default cpu) */
  readonly device?: ModelDevice;
  /** landmarks, rigid points and blendshape rows from facekit (buildFaceTemplate) */
  readonly template: FaceTemplate;
}
