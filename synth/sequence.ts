/**
 * A sequence: its plan (which assets, cuts, motion and expressions; cheap, no pixels) and its renderer (turns a
 * frame number into a SynthFrame). A plan depends only on (seed, split, index, frames, size, fps), so any frame
 * can be re-rendered alone and the same arguments always give the same bytes.
 */
import { sampleAppearance, srgbToLinear, textureSizeFor, type Appearance, type Rgb } from './appearance.js';
import { sampleBackground, type Background } from './background.js';
import { headRotation, intrinsicsFromFov, mat3Mul, mat3Vec, shakeRotation, type Intrinsics, type Pose } from './camera.js';
import { sampleCameraEffects, type CameraEffects } from './degrade.js';
import { sampleExpressionTrack, sampleShuffledExpressions, type ExpressionTrack, EXPRESSION_COUNT } from './expressionTimeline.js';
import { FrameRenderer, type SynthFrame } from './frameRenderer.js';
import { buildHairShell, type HairShell } from './hair.js';
import type { HeadAssets } from './headAssets.js';
import { sampleLighting, type Lighting } from './lighting.js';
import { sampleHeadMotion, type HeadMotionFrame } from './motion.js';
import { occluderMesh, sampleOccluders, type OccluderEvent } from './occluder.js';
import { Rng } from './random.js';
import { assetRng, drawAsset, type Split } from './splits.js';

export interface SequenceSpec {
  readonly seed: number;
  readonly split: Split;
  readonly index: number;
  readonly frames: number;
  /** square image side, pixels */
  readonly size: number;
  readonly fps: number;
  /** 'timeline' (default): expressions that play over time; 'shuffled': each frame its own (expressionTimeline.ts) */
  readonly expressions?: ExpressionMode;
}

export type ExpressionMode = 'timeline' | 'shuffled';
export const EXPRESSION_MODES: readonly ExpressionMode[] = ['timeline', 'shuffled'];

/** A stretch of frames between cuts: one person, one lighting, one background, one camera placement. */
export interface Segment {
  readonly startFrame: number;
  /** exclusive */
  readonly endFrame: number;
  readonly identity: number;
  readonly appearance: number;
  readonly lighting: number;
  readonly background: number;
  /** face height (about 20 cm) as a fraction of the image height */
  readonly faceFraction: number;
  /** where the face centre sits in the image, 0..1 */
  readonly imageCentre: [number, number];
  readonly effects: CameraEffects;
}

export interface SequencePlan {
  readonly spec: SequenceSpec;
  readonly fovDeg: number;
  readonly intrinsics: Intrinsics;
  readonly performance: number;
  readonly segments: readonly Segment[];
  /** frames that start a new shot (a cut) */
  readonly cuts: readonly number[];
  readonly expression: ExpressionTrack;
  readonly motion: readonly HeadMotionFrame[];
  readonly occluders: readonly OccluderEvent[];
}

/** A point near the middle of the face (between nose bridge and upper lip), template frame, metres. */
const FACE_ANCHOR = Float64Array.of(0, 0.01, 0.085);
const FACE_HEIGHT_M = 0.2;

/** Identity weights of identity asset k: N(0, 1) per mode, clipped at 3 standard deviations. */
export function identityWeights(k: number, count = 100): Float32Array {
  const rng = assetRng('identity', k);
  return Float32Array.from({ length: count }, () => Math.max(-3, Math.min(3, rng.gaussian())));
}

export function planSequence(spec: SequenceSpec): SequencePlan {
  const rng = new Rng(`sequence:${spec.seed}:${spec.split}:${spec.index}`);
  const performance = drawAsset(rng, 'performance', spec.split);
  const fovDeg = rng.uniform(30, 75);
  const cuts: number[] = [];
  if (spec.frames >= 30 && rng.chance(0.15)) {
    const n = rng.int(1, 2);
    for (let i = 0; i < n; i++) cuts.push(rng.int(10, spec.frames - 10));
  }
  const uniqueCuts = [...new Set(cuts)].sort((a, b) => a - b);
  const bounds = [0, ...uniqueCuts, spec.frames];
  const segments: Segment[] = [];
  for (let s = 0; s + 1 < bounds.length; s++) {
    const samePerson = s > 0 && rng.chance(0.5);
    const prev = segments[s - 1];
    segments.push({
      startFrame: bounds[s],
      endFrame: bounds[s + 1],
      identity: samePerson ? prev.identity : drawAsset(rng, 'identity', spec.split),
      appearance: samePerson ? prev.appearance : drawAsset(rng, 'appearance', spec.split),
      lighting: drawAsset(rng, 'lighting', spec.split),
      background: drawAsset(rng, 'background', spec.split),
      faceFraction: rng.uniform(0.38, 0.78),
      imageCentre: [rng.uniform(0.38, 0.62), rng.uniform(0.4, 0.6)],
      effects: sampleCameraEffects(rng),
    });
  }
  const timing = { frames: spec.frames, fps: spec.fps };
  return {
    spec,
    fovDeg,
    intrinsics: intrinsicsFromFov(spec.size, spec.size, fovDeg),
    performance,
    segments,
    cuts: uniqueCuts,
    expression: spec.expressions === 'shuffled'
      ? sampleShuffledExpressions(assetRng('performance', performance, 'expression'), spec.frames)
      : sampleExpressionTrack(assetRng('performance', performance, 'expression'), timing),
    motion: sampleHeadMotion(assetRng('performance', performance, 'motion'), spec.frames, spec.fps),
    occluders: sampleOccluders(assetRng('performance', performance, 'occluders'), spec.frames, spec.fps),
  };
}

/** The segment-level things that cost time to make (texture bake, identity mesh, background), made once. */
interface RealizedSegment {
  readonly segment: Segment;
  readonly identityWeights: Float32Array;
  readonly identityBase: Float32Array;
  readonly appearance: Appearance;
  readonly lighting: Lighting;
  readonly background: Background;
  readonly hair: HairShell | null;
}

export interface RenderedFrame extends SynthFrame {
  readonly frame: number;
  readonly segmentIndex: number;
  readonly pose: Pose;
  readonly expression: Float32Array;
}

export class SequenceRenderer {
  readonly plan: SequencePlan;
  private readonly assets: HeadAssets;
  private readonly renderer: FrameRenderer;
  private realized: { index: number; value: RealizedSegment } | null = null;
  private readonly backgroundSources = new Map<number, string>();

  constructor(plan: SequencePlan, assets: HeadAssets) {
    this.plan = plan;
    this.assets = assets;
    this.renderer = new FrameRenderer(assets, plan.spec.size, plan.spec.size);
  }

  segmentIndexOf(frame: number): number {
    return this.plan.segments.findIndex((s) => frame >= s.startFrame && frame < s.endFrame);
  }

  /** Realized parts of segment s (the bake is cached for the current segment only). */
  segment(s: number): RealizedSegment {
    if (this.realized?.index === s) return this.realized.value;
    const seg = this.plan.segments[s];
    const { size } = this.plan.spec;
    const weights = identityWeights(seg.identity, this.assets.evaluator.identityCount);
    const appearance = sampleAppearance(assetRng('appearance', seg.appearance), this.assets, textureSizeFor(size));
    const value: RealizedSegment = {
      segment: seg,
      identityWeights: weights,
      identityBase: this.assets.evaluator.identityBase(weights),
      appearance,
      lighting: sampleLighting(assetRng('lighting', seg.lighting)),
      background: sampleBackground(assetRng('background', seg.background), this.plan.spec.split, size, size, Math.ceil(size * 0.08)),
      hair: buildHairShell(appearance.hair, this.assets),
    };
    this.realized = { index: s, value };
    this.backgroundSources.set(s, value.background.source);
    return value;
  }

  /** 'photo:<name>' or 'procedural:<style>' for a segment that has been rendered (undefined before). */
  backgroundSource(s: number): string | undefined {
    return this.backgroundSources.get(s);
  }

  /** Camera-from-head pose of a frame, camera shake included. */
  pose(frame: number): Pose {
    const m = this.plan.motion[frame];
    const seg = this.plan.segments[this.segmentIndexOf(frame)];
    const K = this.plan.intrinsics;
    const d = (K.fy * FACE_HEIGHT_M) / (seg.faceFraction * K.height);
    const target = [((seg.imageCentre[0] * K.width - K.cx) / K.fx) * d, ((seg.imageCentre[1] * K.height - K.cy) / K.fy) * d, d];
    const Rh = headRotation(m.yawDeg, m.pitchDeg, m.rollDeg);
    const ra = mat3Vec(Rh, FACE_ANCHOR);
    const t = Float64Array.from([0, 1, 2], (k) => target[k] - ra[k] + m.offsetM[k] * (k === 2 ? d * 2 : d));
    const S = shakeRotation(...m.shakeDeg);
    return { rotation: mat3Mul(S, Rh), translationM: mat3Vec(S, t) };
  }

  render(frame: number): RenderedFrame {
    const { plan } = this;
    if (!(frame >= 0 && frame < plan.spec.frames)) throw new RangeError(`frame ${frame} outside 0..${plan.spec.frames - 1}`);
    const s = this.segmentIndexOf(frame);
    const seg = this.segment(s);
    const E = EXPRESSION_COUNT;
    const expression = plan.expression.weights.slice(frame * E, (frame + 1) * E);
    const pose = this.pose(frame);
    const K = plan.intrinsics;
    const m = plan.motion[frame];
    const DEG = Math.PI / 180;
    const occ = plan.occluders.find((o) => frame >= o.startFrame && frame < o.endFrame);
    let occluder: { mesh: ReturnType<typeof occluderMesh>; color: Rgb } | null = null;
    if (occ) {
      const a = (frame - occ.startFrame) / Math.max(1, occ.endFrame - occ.startFrame - 1);
      const u = occ.from[0] + (occ.to[0] - occ.from[0]) * a, v = occ.from[1] + (occ.to[1] - occ.from[1]) * a;
      // never closer than 65% of the head's distance: a hand at the lens would hide everything
      const z = pose.translationM[2] - Math.min(occ.inFrontM, 0.35 * pose.translationM[2]);
      const cx = ((u * K.width - K.cx) / K.fx) * z, cy = ((v * K.height - K.cy) / K.fy) * z;
      const color: Rgb = occ.color === 'skin' ? seg.appearance.skinTone : [srgbToLinear(occ.color[0]), srgbToLinear(occ.color[1]), srgbToLinear(occ.color[2])];
      occluder = { mesh: occluderMesh(occ.shape, cx, cy, z, occ.halfWidthM, occ.halfHeightM, occ.angleRad), color };
    }
    const spec = plan.spec;
    const out = this.renderer.render({
      intrinsics: K,
      pose,
      identityBase: seg.identityBase,
      expression,
      appearance: seg.appearance,
      lighting: seg.lighting,
      background: seg.background,
      backgroundShift: [-K.fx * m.shakeDeg[1] * DEG, K.fy * m.shakeDeg[0] * DEG],
      hair: seg.hair,
      occluder,
      effects: seg.segment.effects,
      noise: new Rng(`noise:${spec.seed}:${spec.split}:${spec.index}:${frame}`),
    });
    return { ...out, frame, segmentIndex: s, pose, expression };
  }
}
