/**
 * The engine: frames in, one at a time, 4D face results out, in order. The same code serves the live server and
 * the offline command; only who feeds it differs.
 *
 * Path of a frame (step(), one call per stage): face region (detect/ and faceRegion: find or follow the box) →
 * crop → model step in a worker (model/, with the window cache) → part mask → face confirmed → canonical index →
 * landmarks and tracked points by canonical lookup (track/mapLookups) → head pose (track/poseFromMaps) →
 * expression and identity (track/expressionTracker) → hidden landmarks placed (track/landmarkCompletion).
 * A frame with no face gives { kind: 'noFace' } and resets the window; it never throws for that. A cut (the
 * caller's flag, or a change of frame size) forgets the window and the box.
 */
import { InputError, InvalidStateError, ModelContractError } from '../../shared/errors.js';
import { sameNames } from '../../shared/blendshapeNames.js';
import { PartId } from '../../shared/parts.js';
import { CropPlacement, type CropBox } from '../../shared/cropPlacement.js';
import { cropToModelInput, type FramePixels } from './crop.js';
import { boxFromMask, FACE_REGION_DEFAULTS, faceCertainty, followBox, smoothBox, wholeFrameBox, type FaceRegionOptions } from './faceRegion.js';
import { aroundBoxViews, cropBoxOf, detectFaces, wholeFrameViews, type DetectedFace } from './detect/faceDetector.js';
import type { StepOutputs, StreamState } from './model/faceModel.js';
import { ModelWorkerPool, type ModelPoolStats } from './model/modelWorkerPool.js';
import { poseFromMaps } from './track/poseFromMaps.js';
import { completeLandmarks } from './track/landmarkCompletion.js';
import { ExpressionTracker } from './track/expressionTracker.js';
import { canonicalIndexOf, lookupLandmarks, lookupPoints, type PointSeed } from './track/mapLookups.js';
import type { FaceTemplate } from './faceTemplate.js';
import { defaultIntrinsics, type DecodedFrame, type EngineOptions, type FaceResult, type FrameIntrinsics, type SessionOptions } from './types.js';

export * from './types.js';

/** A detection this sure is a face whatever the face model's mask says; below it the mask must agree. */
const TRUSTED_DETECTION = 0.75;
/** Detections below this are ignored. */
const MIN_DETECTION = 0.5;

export class FaceEngine {
  private readonly sessions = new Set<EngineSession>();
  private closed = false;

  private constructor(
    private readonly client: ModelWorkerPool,
    readonly template: FaceTemplate,
  ) {}

  static async create(o: EngineOptions): Promise<FaceEngine> {
    const client = await ModelWorkerPool.create(o.modelPath, { workers: o.modelWorkers, threads: o.threads, device: o.device });
    // a model that reads blendshapes must name them as the template does: the weights index its expressions
    const names = client.contract.expressionNames, want = o.template.expressionNames;
    if (names && !sameNames(names, want)) {
      await client.close();
      throw new ModelContractError(`${o.modelPath}: its expression output names ${names.length} shapes that are not facekit's ${want.length} in order`);
    }
    return new FaceEngine(client, o.template);
  }

  get contract() {
    return this.client.contract;
  }

  /** The model workers: device, how many, threads each, and what each has done (/health). */
  modelStats(): ModelPoolStats {
    return this.client.stats();
  }

  openSession(o: SessionOptions = {}): EngineSession {
    if (this.closed) throw new InvalidStateError('FaceEngine is closed');
    const W = this.client.contract.window;
    if (o.window !== undefined && !(Number.isInteger(o.window) && o.window >= 1 && o.window <= W)) {
      throw new InputError(`window must be an integer from 1 to ${W} (the model's window), got ${o.window}`);
    }
    if (o.landmarks !== undefined && o.landmarks !== 'ibug' && o.landmarks !== 'facekit') throw new InputError(`landmarks must be 'ibug' or 'facekit', got ${String(o.landmarks)}`);
    const b = o.faceBox;
    if (b && !(Number.isFinite(b.centerX) && Number.isFinite(b.centerY) && Number.isFinite(b.side) && b.side >= 8)) {
      throw new InputError(`faceBox must have a finite centre and a side of at least 8 pixels, got ${JSON.stringify(b)}`);
    }
    const s = new EngineSession(this.client, this.template, o, () => this.sessions.delete(s));
    this.sessions.add(s);
    return s;
  }

  /** Closes every session, then the model worker. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.sessions]) s.close();
    await this.client.close();
  }
}

export class EngineSession {
  private box: CropBox | null = null;
  private frameSize: { width: number; height: number } | null = null;
  /** the current box says there is a face whatever the mask's certainty: the caller's faceBox, a sure detection */
  private boxTrusted = false;
  private state: StreamState;
  private readonly region: FaceRegionOptions;
  private seeds: PointSeed[] = [];
  private readonly expression: ExpressionTracker;
  private seeded = false;
  private closed = false;
  private busy = false;

  constructor(
    private readonly client: ModelWorkerPool,
    private readonly template: FaceTemplate,
    private readonly options: SessionOptions,
    private readonly onClose: () => void,
  ) {
    this.state = client.createState();
    this.region = options.region ?? FACE_REGION_DEFAULTS;
    this.expression = new ExpressionTracker(template, options.landmarks ?? 'ibug');
  }

  /** Registers points to track: canonical coordinates (metres); returns their ids. */
  registerPoints(canonical: readonly [number, number, number][]): number[] {
    const first = this.seeds.length;
    this.seeds.push(...canonical.map((c, i) => ({ id: first + i, canonical: c })));
    this.seeded = true;
    return canonical.map((_, i) => first + i);
  }

  async process(frame: DecodedFrame): Promise<FaceResult> {
    if (this.closed) throw new InvalidStateError('EngineSession is closed');
    if (this.busy) throw new InvalidStateError('EngineSession.process() called again before the previous frame finished');
    this.busy = true;
    try {
      return await this.step(frame);
    } finally {
      this.busy = false;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
  }

  private resetWindow(): void {
    this.state = this.client.createState();
    this.expression.restart();
  }

  private async runModel(pixels: FramePixels, placement: CropPlacement, K: FrameIntrinsics, state: StreamState, readExpression = false) {
    const S = placement.size;
    const t0 = performance.now();
    const input = cropToModelInput(pixels, placement);
    // the expression network's own crop: the same box, tighter, at its own size (the contract's expression_crop);
    // without it the model reads a grey one and gives no weights
    const ec = readExpression ? this.client.contract.expressionCrop : null;
    const expressionInput = ec ? cropToModelInput(pixels, new CropPlacement({ ...placement.box, side: placement.box.side * ec.scale }, ec.size)) : undefined;
    const t1 = performance.now();
    const out = await this.client.run(input, placement.focalPx(K.fx), state, expressionInput);
    const t2 = performance.now();
    const { mask, margin } = argmaxParts(out, S, this.client.contract.partNames.length);
    return { out, mask, certainty: faceCertainty(mask, margin), cropMs: t1 - t0, modelMs: t2 - t1, postMs: performance.now() - t2 };
  }

  /** One frame through the stages: face region → crop and model → face confirmed → lookups → pose → expression. */
  private async step(frame: DecodedFrame): Promise<FaceResult> {
    const start = performance.now();
    const { width: W, height: H } = frame.pixels;
    const K = frame.intrinsics ?? defaultIntrinsics(W, H);
    const S = this.client.contract.cropSize;
    const base = { frameId: frame.frameId, captureTimeMs: frame.captureTimeMs };
    this.cutIfNeeded(frame);

    const newFace = !this.box;
    const located = await this.locateFace(frame.pixels, K);
    // without the detector a followed face costs no detection: the mask placed its box
    const detectMs = newFace || this.options.detector !== false ? performance.now() - start : 0;
    if (!located) return { kind: 'noFace', ...base, reason: 'notFound' };

    const placement = new CropPlacement(located.box, S);
    const { out, mask, certainty, cropMs, modelMs, postMs } = await this.runModel(frame.pixels, placement, K, this.state, this.options.blendshapes !== false);
    const tPost = performance.now();
    // a shorter window: forget the cached frames beyond it (the graph's cost does not change)
    const window = this.options.window ?? this.client.contract.window;
    this.state.cacheValid.fill(0, 0, Math.max(0, this.client.contract.window - window));
    if (!this.confirmFace(located, placement, mask, certainty, newFace)) return { kind: 'noFace', ...base, reason: 'lost' };

    const index = canonicalIndexOf(out.canonical, mask, S);
    const tTrack = performance.now();
    const maxDist = this.options.maxLookupDistM ?? 0.01;
    const definition = this.template.landmarks[this.options.landmarks ?? 'ibug'];
    const landmarks = lookupLandmarks(index, definition.canonical, placement, maxDist);
    if (!this.seeded) this.seedPoints(out, mask, S);
    const points = lookupPoints(index, this.seeds, placement, out.confidence, this.options.minConfidence ?? 1.5, maxDist);

    const tFit = performance.now();
    const pose = poseFromMaps({ ...out, mask }, placement, K, this.template.rigidRegion);
    const blendshapes = this.options.blendshapes !== false ? this.expression.update(index, out.depth, placement, K, pose, out.expression) : null;
    completeLandmarks(landmarks, { model: definition.model, base: this.expression.landmarkBase, expression: blendshapes, pose, K, placement });
    const end = performance.now();
    return {
      kind: 'face',
      ...base,
      box: located.box,
      placement,
      intrinsics: K,
      maps: { size: S, depth: out.depth, canonical: out.canonical, confidence: out.confidence, mask },
      landmarks,
      points,
      pose,
      blendshapes,
      identity: this.expression.identity,
      timings: { detect: detectMs, crop: cropMs, model: modelMs, post: postMs + (tTrack - tPost), track: tFit - tTrack, fit: end - tFit, total: end - start },
    };
  }

  /**
   * A new frame size (the camera or the browser changed resolution mid-stream) is a cut, like the caller's flag:
   * the box is in the old frame's pixels, and the cached frames' per-pixel features would not line up.
   */
  private cutIfNeeded(frame: DecodedFrame): void {
    const { width: W, height: H } = frame.pixels;
    const resized = this.frameSize !== null && (this.frameSize.width !== W || this.frameSize.height !== H);
    this.frameSize = { width: W, height: H };
    if (frame.cut || resized) {
      this.box = null;
      this.resetWindow();
    }
  }

  /**
   * Where the face is in this frame: found in the whole frame (a new face: the window restarts), or followed from
   * the last frame's box (by the detector, or where the face model's mask put it). Null: no face found.
   */
  private async locateFace(pixels: FramePixels, K: FrameIntrinsics): Promise<{ box: CropBox; trusted: boolean } | null> {
    let located: { box: CropBox; trusted: boolean } | null;
    if (!this.box) {
      located = await this.findFace(pixels, K);
      if (!located) return null;
      this.resetWindow();
    } else if (this.options.detector !== false) {
      located = await this.followFace(pixels, this.box);
    } else {
      located = { box: this.box, trusted: this.boxTrusted };
    }
    this.box = located.box;
    return located;
  }

  /**
   * The face stays while a sure detection or the mask (certain enough, with enough face pixels) says it is there;
   * without the detector the mask also places the next frame's box. A new face from an unsure detection needs a
   * surer mask than one already followed: a dog's or a motorbike's front drew unsure detections that the tracking
   * threshold let through (bench real, face-free photos). False: the face is lost and the window restarts.
   */
  private confirmFace(located: { box: CropBox; trusted: boolean }, placement: CropPlacement, mask: Uint8Array, certainty: number, newFace: boolean): boolean {
    const byDetector = this.options.detector !== false;
    const needed = newFace && byDetector ? this.region.confirmCertainty : this.region.trackCertainty;
    const masked = certainty >= needed || located.trusted ? boxFromMask(mask, placement, this.region) : null;
    this.boxTrusted = false;
    if (!located.trusted && !masked) {
      this.box = null;
      this.resetWindow();
      return false;
    }
    if (!byDetector && masked) this.box = smoothBox(located.box, masked, this.region);
    return true;
  }

  /**
   * A face in the whole frame: the detector's best (trusted when sure), else the face model's own mask on the
   * letterboxed frame, else the caller's faceBox (trusted); null when there is none.
   */
  private async findFace(pixels: FramePixels, K: FrameIntrinsics): Promise<{ box: CropBox; trusted: boolean } | null> {
    if (this.options.detector !== false) {
      const { width: W, height: H } = pixels;
      const best = this.pickFace(await detectFaces(pixels, wholeFrameViews(W, H), (image) => this.client.detect(image)), null, pixels);
      if (best) return { box: cropBoxOf(best), trusted: best.score >= TRUSTED_DETECTION };
    } else {
      // the face model's own mask on the letterboxed frame: trained on renders only, it also finds faces in
      // coffee cups and motorcycles (bench real), so it is the detector only when the real-trained one is off
      const S = this.client.contract.cropSize;
      const whole = new CropPlacement(wholeFrameBox(pixels.width, pixels.height), S);
      const found = await this.runModel(pixels, whole, K, this.client.createState());
      const box = found.certainty >= this.region.detectCertainty ? boxFromMask(found.mask, whole, { ...this.region, minFacePixels: Math.max(24, this.region.minFacePixels / 2) }) : null;
      if (box) return { box, trusted: false };
    }
    return this.options.faceBox ? { box: this.options.faceBox, trusted: true } : null;
  }

  /**
   * The tracked face in this frame: the detection nearest the last box, in a view around it (a wider one when
   * the near view has none), the box following it (followBox: steady on a still face, no lag on a moving one).
   * With no detection the last box stays, and the face model's mask must confirm the face.
   */
  private async followFace(pixels: FramePixels, last: CropBox): Promise<{ box: CropBox; trusted: boolean }> {
    for (const view of aroundBoxViews(last)) {
      const near = this.pickFace(await detectFaces(pixels, [view], (image) => this.client.detect(image)), last, pixels);
      if (near) return { box: followBox(last, cropBoxOf(near)), trusted: near.score >= TRUSTED_DETECTION };
    }
    return { box: last, trusted: false };
  }

  /**
   * The detection to follow: near a tracked box, the one closest to it; otherwise the surest. Detections that
   * enclose a surer one (a false box around several faces) are skipped.
   */
  private pickFace(faces: readonly DetectedFace[], near: CropBox | null, frame: { width: number; height: number }): DetectedFace | null {
    const centre = (d: DetectedFace) => [(d.x0 + d.x1) / 2, (d.y0 + d.y1) / 2];
    const kept = faces.filter((d) => d.score >= MIN_DETECTION && !faces.some((e) => {
      const [x, y] = centre(e);
      return e !== d && e.score > d.score && x > d.x0 && x < d.x1 && y > d.y0 && y < d.y1 && (d.x1 - d.x0) > 1.4 * (e.x1 - e.x0);
    }));
    if (!near) {
      // a new face: of the sure ones the largest and most central (a portrait's subject rather than the face beside
      // it or at its edge), else the surest
      const weight = (d: DetectedFace) => {
        const dx = ((d.x0 + d.x1) / 2 - frame.width / 2) / frame.width, dy = ((d.y0 + d.y1) / 2 - frame.height / 2) / frame.height;
        return (d.x1 - d.x0) * (d.y1 - d.y0) * (1 - 1.2 * Math.hypot(dx, dy));
      };
      const sure = kept.filter((d) => d.score >= TRUSTED_DETECTION).sort((a, b) => weight(b) - weight(a));
      return sure[0] ?? kept[0] ?? null;
    }
    let best: DetectedFace | null = null, bestDist = near.side / 3;
    for (const d of kept) {
      const [x, y] = centre(d);
      const dist = Math.hypot(x - near.centerX, y - near.centerY);
      const size = Math.max(d.x1 - d.x0, d.y1 - d.y0) * 1.9;
      if (dist < bestDist && size > near.side / 2 && size < near.side * 2) (best = d), (bestDist = dist);
    }
    return best;
  }

  /** Default points: a grid over the face skin of the first face frame. */
  private seedPoints(out: StepOutputs, mask: Uint8Array, S: number): void {
    this.seeded = true;
    const stride = this.options.seedStridePx ?? 8;
    if (stride <= 0) return;
    const n = S * S;
    const seeds: [number, number, number][] = [];
    for (let y = stride >> 1; y < S; y += stride) for (let x = stride >> 1; x < S; x += stride) {
      const i = y * S + x;
      if (mask[i] === PartId.FACE_SKIN) seeds.push([out.canonical[i], out.canonical[n + i], out.canonical[2 * n + i]]);
    }
    this.registerPoints(seeds);
  }
}

/** The part mask (argmax of the logits) and, per pixel, the margin between the best and second-best logit. */
export function argmaxParts(out: StepOutputs, S: number, P: number): { mask: Uint8Array; margin: Float32Array } {
  const n = S * S;
  const mask = new Uint8Array(n), margin = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0, bv = out.parts[i], second = -Infinity;
    for (let p = 1; p < P; p++) {
      const v = out.parts[p * n + i];
      if (v > bv) (second = bv), (bv = v), (best = p);
      else if (v > second) second = v;
    }
    mask[i] = best;
    margin[i] = bv - second;
  }
  return { mask, margin };
}
