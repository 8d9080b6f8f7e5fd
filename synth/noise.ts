/** Seeded 3D value noise and fractal sums of it: the procedural textures' only source of detail. */
import type { Rng } from './random.js';

export class ValueNoise3 {
  private readonly perm: Uint8Array;
  private readonly values: Float32Array;

  constructor(rng: Rng) {
    this.perm = new Uint8Array(512);
    const p = Array.from({ length: 256 }, (_, i) => i);
    rng.shuffle(p);
    for (let i = 0; i < 512; i++) this.perm[i] = p[i & 255];
    this.values = new Float32Array(256);
    for (let i = 0; i < 256; i++) this.values[i] = rng.next() * 2 - 1;
  }

  private lattice(x: number, y: number, z: number): number {
    const P = this.perm;
    return this.values[P[P[P[x & 255] + (y & 255)] + (z & 255)]];
  }

  /** smooth noise in [-1, 1], unit feature size */
  at(x: number, y: number, z: number): number {
    const xi = Math.floor(x), yi = Math.floor(y), zi = Math.floor(z);
    const fx = x - xi, fy = y - yi, fz = z - zi;
    const u = fx * fx * (3 - 2 * fx), v = fy * fy * (3 - 2 * fy), w = fz * fz * (3 - 2 * fz);
    const c000 = this.lattice(xi, yi, zi), c100 = this.lattice(xi + 1, yi, zi);
    const c010 = this.lattice(xi, yi + 1, zi), c110 = this.lattice(xi + 1, yi + 1, zi);
    const c001 = this.lattice(xi, yi, zi + 1), c101 = this.lattice(xi + 1, yi, zi + 1);
    const c011 = this.lattice(xi, yi + 1, zi + 1), c111 = this.lattice(xi + 1, yi + 1, zi + 1);
    const x00 = c000 + u * (c100 - c000), x10 = c010 + u * (c110 - c010);
    const x01 = c001 + u * (c101 - c001), x11 = c011 + u * (c111 - c011);
    const y0 = x00 + v * (x10 - x00), y1 = x01 + v * (x11 - x01);
    return y0 + w * (y1 - y0);
  }

  /** fractal sum of `octaves` octaves, each twice the frequency and half the amplitude; about [-1, 1] */
  fbm(x: number, y: number, z: number, octaves: number): number {
    let sum = 0, amp = 0.5, norm = 0, f = 1;
    for (let o = 0; o < octaves; o++) {
      sum += amp * this.at(x * f + o * 17.1, y * f + o * 31.7, z * f + o * 7.3);
      norm += amp;
      amp *= 0.5;
      f *= 2;
    }
    return sum / norm;
  }
}

export function smoothstep(e0: number, e1: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - e0) / (e1 - e0)));
  return t * t * (3 - 2 * t);
}

export function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}
