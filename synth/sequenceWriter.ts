/**
 * Writes one rendered sequence to a folder: rgb/NNNNNN.png, depth.npy, canonical.npy, mask.npy, landmarks.npy,
 * camera.json, video.y4m, and optionally triangle.npy + barycentric.npy and preview.png. Arrays are streamed
 * frame by frame (a 300-frame 256² sequence would need ~300 MB in memory otherwise).
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { InvalidStateError } from '../shared/errors.js';
import { dtypeOf, npyHeader, type NpyArray, type NpyDtype } from '../shared/io/npy.js';
import { y4mFrame, y4mHeader } from '../shared/io/y4m.js';
import { EXPRESSION_NAMES } from './expressionTimeline.js';
import { renderPreview } from '../node/images/mapsPreview.js';
import { identityWeights, type RenderedFrame, type SequenceRenderer } from './sequence.js';

class NpyFileWriter {
  private readonly fd: number;
  private written = 0;
  private readonly expected: number;

  constructor(
    readonly path: string,
    private readonly dtype: NpyDtype,
    shape: number[],
  ) {
    this.fd = openSync(path, 'w');
    this.expected = shape.reduce((a, b) => a * b, 1);
    writeSync(this.fd, npyHeader(dtype, shape));
  }

  append(chunk: NpyArray): void {
    if (dtypeOf(chunk) !== this.dtype) throw new InvalidStateError(`${this.path}: chunk dtype ${dtypeOf(chunk)} != ${this.dtype}`);
    writeSync(this.fd, new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.written += chunk.length;
  }

  close(): void {
    closeSync(this.fd);
    if (this.written !== this.expected) throw new InvalidStateError(`${this.path}: wrote ${this.written} values, header says ${this.expected}`);
  }
}

export interface WriteOptions {
  /** also write triangle.npy and barycentric.npy */
  readonly raster: boolean;
  /** also write preview.png (a few frames: RGB | depth | canonical | mask | landmarks) */
  readonly preview: boolean;
}

export function pngBytes(rgb: Uint8Array, width: number, height: number): Buffer {
  const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength);
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false, deflateLevel: 6 });
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/**
 * Renders every frame of `renderer` into `dir` (which must be new). `shouldStop` is polled between frames;
 * returns false if it stopped early (the folder is then incomplete and the caller removes it).
 */
export async function writeSequence(
  renderer: SequenceRenderer,
  dir: string,
  options: WriteOptions,
  onFrame: (frame: number) => void,
  shouldStop: () => boolean,
): Promise<boolean> {
  const plan = renderer.plan;
  const { frames: T, size: S, fps } = plan.spec;
  mkdirSync(join(dir, 'rgb'), { recursive: true });
  const depth = new NpyFileWriter(join(dir, 'depth.npy'), '<f4', [T, S, S]);
  const canonical = new NpyFileWriter(join(dir, 'canonical.npy'), '<f4', [T, S, S, 3]);
  const mask = new NpyFileWriter(join(dir, 'mask.npy'), '|u1', [T, S, S]);
  const landmarks = new NpyFileWriter(join(dir, 'landmarks.npy'), '<f4', [T, 68, 3]);
  const triangle = options.raster ? new NpyFileWriter(join(dir, 'triangle.npy'), '<i4', [T, S, S]) : null;
  const bary = options.raster ? new NpyFileWriter(join(dir, 'barycentric.npy'), '<f4', [T, S, S, 3]) : null;
  const video = openSync(join(dir, 'video.y4m'), 'w');
  writeSync(video, y4mHeader(S, S, fps));
  const writers = [depth, canonical, mask, landmarks, triangle, bary].filter((w): w is NpyFileWriter => w !== null);
  const perFrame: object[] = [];
  const previewAt = new Set(options.preview ? [0, Math.floor(T / 3), Math.floor((2 * T) / 3), T - 1] : []);
  const previewFrames: RenderedFrame[] = [];
  let complete = false;
  try {
    for (let f = 0; f < T; f++) {
      if (shouldStop()) return false;
      const r = renderer.render(f);
      writeFileSync(join(dir, 'rgb', `${String(f).padStart(6, '0')}.png`), pngBytes(r.rgb, S, S));
      depth.append(r.depth);
      canonical.append(r.canonical);
      mask.append(r.mask);
      landmarks.append(r.landmarks);
      triangle?.append(r.triangle);
      bary?.append(r.barycentric);
      writeSync(video, y4mFrame(r.rgb, S, S));
      perFrame.push({
        segment: r.segmentIndex,
        rotation: Array.from(r.pose.rotation, round6),
        translation_m: Array.from(r.pose.translationM, round6),
        expression: Array.from(r.expression, round6),
      });
      if (previewAt.has(f)) previewFrames.push(r);
      onFrame(f);
      // let signal handlers (Ctrl-C) run between frames
      await new Promise((resolve) => setImmediate(resolve));
    }
    complete = true;
  } finally {
    closeSync(video);
    for (const w of writers) {
      try {
        w.close();
      } catch (e) {
        if (complete) throw e;
      }
    }
  }
  const K = plan.intrinsics;
  const camera = {
    width: S,
    height: S,
    fx: K.fx,
    fy: K.fy,
    cx: K.cx,
    cy: K.cy,
    fov_x_deg: plan.fovDeg,
    fps,
    conventions: {
      camera: 'OpenCV: x right, y down, z forward, metres; pixel centres at integer coordinates',
      pose: 'X_camera = rotation (3x3, row-major) * X_head + translation_m; head frame = canonical/template frame',
      depth: 'metres along the camera z axis; 0 = no surface',
    },
    cuts: plan.cuts,
    segments: plan.segments.map((s, i) => ({
      start_frame: s.startFrame,
      end_frame: s.endFrame,
      identity_asset: s.identity,
      appearance_asset: s.appearance,
      lighting_asset: s.lighting,
      background_asset: s.background,
      background: renderer.backgroundSource(i) ?? null,
      identity_weights: Array.from(identityWeights(s.identity), round6),
    })),
    performance_asset: plan.performance,
    expression_names: EXPRESSION_NAMES,
    frames: perFrame,
  };
  writeFileSync(join(dir, 'camera.json'), JSON.stringify(camera));
  if (options.preview) writeFileSync(join(dir, 'preview.png'), renderPreview(previewFrames));
  return true;
}
