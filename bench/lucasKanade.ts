/**
 * Pyramidal Lucas–Kanade point tracking (Bouguet's formulation) on grayscale frames: the optical-flow chaining
 * baseline that canonical-lookup tracking is compared against. Points are tracked from one frame to the next;
 * errors accumulate (drift) and occlusions are not recognised.
 */

export interface Gray {
  readonly width: number;
  readonly height: number;
  /** [H*W] 0..1 */
  readonly data: Float32Array;
}

export function grayFromRgb(rgb: Uint8Array, width: number, height: number): Gray {
  const data = new Float32Array(width * height);
  for (let i = 0; i < width * height; i++) data[i] = (0.299 * rgb[i * 3] + 0.587 * rgb[i * 3 + 1] + 0.114 * rgb[i * 3 + 2]) / 255;
  return { width, height, data };
}

function downsample(g: Gray): Gray {
  const w = Math.max(1, g.width >> 1), h = Math.max(1, g.height >> 1);
  const data = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const x0 = Math.min(g.width - 1, 2 * x), x1 = Math.min(g.width - 1, 2 * x + 1);
    const y0 = Math.min(g.height - 1, 2 * y), y1 = Math.min(g.height - 1, 2 * y + 1);
    data[y * w + x] = (g.data[y0 * g.width + x0] + g.data[y0 * g.width + x1] + g.data[y1 * g.width + x0] + g.data[y1 * g.width + x1]) / 4;
  }
  return { width: w, height: h, data };
}

function sample(g: Gray, x: number, y: number): number {
  const xc = Math.min(g.width - 1.001, Math.max(0, x)), yc = Math.min(g.height - 1.001, Math.max(0, y));
  const x0 = Math.floor(xc), y0 = Math.floor(yc), fx = xc - x0, fy = yc - y0;
  const i = y0 * g.width + x0;
  const a = g.data[i], b = g.data[i + 1], c = g.data[i + g.width], d = g.data[i + g.width + 1];
  return (a + (b - a) * fx) * (1 - fy) + (c + (d - c) * fx) * fy;
}

export function pyramid(g: Gray, levels: number): Gray[] {
  const out = [g];
  for (let l = 1; l < levels; l++) out.push(downsample(out[l - 1]));
  return out;
}

export interface LkOptions {
  readonly levels: number;
  /** half window, pixels */
  readonly radius: number;
  readonly iterations: number;
}

export const LK_DEFAULTS: LkOptions = { levels: 3, radius: 5, iterations: 12 };

/** Moves each point (x, y) of `prev` to its position in `next`. points: [n*2], updated in place. */
export function trackLk(prev: Gray[], next: Gray[], points: Float32Array, o: LkOptions = LK_DEFAULTS): void {
  const r = o.radius;
  for (let p = 0; p < points.length / 2; p++) {
    const px = points[p * 2], py = points[p * 2 + 1];
    let gx = 0, gy = 0;
    for (let l = o.levels - 1; l >= 0; l--) {
      const s = 2 ** l;
      const A = prev[l], B = next[l];
      const ux = px / s, uy = py / s;
      // spatial gradient matrix over the window around the point in the previous frame
      let gxx = 0, gxy = 0, gyy = 0;
      const ix: number[] = [], iy: number[] = [], iv: number[] = [];
      for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) {
        const x = ux + dx, y = uy + dy;
        const dIx = (sample(A, x + 1, y) - sample(A, x - 1, y)) / 2;
        const dIy = (sample(A, x, y + 1) - sample(A, x, y - 1)) / 2;
        ix.push(dIx);
        iy.push(dIy);
        iv.push(sample(A, x, y));
        gxx += dIx * dIx;
        gxy += dIx * dIy;
        gyy += dIy * dIy;
      }
      const det = gxx * gyy - gxy * gxy;
      if (det < 1e-9) {
        if (l > 0) (gx *= 2), (gy *= 2);
        continue;
      }
      let vx = 0, vy = 0;
      for (let it = 0; it < o.iterations; it++) {
        let bx = 0, by = 0, k = 0;
        for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++, k++) {
          const diff = iv[k] - sample(B, ux + dx + gx + vx, uy + dy + gy + vy);
          bx += diff * ix[k];
          by += diff * iy[k];
        }
        const ex = (gyy * bx - gxy * by) / det, ey = (gxx * by - gxy * bx) / det;
        vx += ex;
        vy += ey;
        if (ex * ex + ey * ey < 1e-4) break;
      }
      gx += vx;
      gy += vy;
      if (l > 0) {
        gx *= 2;
        gy *= 2;
      }
    }
    points[p * 2] = px + gx;
    points[p * 2 + 1] = py + gy;
  }
}
