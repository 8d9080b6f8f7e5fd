/**
 * Backgrounds: procedural textures (gradients, noise clouds, stripes and checkers, a room of flat walls, bokeh
 * discs) and, where Debian's package mate-backgrounds is installed, crops of its nature photographs
 * (/usr/share/backgrounds/mate/nature, GPL-2+, read at generation time and never copied into the project).
 * FACELIVE_BACKGROUNDS=<folder of .jpg/.png> points elsewhere; FACELIVE_BACKGROUNDS=none turns photographs off.
 * Photographs are split between train, val and test by their file name (splits.ts), so the test split's
 * photographs never appear in training data.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { ValueNoise3, clamp01, smoothstep } from './noise.js';
import type { Rng } from './random.js';
import { assetSplit, type Split } from './splits.js';

export const DEFAULT_PHOTO_DIR = '/usr/share/backgrounds/mate/nature';
export const PHOTO_DIR_ENV = 'FACELIVE_BACKGROUNDS';

/** An sRGB image in [0, 1], [H*W*3], larger than the frame so that camera shake can shift it. */
export interface Background {
  readonly width: number;
  readonly height: number;
  readonly pixels: Float32Array;
  /** 'procedural:<style>' or 'photo:<file name>' */
  readonly source: string;
}

interface Photo {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  /** sRGB [0,1] */
  readonly pixels: Float32Array;
}

export function photoDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const v = env[PHOTO_DIR_ENV];
  if (v === 'none') return null;
  return v || DEFAULT_PHOTO_DIR;
}

/** Names of the photographs available to a split (sorted, so the choice is stable). */
export function listPhotos(split: Split, dir: string | null = photoDir()): string[] {
  if (!dir || !existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.(jpe?g|png)$/i.test(f))
    .filter((f) => assetSplit('photo', f) === split)
    .sort();
}

const photoCache = new Map<string, Photo>();
const MAX_PHOTO_SIDE = 720;

function loadPhoto(dir: string, name: string): Photo {
  const key = join(dir, name);
  const hit = photoCache.get(key);
  if (hit) return hit;
  const bytes = readFileSync(key);
  const img = /\.png$/i.test(name) ? PNG.sync.read(bytes) : jpeg.decode(bytes, { useTArray: true, maxMemoryUsageInMB: 1024 });
  const { width: w, height: h } = img;
  const data = img.data as Uint8Array;
  // box-downscale so that crops are cheap and the photo's own noise does not dominate
  const f = Math.max(1, Math.ceil(Math.max(w, h) / MAX_PHOTO_SIDE));
  const W = Math.floor(w / f), H = Math.floor(h / f);
  const pixels = new Float32Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let k = 0; k < 3; k++) {
        let s = 0;
        for (let dy = 0; dy < f; dy++) for (let dx = 0; dx < f; dx++) s += data[((y * f + dy) * w + x * f + dx) * 4 + k];
        pixels[(y * W + x) * 3 + k] = s / (f * f * 255);
      }
    }
  }
  const photo = { name, width: W, height: H, pixels };
  photoCache.set(key, photo);
  return photo;
}

function photoBackground(rng: Rng, photo: Photo, W: number, H: number): Float32Array {
  const out = new Float32Array(W * H * 3);
  const scale = rng.uniform(0.35, 1) * Math.min(photo.width / W, photo.height / H);
  const x0 = rng.uniform(0, photo.width - W * scale), y0 = rng.uniform(0, photo.height - H * scale);
  const flip = rng.chance(0.5);
  const gain = rng.uniform(0.6, 1.1);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const xs = x0 + (flip ? W - 1 - x : x) * scale, ys = y0 + y * scale;
      const xi = Math.min(photo.width - 2, Math.max(0, Math.floor(xs))), yi = Math.min(photo.height - 2, Math.max(0, Math.floor(ys)));
      const fx = xs - xi, fy = ys - yi;
      for (let k = 0; k < 3; k++) {
        const p = photo.pixels;
        const a = p[(yi * photo.width + xi) * 3 + k], b = p[(yi * photo.width + xi + 1) * 3 + k];
        const c = p[((yi + 1) * photo.width + xi) * 3 + k], d = p[((yi + 1) * photo.width + xi + 1) * 3 + k];
        out[(y * W + x) * 3 + k] = clamp01(((a + (b - a) * fx) * (1 - fy) + (c + (d - c) * fx) * fy) * gain);
      }
    }
  }
  return out;
}

const randomColor = (rng: Rng): [number, number, number] => [rng.next(), rng.next(), rng.next()];

type Style = 'gradient' | 'clouds' | 'stripes' | 'checker' | 'room' | 'bokeh';
const STYLES: Style[] = ['gradient', 'clouds', 'stripes', 'checker', 'room', 'bokeh'];

function proceduralBackground(rng: Rng, style: Style, W: number, H: number): Float32Array {
  const out = new Float32Array(W * H * 3);
  const noise = new ValueNoise3(rng);
  const c1 = randomColor(rng), c2 = randomColor(rng), c3 = randomColor(rng);
  const angle = rng.uniform(0, Math.PI);
  const ca = Math.cos(angle), sa = Math.sin(angle);
  const freq = rng.uniform(3, 14) / W;
  const grain = rng.uniform(0, 0.05);
  const rects = Array.from({ length: rng.int(3, 7) }, () => ({
    x0: rng.uniform(-0.2, 1) * W, y0: rng.uniform(-0.2, 1) * H, w: rng.uniform(0.15, 0.7) * W, h: rng.uniform(0.15, 0.9) * H,
    c: randomColor(rng).map((v) => v * 0.8 + 0.1),
  }));
  const discs = Array.from({ length: rng.int(6, 20) }, () => ({
    x: rng.uniform(0, W), y: rng.uniform(0, H), r: rng.uniform(0.03, 0.15) * W, c: randomColor(rng), a: rng.uniform(0.2, 0.7),
  }));
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const u = x / W, v = y / H;
      let c: number[];
      switch (style) {
        case 'gradient': {
          const t = clamp01(0.5 + (u - 0.5) * ca + (v - 0.5) * sa + 0.15 * noise.fbm(u * 3, v * 3, 0.5, 3));
          c = [0, 1, 2].map((k) => c1[k] + (c2[k] - c1[k]) * t);
          break;
        }
        case 'clouds': {
          const n1 = 0.5 + 0.5 * noise.fbm(u * 4, v * 4, 1.5, 5), n2 = 0.5 + 0.5 * noise.fbm(u * 6 + 9, v * 6, 3.5, 4);
          c = [0, 1, 2].map((k) => c1[k] * n1 + c2[k] * (1 - n1) * 0.8 + c3[k] * n2 * 0.3);
          break;
        }
        case 'stripes': {
          const s = Math.sin((x * ca + y * sa) * freq * Math.PI * 2) > 0 ? 1 : 0;
          c = [0, 1, 2].map((k) => (s ? c1[k] : c2[k]) * (0.85 + 0.15 * noise.at(u * 8, v * 8, 2)));
          break;
        }
        case 'checker': {
          const xr = x * ca + y * sa, yr = -x * sa + y * ca;
          const s = (Math.floor(xr * freq) + Math.floor(yr * freq)) & 1;
          c = [0, 1, 2].map((k) => (s ? c1[k] : c2[k]));
          break;
        }
        case 'room': {
          c = [0, 1, 2].map((k) => c1[k] * (0.7 + 0.3 * v));
          for (const r of rects) {
            if (x >= r.x0 && x < r.x0 + r.w && y >= r.y0 && y < r.y0 + r.h) c = [0, 1, 2].map((k) => r.c[k] * (0.85 + 0.15 * (1 - v)));
          }
          break;
        }
        case 'bokeh': {
          c = [0, 1, 2].map((k) => c1[k] * 0.35);
          for (const d of discs) {
            const e = 1 - smoothstep(d.r * 0.85, d.r, Math.hypot(x - d.x, y - d.y));
            if (e > 0) c = [0, 1, 2].map((k) => c[k] + (d.c[k] - c[k]) * e * d.a);
          }
          break;
        }
      }
      const g = grain * noise.at(x * 0.9, y * 0.9, 7);
      for (let k = 0; k < 3; k++) out[(y * W + x) * 3 + k] = clamp01(c[k] + g);
    }
  }
  return out;
}

/** A background for a frame of W x H pixels plus `margin` on every side. */
export function sampleBackground(rng: Rng, split: Split, W: number, H: number, margin: number): Background {
  const w = W + 2 * margin, h = H + 2 * margin;
  const dir = photoDir();
  const photos = listPhotos(split, dir);
  if (dir && photos.length > 0 && rng.chance(0.45)) {
    const name = rng.pick(photos);
    return { width: w, height: h, pixels: photoBackground(rng, loadPhoto(dir, name), w, h), source: `photo:${name}` };
  }
  const style = rng.pick(STYLES);
  return { width: w, height: h, pixels: proceduralBackground(rng, style, w, h), source: `procedural:${style}` };
}
