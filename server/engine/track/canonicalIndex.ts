/**
 * Finds a canonical coordinate in a predicted canonical map: the core of dense tracking by lookup (a point is
 * found in any frame by searching for its canonical coordinate; no flow chaining, no drift).
 *
 * A uniform 3D grid over the canonical coordinates of the valid pixels (counting-sort build, O(pixels)); a query
 * visits cells in growing shells around the target until no unvisited cell can hold a nearer pixel, then refines
 * the best pixel to sub-pixel precision with one Gauss-Newton step on the map's local Jacobian.
 */

export interface CanonicalMatch {
  /** crop pixel coordinates (centres at integers), sub-pixel */
  readonly x: number;
  readonly y: number;
  /** distance from the target to the nearest pixel's canonical coordinate, metres */
  readonly distM: number;
  /** index of the nearest pixel (y * size + x) */
  readonly pixel: number;
}

const HASH_BITS = 14;

export class CanonicalIndex {
  private constructor(
    private readonly canonical: Float32Array,
    private readonly size: number,
    private readonly valid: Uint8Array,
    private readonly cellM: number,
    /** CSR: pixels of hash bucket b are order[start[b] .. start[b+1]) */
    private readonly start: Int32Array,
    private readonly order: Int32Array,
    private readonly count: number,
  ) {}

  /**
   * canonical: [3*S*S] channels first, metres; valid: [S*S] 1 where the pixel shows template surface.
   * cellM: grid cell size (a few pixels' footprint on the face works best).
   */
  static build(canonical: Float32Array, size: number, valid: Uint8Array, cellM = 0.004): CanonicalIndex {
    const n = size * size;
    if (canonical.length !== 3 * n || valid.length !== n) throw new RangeError(`CanonicalIndex.build: expected [3*${size}*${size}] and [${size}*${size}]`);
    const buckets = 1 << HASH_BITS;
    const start = new Int32Array(buckets + 1);
    const key = new Int32Array(n).fill(-1);
    let count = 0;
    for (let i = 0; i < n; i++) {
      if (!valid[i]) continue;
      const k = hashCell(cellOf(canonical[i], cellM), cellOf(canonical[n + i], cellM), cellOf(canonical[2 * n + i], cellM));
      key[i] = k;
      start[k + 1]++;
      count++;
    }
    for (let b = 0; b < buckets; b++) start[b + 1] += start[b];
    const fill = start.slice(0, buckets);
    const order = new Int32Array(count);
    for (let i = 0; i < n; i++) if (key[i] >= 0) order[fill[key[i]]++] = i;
    return new CanonicalIndex(canonical, size, valid, cellM, start, order, count);
  }

  get pixelCount(): number {
    return this.count;
  }

  /** The valid pixel whose canonical coordinate is nearest to (cx, cy, cz), within maxDistM; null if none. */
  nearest(cx: number, cy: number, cz: number, maxDistM = Infinity): { pixel: number; distM: number } | null {
    if (this.count === 0) return null;
    const { canonical: C, cellM, start, order } = this;
    const n = this.size * this.size;
    const ix = cellOf(cx, cellM), iy = cellOf(cy, cellM), iz = cellOf(cz, cellM);
    let best = -1, bestD2 = Infinity;
    for (let r = 0; r <= MAX_SHELL; r++) {
      // every pixel in shell r is at least (r - 1) cells away from the target
      const reach = Math.max(0, r - 1) * cellM;
      if (reach > maxDistM || (best >= 0 && reach * reach > bestD2)) break;
      const shell = shellOffsets(r);
      for (let c = 0; c < shell.length; c += 3) {
        const b = hashCell(ix + shell[c], iy + shell[c + 1], iz + shell[c + 2]);
        for (let k = start[b]; k < start[b + 1]; k++) {
          const i = order[k];
          const ex = C[i] - cx, ey = C[n + i] - cy, ez = C[2 * n + i] - cz;
          const d2 = ex * ex + ey * ey + ez * ez;
          if (d2 < bestD2) (bestD2 = d2), (best = i);
        }
      }
    }
    const distM = Math.sqrt(bestD2);
    return best >= 0 && distM <= maxDistM ? { pixel: best, distM } : null;
  }

  /** nearest() refined to sub-pixel precision (at most one pixel from the nearest pixel). */
  locate(cx: number, cy: number, cz: number, maxDistM = Infinity): CanonicalMatch | null {
    const hit = this.nearest(cx, cy, cz, maxDistM);
    if (!hit) return null;
    const S = this.size, n = S * S, C = this.canonical;
    const x = hit.pixel % S, y = Math.floor(hit.pixel / S);
    // central differences where both neighbours are valid, else one-sided
    const grad = (k: number, ox: number, oy: number): number => {
      const at = (xx: number, yy: number) => (xx >= 0 && yy >= 0 && xx < S && yy < S && this.valid[yy * S + xx] ? C[k * n + yy * S + xx] : NaN);
      const plus = at(x + ox, y + oy), minus = at(x - ox, y - oy), mid = C[k * n + hit.pixel];
      if (!Number.isNaN(plus) && !Number.isNaN(minus)) return (plus - minus) / 2;
      if (!Number.isNaN(plus)) return plus - mid;
      if (!Number.isNaN(minus)) return mid - minus;
      return 0;
    };
    const target = [cx, cy, cz];
    let a11 = 0, a12 = 0, a22 = 0, b1 = 0, b2 = 0;
    for (let k = 0; k < 3; k++) {
      const jx = grad(k, 1, 0), jy = grad(k, 0, 1);
      const r = target[k] - C[k * n + hit.pixel];
      a11 += jx * jx;
      a12 += jx * jy;
      a22 += jy * jy;
      b1 += jx * r;
      b2 += jy * r;
    }
    const det = a11 * a22 - a12 * a12;
    let ox = 0, oy = 0;
    if (det > 1e-18) {
      ox = Math.max(-1, Math.min(1, (a22 * b1 - a12 * b2) / det));
      oy = Math.max(-1, Math.min(1, (a11 * b2 - a12 * b1) / det));
    }
    return { x: x + ox, y: y + oy, distM: hit.distM, pixel: hit.pixel };
  }
}

/** an unbounded query gives up this many cells out (25 cm at the default cell: the whole canonical space) */
const MAX_SHELL = 64;
const shells: Int8Array[] = [];

/** The cells at Chebyshev distance r from the origin, as (dx, dy, dz) triples; computed once per r. */
function shellOffsets(r: number): Int8Array {
  let shell = shells[r];
  if (!shell) {
    const out: number[] = [];
    for (let dx = -r; dx <= r; dx++) for (let dy = -r; dy <= r; dy++) for (let dz = -r; dz <= r; dz++) {
      if (Math.max(Math.abs(dx), Math.abs(dy), Math.abs(dz)) === r) out.push(dx, dy, dz);
    }
    shell = shells[r] = Int8Array.from(out);
  }
  return shell;
}

function cellOf(v: number, cellM: number): number {
  return Math.floor(v / cellM);
}

/** Spatial hash of a cell (large primes, xor-folded to HASH_BITS). */
function hashCell(x: number, y: number, z: number): number {
  const h = Math.imul(x, 73856093) ^ Math.imul(y, 19349663) ^ Math.imul(z, 83492791);
  return (h ^ (h >>> HASH_BITS) ^ (h >>> (2 * HASH_BITS))) & ((1 << HASH_BITS) - 1);
}
