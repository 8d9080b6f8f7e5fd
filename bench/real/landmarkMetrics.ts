/**
 * How two sets of 68 landmarks (iBUG/Multi-PIE order) compare: NME (mean point distance over the reference's
 * outer-eye-corner distance, the 300-W convention's "inter-ocular"), by face region; frame-to-frame motion of a
 * landmark track; the lag between two tracks. Pure functions over [68*stride] arrays (x, y first).
 */

export const REGIONS = { jaw: [0, 17], brows: [17, 27], nose: [27, 36], eyes: [36, 48], mouth: [48, 68] } as const;
export type Region = keyof typeof REGIONS;

export interface Nme {
  readonly all: number;
  readonly regions: Record<Region, number>;
}

/** Outer eye corners (36, 45) apart, pixels. */
export function interOcular(ref: ArrayLike<number>, stride = 2): number {
  return Math.hypot(ref[36 * stride] - ref[45 * stride], ref[36 * stride + 1] - ref[45 * stride + 1]);
}

/** NME of `ours` (stride `so`) against `ref` (stride `sr`), normalized by the reference's inter-ocular distance. */
export function nme68(ours: ArrayLike<number>, ref: ArrayLike<number>, so = 3, sr = 2): Nme {
  const d = interOcular(ref, sr);
  const err = (l: number) => Math.hypot(ours[l * so] - ref[l * sr], ours[l * so + 1] - ref[l * sr + 1]) / d;
  const mean = (a: number, b: number) => {
    let s = 0;
    for (let l = a; l < b; l++) s += err(l);
    return s / (b - a);
  };
  const regions = Object.fromEntries(Object.entries(REGIONS).map(([k, [a, b]]) => [k, mean(a, b)])) as Record<Region, number>;
  return { all: mean(0, 68), regions };
}

/**
 * Mean landmark displacement between consecutive frames of a track (each [68*stride], null: no face), over the
 * inter-ocular distance of `scale` at the later frame; pairs with a missing frame are skipped.
 */
export function frameMotion(track: readonly (ArrayLike<number> | null)[], scale: readonly (ArrayLike<number> | null)[], stride = 2, scaleStride = 2): number[] {
  const out: number[] = [];
  for (let f = 1; f < track.length; f++) {
    const a = track[f - 1], b = track[f], s = scale[f];
    if (!a || !b || !s) continue;
    let sum = 0;
    for (let l = 0; l < 68; l++) sum += Math.hypot(b[l * stride] - a[l * stride], b[l * stride + 1] - a[l * stride + 1]);
    out.push(sum / 68 / interOcular(s, scaleStride));
  }
  return out;
}

/** Centre of the 68 points. */
export function centroid(points: ArrayLike<number>, stride = 2): [number, number] {
  let x = 0, y = 0;
  for (let l = 0; l < 68; l++) (x += points[l * stride]), (y += points[l * stride + 1]);
  return [x / 68, y / 68];
}

/**
 * The delay, in frames, of track `a` behind track `b` (centroid velocities, x and y together): the shift within
 * ±maxLag with the highest correlation. 0: no lag.
 */
export function lagFrames(a: readonly [number, number][], b: readonly [number, number][], maxLag = 5): { lag: number; correlation: number } {
  const n = Math.min(a.length, b.length);
  const va: number[] = [], vb: number[] = [];
  for (let f = 1; f < n; f++) {
    va.push(a[f][0] - a[f - 1][0], a[f][1] - a[f - 1][1]);
    vb.push(b[f][0] - b[f - 1][0], b[f][1] - b[f - 1][1]);
  }
  let best = { lag: 0, correlation: -Infinity };
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    // a[t] against b[t - lag]: a positive lag means a follows b
    const xs: number[] = [], ys: number[] = [];
    for (let i = 0; i < va.length; i++) {
      const j = i - 2 * lag;
      if (j < 0 || j >= vb.length) continue;
      xs.push(va[i]);
      ys.push(vb[j]);
    }
    const c = pearson(xs, ys);
    if (c > best.correlation) best = { lag, correlation: c };
  }
  return best;
}

/** Pearson correlation; NaN under 3 pairs or without variance. */
export function pearson(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  if (n < 3) return NaN;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) (ma += a[i] / n), (mb += b[i] / n);
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i] - ma, y = b[i] - mb;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}
