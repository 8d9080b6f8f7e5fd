/**
 * A picture of blendshape weights over time: one strip per shape (its name's colour, 0 at the bottom and 1 at the
 * top), optionally the truth dashed in grey behind it, and a row of frame thumbnails above at their times.
 */
import { PNG } from 'pngjs';

export interface WeightStrip {
  readonly name: string;
  readonly values: ArrayLike<number>;
  readonly truth?: ArrayLike<number>;
}

export interface Thumbnail {
  readonly frame: number;
  /** RGB, `size` x `size` */
  readonly rgb: Uint8Array;
}

const COLOURS: [number, number, number][] = [[214, 39, 40], [31, 119, 180], [44, 160, 44], [255, 127, 14], [148, 103, 189], [23, 190, 207], [140, 86, 75], [227, 119, 194]];

/** Strips of `stripHeight` pixels, `pxPerFrame` wide per frame; a 5x7 pixel font is not worth it: names go in the caption. */
export function renderWeightPlot(strips: readonly WeightStrip[], frames: number, o: { thumbnails?: readonly Thumbnail[]; thumbSize?: number; pxPerFrame?: number; stripHeight?: number } = {}): Buffer {
  const px = o.pxPerFrame ?? 2, sh = o.stripHeight ?? 48, ts = o.thumbSize ?? 0, gap = 4;
  const top = o.thumbnails?.length ? ts + gap : 0;
  const W = Math.max(frames * px, 1), H = top + strips.length * (sh + gap);
  const png = new PNG({ width: W, height: H });
  png.data.fill(255);
  const set = (x: number, y: number, c: readonly number[]) => {
    if (x < 0 || y < 0 || x >= W || y >= H) return;
    const o4 = (y * W + x) * 4;
    png.data[o4] = c[0];
    png.data[o4 + 1] = c[1];
    png.data[o4 + 2] = c[2];
    png.data[o4 + 3] = 255;
  };
  for (const th of o.thumbnails ?? []) {
    const x0 = Math.min(W - ts, Math.max(0, Math.round(th.frame * px - ts / 2)));
    for (let y = 0; y < ts; y++) for (let x = 0; x < ts; x++) set(x0 + x, y, [th.rgb[(y * ts + x) * 3], th.rgb[(y * ts + x) * 3 + 1], th.rgb[(y * ts + x) * 3 + 2]]);
  }
  strips.forEach((s, k) => {
    const y0 = top + k * (sh + gap);
    const c = COLOURS[k % COLOURS.length];
    const yOf = (v: number) => y0 + Math.round((1 - Math.min(1, Math.max(0, v))) * (sh - 1));
    for (let x = 0; x < W; x++) (set(x, y0 + sh - 1, [200, 200, 200]), set(x, y0 + Math.round((sh - 1) / 2), [235, 235, 235]));
    const line = (values: ArrayLike<number>, colour: readonly number[], dashed: boolean) => {
      for (let f = 1; f < Math.min(frames, values.length); f++) {
        const ya = yOf(values[f - 1]), yb = yOf(values[f]);
        for (let x = (f - 1) * px; x <= f * px; x++) {
          if (dashed && ((x >> 2) & 1)) continue;
          const y = Math.round(ya + ((yb - ya) * (x - (f - 1) * px)) / px);
          for (let yy = Math.min(y, ya); yy <= Math.max(y, ya); yy++) set(x, yy, colour);
        }
      }
    };
    if (s.truth) line(s.truth, [150, 150, 150], true);
    line(s.values, c, false);
  });
  return PNG.sync.write(png);
}
