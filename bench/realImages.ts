/**
 * The model on real images (it was trained on renders only): face crops of photographs and of a video clip that
 * Debian packages ship, with the predicted mask, depth and canonical maps side by side in one PNG.
 *
 *   npm run bench -- real [--model models/facestream-small.onnx] [--out models/docs/real-images.png]
 *
 * Needs the Debian packages python3-skimage (astronaut.png, camera.png: NASA and MIT photographs, public
 * domain / free to use), opencv-doc (messi5.jpg, Megamind.avi: OpenCV sample data) and ffmpeg (video decode).
 * Face boxes are fixed here by hand; the crop's focal length assumes a 60° horizontal field of view.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { parseFlags } from '../server/cli/args.js';
import { CropPlacement } from '../shared/cropPlacement.js';
import { cropToModelInput, modelInputToRgb } from '../server/engine/crop.js';
import { argmaxParts } from '../server/engine/engine.js';
import { FaceModel, type StepOutputs } from '../server/engine/model/faceModel.js';
import { CANONICAL_NORMALIZATION } from '../shared/canonical.js';
import { hasCanonical } from '../shared/parts.js';
import { projectRoot } from '../shared/projectRoot.js';
import { MASK_COLORS } from '../server/synth/preview.js';

interface Source {
  readonly label: string;
  readonly file: string;
  readonly pkg: string;
  /** face box in source pixels: left, top, side */
  readonly box: [number, number, number];
  /** for videos: frames to show */
  readonly frames?: number[];
}

const SOURCES: Source[] = [
  { label: 'astronaut (NASA photo)', file: '/usr/lib/python3/dist-packages/skimage/data/astronaut.png', pkg: 'python3-skimage', box: [107, 2, 228] },
  { label: 'cameraman (profile)', file: '/usr/lib/python3/dist-packages/skimage/data/camera.png', pkg: 'python3-skimage', box: [150, 40, 170] },
  { label: 'football player (small face)', file: '/usr/share/doc/opencv-doc/examples/data/messi5.jpg', pkg: 'opencv-doc', box: [208, 80, 56] },
  { label: 'Megamind.avi (animated clip)', file: '/usr/share/doc/opencv-doc/examples/data/Megamind.avi', pkg: 'opencv-doc', box: [175, 85, 290], frames: [40, 80, 120] },
];

interface Rgb {
  width: number;
  height: number;
  data: Uint8Array;
}

function readImage(file: string): Rgb {
  const bytes = readFileSync(file);
  const img = /\.png$/i.test(file) ? PNG.sync.read(bytes) : jpeg.decode(bytes, { useTArray: true });
  const data = new Uint8Array(img.width * img.height * 3);
  for (let i = 0; i < img.width * img.height; i++) for (let k = 0; k < 3; k++) data[i * 3 + k] = img.data[i * 4 + k];
  return { width: img.width, height: img.height, data };
}

function readVideoFrames(file: string, wanted: number[]): { frames: Rgb[]; width: number } {
  const probe = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', file], { encoding: 'utf8' });
  if (probe.status !== 0) throw new Error(`ffprobe failed on ${file} (install Debian's ffmpeg): ${probe.stderr}`);
  const [width, height] = probe.stdout.trim().split(',').map(Number);
  const last = Math.max(...wanted);
  const raw = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-frames:v', String(last + 1), '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 30 });
  if (raw.status !== 0) throw new Error(`ffmpeg failed on ${file}: ${raw.stderr}`);
  const size = width * height * 3;
  const frames = Array.from({ length: Math.floor(raw.stdout.length / size) }, (_, i) => ({ width, height, data: new Uint8Array(raw.stdout.subarray(i * size, (i + 1) * size)) }));
  return { frames, width };
}

/** A square box [x0, y0, side] of the image as the model's input (the engine's crop) and as RGB bytes. */
function crop(img: Rgb, [x0, y0, side]: [number, number, number], S: number): { chw: Float32Array; rgb: Uint8Array } {
  const placement = new CropPlacement({ centerX: x0 + side / 2 - 0.5, centerY: y0 + side / 2 - 0.5, side }, S);
  const chw = cropToModelInput({ format: 'rgb', ...img }, placement);
  return { chw, rgb: modelInputToRgb(chw, S) };
}

function panels(rgb: Uint8Array, out: StepOutputs, S: number, P: number): Uint8Array[] {
  const n = S * S;
  const { mask } = argmaxParts(out, S, P);
  const m = new Uint8Array(n * 3), d = new Uint8Array(n * 3), c = new Uint8Array(n * 3);
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) if (hasCanonical(mask[i])) (lo = Math.min(lo, out.depth[i])), (hi = Math.max(hi, out.depth[i]));
  for (let i = 0; i < n; i++) {
    m.set(MASK_COLORS[mask[i]], i * 3);
    if (!hasCanonical(mask[i])) continue;
    const t = (out.depth[i] - lo) / Math.max(1e-6, hi - lo);
    d.set([Math.round(255 * (1 - t)), Math.round(120 + 80 * (1 - Math.abs(2 * t - 1))), Math.round(255 * t)], i * 3);
    for (let k = 0; k < 3; k++) {
      const v = (out.canonical[k * n + i] - CANONICAL_NORMALIZATION.centerM[k]) / CANONICAL_NORMALIZATION.halfExtentM;
      c[i * 3 + k] = Math.round(Math.min(1, Math.max(0, 0.5 + 0.7 * v)) * 255);
    }
  }
  return [rgb, m, d, c];
}

export async function benchReal(argv: string[]): Promise<void> {
  const v = parseFlags('bench real', argv, { model: { type: 'string' }, out: { type: 'string' } });
  const root = projectRoot();
  const model = await FaceModel.load((v.model as string) ?? join(root, 'models', 'facestream-small.onnx'));
  const out = (v.out as string) ?? join(root, 'models', 'docs', 'real-images.png');
  const S = model.contract.cropSize, P = model.contract.partNames.length;
  const rows: Uint8Array[][] = [];
  for (const src of SOURCES) {
    if (!existsSync(src.file)) throw new Error(`${src.file} not found: install the Debian package ${src.pkg}`);
    const state = model.createState();
    if (src.frames) {
      const { frames, width } = readVideoFrames(src.file, src.frames);
      const focal = (width / 2 / Math.tan(Math.PI / 6)) * (S / src.box[2]);
      // stream every frame up to the last one shown, so the window is full as it would be live
      for (let f = 0; f <= Math.max(...src.frames); f++) {
        const c = crop(frames[f], src.box, S);
        const o = await model.step(c.chw, focal, state);
        if (src.frames.includes(f)) rows.push(panels(c.rgb, o, S, P));
      }
    } else {
      const img = readImage(src.file);
      const focal = (img.width / 2 / Math.tan(Math.PI / 6)) * (S / src.box[2]);
      const c = crop(img, src.box, S);
      rows.push(panels(c.rgb, await model.step(c.chw, focal, state), S, P));
    }
    console.log(`${src.label}: done`);
  }
  await model.close();
  const gap = 2, cols = 4;
  const png = new PNG({ width: cols * S + (cols - 1) * gap, height: rows.length * S + (rows.length - 1) * gap });
  png.data.fill(255);
  rows.forEach((row, r) => row.forEach((panel, c) => {
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
      const o = ((r * (S + gap) + y) * png.width + c * (S + gap) + x) * 4;
      png.data[o] = panel[(y * S + x) * 3];
      png.data[o + 1] = panel[(y * S + x) * 3 + 1];
      png.data[o + 2] = panel[(y * S + x) * 3 + 2];
      png.data[o + 3] = 255;
    }
  }));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, PNG.sync.write(png));
  console.log(`wrote ${out} (rows: ${SOURCES.map((s) => s.label).join('; ')}; columns: crop | parts | depth | canonical)`);
}
