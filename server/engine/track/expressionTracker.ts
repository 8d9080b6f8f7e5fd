/**
 * A session's expression and identity. Each frame's blendshape weights: the model's own where it reads them (its
 * `expression` output, from the expression crop the contract asks for), else fitted to where the template's vertices appear in the image (found by
 * canonical lookup). The identity is fitted once over the first IDENTITY_FRAMES face frames, from the same
 * vertices lifted to 3D with the predicted depth, given that frame's weights.
 */
import type { CropPlacement } from '../../../shared/cropPlacement.js';
import type { FaceTemplate, LandmarkConvention } from '../faceTemplate.js';
import type { FrameIntrinsics } from '../types.js';
import type { CanonicalIndex } from './canonicalIndex.js';
import type { RigidPose } from './headPose.js';

/** Face frames whose tracked meshes the identity is fitted to, once per session. */
const IDENTITY_FRAMES = 5;

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

  /**
   * [57] weights for this frame: `fromModel` when the model gave them (a copy), else the image fit, which needs a
   * pose (null without one). The identity's frames are collected either way while it is not yet fitted.
   */
  update(index: CanonicalIndex, depth: Float32Array, placement: CropPlacement, K: FrameIntrinsics, pose: RigidPose | null, fromModel?: Float32Array): Float32Array | null {
    if (!fromModel) return pose ? this.fit(index, depth, placement, K, pose) : null;
    const weights = Float32Array.from(fromModel);
    this.last = weights;
    if (!this.identity && pose) this.collectIdentityFrame(this.locateVertices(index, depth, placement, K, pose, true).lifted, weights);
    return weights;
  }

  /**
   * The template's vertices found by lookup: frame pixels [n*2] (NaN where not found) and, with `inHeadFrame`,
   * lifted with the depth into the head frame ([n*3], `seen` where found).
   */
  private locateVertices(index: CanonicalIndex, depth: Float32Array, placement: CropPlacement, K: FrameIntrinsics, pose: RigidPose, inHeadFrame: boolean) {
    const fitter = this.template.fitter;
    const T = fitter.template, n = fitter.vertices.length;
    const observed = new Float32Array(inHeadFrame ? n * 3 : 0), seen = new Uint8Array(inHeadFrame ? n : 0), pixels = new Float32Array(n * 2).fill(NaN);
    const R = pose.rotation, t = pose.translationM;
    for (let i = 0; i < n; i++) {
      const m = index.locate(T[i * 3], T[i * 3 + 1], T[i * 3 + 2], 0.003);
      if (!m) continue;
      const fx = placement.frameX(m.x, m.y), fy = placement.frameY(m.x, m.y);
      pixels[i * 2] = fx;
      pixels[i * 2 + 1] = fy;
      if (!inHeadFrame) continue;
      const d = depth[m.pixel];
      const c = [((fx - K.cx) / K.fx) * d - t[0], ((fy - K.cy) / K.fy) * d - t[1], d - t[2]];
      // head frame: R^T (p - t)
      for (let k = 0; k < 3; k++) observed[i * 3 + k] = R[k] * c[0] + R[3 + k] * c[1] + R[6 + k] * c[2];
      seen[i] = 1;
    }
    return { pixels, lifted: { observed, seen } };
  }

  /** The image fit: weights that put the template's vertices where the lookup found them. */
  private fit(index: CanonicalIndex, depth: Float32Array, placement: CropPlacement, K: FrameIntrinsics, pose: RigidPose): Float32Array {
    const fitter = this.template.fitter;
    // the identity fit needs the vertices in 3D (back-projected with depth, in the head frame), only until it is done
    const found = this.locateVertices(index, depth, placement, K, pose, !this.identity);
    // expressions from the image positions (accurate), not the back-projected depth (centimetres off)
    const weights = fitter.fitExpressionImage(found.pixels, this.identityBase ?? fitter.template, pose, K, 1.5 * placement.scale, this.last ?? undefined);
    this.last = weights;
    if (!this.identity) this.collectIdentityFrame(found.lifted, weights);
    return weights;
  }

  private collectIdentityFrame(lifted: { observed: Float32Array; seen: Uint8Array }, expression: Float32Array): void {
    const fitter = this.template.fitter;
    this.identityFrames.push({ ...lifted, expression });
    if (this.identityFrames.length >= IDENTITY_FRAMES) {
      this.identity = fitter.fitIdentity(this.identityFrames);
      this.identityBase = fitter.identityBase(this.identity);
      this.landmarkBase = this.template.landmarks[this.landmarks].model.identityBase(this.identity);
      this.identityFrames = [];
    }
  }
}
