/**
 * A session's expression and identity: each frame's blendshape weights fitted to where the template's vertices
 * appear in the image (found by canonical lookup), and the identity fitted once over the first IDENTITY_FRAMES
 * face frames (from the same vertices lifted to 3D with the predicted depth).
 */
import type { CropPlacement } from '../../../shared/cropPlacement.js';
import type { FaceTemplate, LandmarkConvention } from '../faceTemplate.js';
import type { FrameIntrinsics } from '../types.js';
import type { CanonicalIndex } from './canonicalIndex.js';
import type { RigidPose } from './headPose.js';

/** Face frames whose tracked meshes the identity is fitted to, once per session. */
export const IDENTITY_FRAMES = 5;

export class ExpressionTracker {
  /** [100] identity weights, null until fitted */
  identity: Float32Array | null = null;
  /** the identity on the landmark vertices of the session's convention, null until fitted (the mean face) */
  landmarkBase: Float32Array | null = null;
  private identityBase: Float32Array | null = null;
  /** the previous frame's weights: the image fit starts from them */
  private last: Float32Array | null = null;
  private identityFrames: { observed: Float32Array; seen: Uint8Array; expression: Float32Array }[] = [];

  constructor(private readonly template: FaceTemplate, private readonly landmarks: LandmarkConvention) {}

  /** The window was reset (cut, new face): the next fit starts from no expression; the identity stays. */
  restart(): void {
    this.last = null;
  }

  /** [57] weights for this frame. */
  fit(index: CanonicalIndex, depth: Float32Array, placement: CropPlacement, K: FrameIntrinsics, pose: RigidPose): Float32Array {
    const fitter = this.template.fitter;
    const T = fitter.template, n = fitter.vertices.length;
    // the identity fit needs the vertices in 3D (back-projected with depth, in the head frame), only until it is done
    const lift = !this.identity;
    const observed = new Float32Array(lift ? n * 3 : 0), seen = new Uint8Array(lift ? n : 0), pixels = new Float32Array(n * 2).fill(NaN);
    const R = pose.rotation, t = pose.translationM;
    for (let i = 0; i < n; i++) {
      const m = index.locate(T[i * 3], T[i * 3 + 1], T[i * 3 + 2], 0.003);
      if (!m) continue;
      const fx = placement.frameX(m.x, m.y), fy = placement.frameY(m.x, m.y);
      pixels[i * 2] = fx;
      pixels[i * 2 + 1] = fy;
      if (!lift) continue;
      const d = depth[m.pixel];
      const c = [((fx - K.cx) / K.fx) * d - t[0], ((fy - K.cy) / K.fy) * d - t[1], d - t[2]];
      // head frame: R^T (p - t)
      for (let k = 0; k < 3; k++) observed[i * 3 + k] = R[k] * c[0] + R[3 + k] * c[1] + R[6 + k] * c[2];
      seen[i] = 1;
    }
    // expressions from the image positions (accurate), not the back-projected depth (centimetres off)
    const weights = fitter.fitExpressionImage(pixels, this.identityBase ?? fitter.template, pose, K, 1.5 * placement.scale, this.last ?? undefined);
    this.last = weights;
    if (lift) {
      this.identityFrames.push({ observed, seen, expression: weights });
      if (this.identityFrames.length >= IDENTITY_FRAMES) {
        this.identity = fitter.fitIdentity(this.identityFrames);
        this.identityBase = fitter.identityBase(this.identity);
        this.landmarkBase = this.template.landmarks[this.landmarks].model.identityBase(this.identity);
        this.identityFrames = [];
      }
    }
    return weights;
  }
}
