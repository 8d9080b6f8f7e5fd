/**
 * What a webcam does to a clean render: defocus blur, white balance and colour jitter, sensor noise (read and
 * shot noise), 8-bit quantization and JPEG-like block compression (YCbCr 4:2:0, 8x8 DCT quantized with the
 * standard tables at a chosen quality). Applied to the RGB image only; the ground-truth maps stay exact.
 */
import { Rng } from './random.js';

/** Standard normal samples, read at a random offset and stride per frame: sensor noise without a log and a
 * cosine per pixel. */
const GAUSS_BITS = 16;
const GAUSS_TABLE = (() => {
  const rng = new Rng('sensor-noise-table');
  return Float32Array.from({ length: 1 << GAUSS_BITS }, () => rng.gaussian());
})();

export interface CameraEffects {
  /** gaussian blur sigma, pixels (0: none) */
  readonly blurSigma: number;
  /** per-channel gains (white balance error) */
  readonly gains: [number, number, number];
  readonly contrast: number;
  readonly saturation: number;
  /** std of additive read noise, in [0,1] units */
  readonly readNoise: number;
  /** shot noise scale: std = shotNoise * sqrt(value) */
  readonly shotNoise: number;
  /** JPEG quality 1..100, or 0 for no compression */
  readonly jpegQuality: number;
}

export function sampleCameraEffects(rng: Rng): CameraEffects {
  return {
    blurSigma: rng.chance(0.45) ? rng.uniform(0.3, 1.3) : 0,
    gains: [rng.uniform(0.88, 1.12), rng.uniform(0.92, 1.08), rng.uniform(0.85, 1.15)],
    contrast: rng.uniform(0.85, 1.15),
    saturation: rng.uniform(0.7, 1.25),
    readNoise: rng.uniform(0.002, 0.025),
    shotNoise: rng.uniform(0, 0.03),
    jpegQuality: rng.chance(0.55) ? rng.int(35, 95) : 0,
  };
}

function gaussianKernel(sigma: number): Float32Array {
  const r = Math.max(1, Math.ceil(sigma * 2.5));
  const k = new Float32Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) s += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= s;
  return k;
}

/** One 1D pass of a blur along x (dx = 1) or y (dx = 0), clamping at the edges. */
function blurPass(src: Float32Array, dst: Float32Array, W: number, H: number, k: Float32Array, alongX: boolean): void {
  const r = (k.length - 1) / 2;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let a = 0, b = 0, c = 0;
      for (let i = -r; i <= r; i++) {
        const o = alongX ? (y * W + Math.min(W - 1, Math.max(0, x + i))) * 3 : (Math.min(H - 1, Math.max(0, y + i)) * W + x) * 3;
        const w = k[i + r];
        a += src[o] * w;
        b += src[o + 1] * w;
        c += src[o + 2] * w;
      }
      const o = (y * W + x) * 3;
      dst[o] = a;
      dst[o + 1] = b;
      dst[o + 2] = c;
    }
  }
}

/** Separable gaussian blur of an [H*W*3] image, in place. */
export function blurRgb(img: Float32Array, W: number, H: number, sigma: number): void {
  const k = gaussianKernel(sigma);
  const tmp = new Float32Array(img.length);
  blurPass(img, tmp, W, H, k, true);
  blurPass(tmp, img, W, H, k, false);
}

const LUMA_Q = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
  18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const CHROMA_Q = [
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
  99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

function scaledTable(base: number[], quality: number): Float32Array {
  const q = Math.min(100, Math.max(1, quality));
  const s = q < 50 ? 5000 / q : 200 - 2 * q;
  return Float32Array.from(base, (b) => Math.min(255, Math.max(1, Math.floor((b * s + 50) / 100))));
}

/** DCT-II basis: COS[u*8 + x] = c(u)/2 * cos((2x+1)uπ/16) */
const COS = new Float32Array(64);
for (let u = 0; u < 8; u++) for (let x = 0; x < 8; x++) COS[u * 8 + x] = (u === 0 ? Math.SQRT1_2 : 1) * 0.5 * Math.cos(((2 * x + 1) * u * Math.PI) / 16);

/** Forward DCT, quantize, dequantize and inverse DCT of every 8x8 block of a plane (values 0..255), in place. */
function compressPlane(plane: Float32Array, W: number, H: number, table: Float32Array): void {
  const block = new Float32Array(64), tmp = new Float32Array(64), coef = new Float32Array(64);
  for (let by = 0; by < H; by += 8) {
    for (let bx = 0; bx < W; bx += 8) {
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) block[y * 8 + x] = plane[Math.min(H - 1, by + y) * W + Math.min(W - 1, bx + x)] - 128;
      }
      // rows then columns
      for (let y = 0; y < 8; y++) for (let u = 0; u < 8; u++) {
        let s = 0;
        for (let x = 0; x < 8; x++) s += COS[u * 8 + x] * block[y * 8 + x];
        tmp[y * 8 + u] = s;
      }
      for (let v = 0; v < 8; v++) for (let u = 0; u < 8; u++) {
        let s = 0;
        for (let y = 0; y < 8; y++) s += COS[v * 8 + y] * tmp[y * 8 + u];
        const q = table[v * 8 + u];
        coef[v * 8 + u] = Math.round(s / q) * q;
      }
      for (let v = 0; v < 8; v++) for (let x = 0; x < 8; x++) {
        let s = 0;
        for (let u = 0; u < 8; u++) s += COS[u * 8 + x] * coef[v * 8 + u];
        tmp[v * 8 + x] = s;
      }
      for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) {
        let s = 0;
        for (let v = 0; v < 8; v++) s += COS[v * 8 + y] * tmp[v * 8 + x];
        const yy = by + y, xx = bx + x;
        if (yy < H && xx < W) plane[yy * W + xx] = s + 128;
      }
    }
  }
}

/** JPEG round trip of an 8-bit RGB image (BT.601 full-range YCbCr, 4:2:0), in place. */
export function jpegRoundTrip(rgb: Uint8Array, W: number, H: number, quality: number): void {
  const Y = new Float32Array(W * H);
  const w2 = (W + 1) >> 1, h2 = (H + 1) >> 1;
  const Cb = new Float32Array(w2 * h2), Cr = new Float32Array(w2 * h2);
  const cnt = new Float32Array(w2 * h2);
  for (let i = 0, p = 0; i < W * H; i++, p += 3) {
    const r = rgb[p], g = rgb[p + 1], b = rgb[p + 2];
    Y[i] = 0.299 * r + 0.587 * g + 0.114 * b;
    const c = ((i / W) >> 1) * w2 + ((i % W) >> 1);
    Cb[c] += 128 - 0.168736 * r - 0.331264 * g + 0.5 * b;
    Cr[c] += 128 + 0.5 * r - 0.418688 * g - 0.081312 * b;
    cnt[c]++;
  }
  for (let c = 0; c < cnt.length; c++) {
    Cb[c] /= cnt[c];
    Cr[c] /= cnt[c];
  }
  compressPlane(Y, W, H, scaledTable(LUMA_Q, quality));
  const cq = scaledTable(CHROMA_Q, quality);
  compressPlane(Cb, w2, h2, cq);
  compressPlane(Cr, w2, h2, cq);
  for (let i = 0, p = 0; i < W * H; i++, p += 3) {
    const c = ((i / W) >> 1) * w2 + ((i % W) >> 1);
    const y = Y[i], cb = Cb[c] - 128, cr = Cr[c] - 128;
    rgb[p] = Math.max(0, Math.min(255, Math.round(y + 1.402 * cr)));
    rgb[p + 1] = Math.max(0, Math.min(255, Math.round(y - 0.344136 * cb - 0.714136 * cr)));
    rgb[p + 2] = Math.max(0, Math.min(255, Math.round(y + 1.772 * cb)));
  }
}

/** Applies the effects to an sRGB [0,1] image and returns the 8-bit result. `rng` drives the noise. */
export function applyCameraEffects(img: Float32Array, W: number, H: number, fx: CameraEffects, rng: Rng): Uint8Array {
  if (fx.blurSigma > 0) blurRgb(img, W, H, fx.blurSigma);
  const out = new Uint8Array(W * H * 3);
  const [gr, gg, gb] = fx.gains;
  const sat = fx.saturation, con = fx.contrast, read = fx.readNoise, shot = fx.shotNoise;
  const mask = (1 << GAUSS_BITS) - 1;
  let j = rng.nextU32() & mask;
  const stride = (rng.nextU32() & mask) | 1;
  const finish = (v: number): number => {
    const c = v < 0 ? 0 : v;
    j = (j + stride) & mask;
    const n = c + GAUSS_TABLE[j] * (read + shot * Math.sqrt(c));
    return n <= 0 ? 0 : n >= 1 ? 255 : Math.round(n * 255);
  };
  for (let p = 0; p < W * H * 3; p += 3) {
    const r = img[p] * gr, g = img[p + 1] * gg, b = img[p + 2] * gb;
    const l = 0.299 * r + 0.587 * g + 0.114 * b;
    out[p] = finish(0.5 + (l + (r - l) * sat - 0.5) * con);
    out[p + 1] = finish(0.5 + (l + (g - l) * sat - 0.5) * con);
    out[p + 2] = finish(0.5 + (l + (b - l) * sat - 0.5) * con);
  }
  if (fx.jpegQuality > 0) jpegRoundTrip(out, W, H, fx.jpegQuality);
  return out;
}
