/**
 * A picture of per-pixel maps for people (the generator's ground truth, or what the engine reconstructed): one row
 * per frame, columns RGB | depth | canonical | mask | landmarks (green: visible, red: hidden). Depth is coloured near (warm) to far (cool) over the frame's surface pixels;
 * canonical x, y, z are shown as red, green, blue over the normalized canonical range.
 */
import { PNG } from 'pngjs';
import { CANONICAL_NORMALIZATION } from '../../shared/canonical.js';
import type { MapsImage } from '../../shared/mapsImage.js';

/** Colour of each part id in pictures (preview, real-image bench). */
export const MASK_COLORS: [number, number, number][] = [
  [20, 20, 20], [230, 180, 140], [170, 120, 90], [80, 160, 255], [200, 40, 60], [250, 250, 250], [120, 70, 20], [60, 200, 80],
];

/** A compact perceptual ramp (near → far): red, orange, yellow, green, cyan, blue. */
function ramp(t: number): [number, number, number] {
  const stops: [number, number, number][] = [[180, 20, 30], [240, 120, 30], [240, 220, 60], [80, 200, 90], [40, 170, 200], [40, 60, 170]];
  const x = Math.min(0.9999, Math.max(0, t)) * (stops.length - 1);
  const i = Math.floor(x), f = x - i;
  return [0, 1, 2].map((k) => Math.round(stops[i][k] + (stops[i + 1][k] - stops[i][k]) * f)) as [number, number, number];
}

export function previewPanels(fr: MapsImage): Uint8Array[] {
  const { width: W, height: H } = fr;
  const n = W * H;
  const depth = new Uint8Array(n * 3), canon = new Uint8Array(n * 3), mask = new Uint8Array(n * 3);
  const lms = Uint8Array.from(fr.rgb);
  let lo = Infinity, hi = 0;
  for (let i = 0; i < n; i++) if (fr.depth[i] > 0) (lo = Math.min(lo, fr.depth[i])), (hi = Math.max(hi, fr.depth[i]));
  const { centerM, halfExtentM } = CANONICAL_NORMALIZATION;
  for (let i = 0; i < n; i++) {
    const d = fr.depth[i];
    const c = d > 0 ? ramp((d - lo) / Math.max(1e-6, hi - lo)) : [0, 0, 0];
    depth.set(c, i * 3);
    if (fr.canonical[i * 3] !== 0 || fr.canonical[i * 3 + 1] !== 0 || fr.canonical[i * 3 + 2] !== 0) {
      for (let k = 0; k < 3; k++) {
        const v = (fr.canonical[i * 3 + k] - centerM[k]) / halfExtentM;
        canon[i * 3 + k] = Math.round(Math.min(1, Math.max(0, 0.5 + 0.7 * v)) * 255);
      }
    }
    mask.set(MASK_COLORS[fr.mask[i]] ?? [255, 0, 255], i * 3);
  }
  const r = Math.max(1, Math.round(W / 128));
  for (let l = 0; l < 68; l++) {
    const x = Math.round(fr.landmarks[l * 3]), y = Math.round(fr.landmarks[l * 3 + 1]);
    const c = fr.landmarks[l * 3 + 2] > 0 ? [40, 255, 60] : [255, 40, 40];
    for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) {
      const xx = x + dx, yy = y + dy;
      if (xx >= 0 && yy >= 0 && xx < W && yy < H) lms.set(c, (yy * W + xx) * 3);
    }
  }
  return [fr.rgb, depth, canon, mask, lms];
}

/** PNG bytes of a grid: rows = frames, columns = previewPanels. */
export function renderPreview(frames: readonly MapsImage[]): Buffer {
  if (frames.length === 0) throw new RangeError('renderPreview: no frames');
  const { width: W, height: H } = frames[0];
  const cols = 5, gap = 2;
  const PW = cols * W + (cols - 1) * gap, PH = frames.length * H + (frames.length - 1) * gap;
  const png = new PNG({ width: PW, height: PH });
  png.data.fill(255);
  frames.forEach((fr, row) => {
    previewPanels(fr).forEach((panel, col) => {
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const o = ((row * (H + gap) + y) * PW + col * (W + gap) + x) * 4;
          const i = (y * W + x) * 3;
          png.data[o] = panel[i];
          png.data[o + 1] = panel[i + 1];
          png.data[o + 2] = panel[i + 2];
          png.data[o + 3] = 255;
        }
      }
    });
  });
  return PNG.sync.write(png);
}
