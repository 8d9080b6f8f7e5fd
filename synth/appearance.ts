/**
 * Procedural appearance of one person: skin albedo over the range of human skin tones with pores, freckles,
 * blotches and redness; eyebrows, lips (sometimes lipstick), stubble or a beard; iris colour; teeth, mouth
 * interior and hair colours; hair style of the procedural hair shell. All colours are linear RGB albedo.
 *
 * Skin is painted as a function of the template (canonical) 3D position of each texel, using the landmarks of
 * the template to place brows, lips and beard, and baked into the two skin UV tiles once per appearance.
 */
import type { HeadAssets, TilePositionMap } from './headAssets.js';
import { ValueNoise3, clamp01, smoothstep } from './noise.js';
import type { Rng } from './random.js';

export type Rgb = [number, number, number];

export interface HairStyle {
  /** no hair shell at all */
  readonly bald: boolean;
  /** template y of the front hairline, metres */
  readonly frontY: number;
  /** template y above which the sides are covered */
  readonly sideY: number;
  /** template y above which the back is covered */
  readonly backY: number;
  /** shell thickness on top of the head, metres */
  readonly thicknessM: number;
}

export interface Appearance {
  readonly skinTone: Rgb;
  readonly hairColor: Rgb;
  readonly irisColor: Rgb;
  readonly scleraColor: Rgb;
  readonly teethColor: Rgb;
  readonly mouthColor: Rgb;
  /** pupil radius as a fraction of the iris radius */
  readonly pupilRatio: number;
  readonly irisRadiusM: number;
  readonly specular: number;
  readonly shininess: number;
  readonly hair: HairStyle;
  readonly beard: 'none' | 'stubble' | 'full';
  /** [size*size*3] linear albedo of the face tile */
  readonly faceTexture: Float32Array;
  readonly faceTextureSize: number;
  /** [size*size*3] linear albedo of the head/neck tile */
  readonly headTexture: Float32Array;
  readonly headTextureSize: number;
  /** noise used at shading time for hair strands and the eyes */
  readonly detail: ValueNoise3;
}

export function srgbToLinear(c: number): number {
  return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
}
const lin = (r: number, g: number, b: number): Rgb => [srgbToLinear(r), srgbToLinear(g), srgbToLinear(b)];
const mix = (a: Rgb, b: Rgb, t: number): Rgb => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];

/** sRGB anchors from very light to very dark skin (roughly Fitzpatrick I to VI). */
const SKIN_ANCHORS: Rgb[] = [
  [0.96, 0.8, 0.7], [0.91, 0.72, 0.6], [0.82, 0.61, 0.47], [0.7, 0.5, 0.36],
  [0.57, 0.38, 0.26], [0.42, 0.27, 0.18], [0.28, 0.18, 0.12],
];
const HAIR_COLORS: [Rgb, number][] = [
  [[0.06, 0.05, 0.045], 5], [[0.16, 0.1, 0.06], 4], [[0.32, 0.2, 0.11], 3], [[0.68, 0.54, 0.33], 2],
  [[0.52, 0.22, 0.09], 1], [[0.55, 0.54, 0.52], 1], [[0.82, 0.81, 0.78], 0.5],
];
const IRIS_COLORS: [Rgb, number][] = [
  [[0.22, 0.12, 0.06], 5], [[0.38, 0.22, 0.09], 3], [[0.45, 0.37, 0.17], 1.5], [[0.3, 0.42, 0.24], 1],
  [[0.33, 0.48, 0.64], 2], [[0.48, 0.53, 0.56], 1],
];
const LIPSTICKS: Rgb[] = [[0.6, 0.08, 0.12], [0.75, 0.3, 0.4], [0.4, 0.12, 0.2], [0.55, 0.3, 0.25]];

function pickWeighted<T>(rng: Rng, items: [T, number][]): T {
  return items[rng.weighted(items.map((x) => x[1]))][0];
}

function skinToneSrgb(rng: Rng): Rgb {
  const t = rng.next() * (SKIN_ANCHORS.length - 1);
  const i = Math.min(SKIN_ANCHORS.length - 2, Math.floor(t));
  const base = mix(SKIN_ANCHORS[i], SKIN_ANCHORS[i + 1], t - i);
  const red = rng.uniform(-0.035, 0.035), yellow = rng.uniform(-0.03, 0.03);
  return [clamp01(base[0] + red), clamp01(base[1] + yellow * 0.5), clamp01(base[2] - yellow)];
}

/** A 2D polyline with its cumulative lengths and bounding box, for fast distance queries. */
interface Polyline {
  readonly pts: number[][];
  readonly lengths: number[];
  readonly total: number;
  readonly box: [number, number, number, number];
}

function polyline(pts: number[][], closed = false): Polyline {
  const p = closed ? [...pts, pts[0]] : pts;
  const lengths = p.slice(1).map((q, i) => Math.hypot(q[0] - p[i][0], q[1] - p[i][1]));
  const xs = p.map((q) => q[0]), ys = p.map((q) => q[1]);
  return { pts: p, lengths, total: lengths.reduce((a, b) => a + b, 0), box: [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)] };
}

/** True when (x, y) is farther than `margin` from the polyline's bounding box. */
function outsideBox(l: Polyline, x: number, y: number, margin: number): boolean {
  return x < l.box[0] - margin || x > l.box[2] + margin || y < l.box[1] - margin || y > l.box[3] + margin;
}

/** Distance from (x, y) to a polyline, and the fraction along it of the nearest point. */
function polylineDistance(x: number, y: number, l: Polyline): [number, number] {
  let best = Infinity, bestS = 0, acc = 0;
  const { pts, lengths } = l;
  for (let i = 0; i + 1 < pts.length; i++) {
    const ax = pts[i][0], ay = pts[i][1];
    const dx = pts[i + 1][0] - ax, dy = pts[i + 1][1] - ay;
    const t = clamp01(((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy));
    const d = Math.hypot(x - (ax + t * dx), y - (ay + t * dy));
    if (d < best) {
      best = d;
      bestS = (acc + t * lengths[i]) / l.total;
    }
    acc += lengths[i];
  }
  return [best, bestS];
}

/** Signed distance (negative inside) from (x, y) to a closed polyline. */
function polygonSignedDistance(x: number, y: number, l: Polyline): number {
  let inside = false;
  const pts = l.pts;
  for (let i = 0, j = pts.length - 2; i < pts.length - 1; j = i++) {
    const [xi, yi] = pts[i], [xj, yj] = pts[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  const [d] = polylineDistance(x, y, l);
  return inside ? -d : d;
}

interface SkinPainter {
  /** linear albedo at a template position (metres) */
  (x: number, y: number, z: number, out: Float32Array, o: number): void;
}

function makeSkinPainter(rng: Rng, assets: HeadAssets, a: { tone: Rgb; hair: Rgb; beard: Appearance['beard'] }): SkinPainter {
  const noise = new ValueNoise3(rng);
  const L = assets.landmarksTemplate;
  const lm = (i: number) => [L[i * 3], L[i * 3 + 1], L[i * 3 + 2]];
  const browR = polyline([17, 18, 19, 20, 21].map(lm)); // subject's right (x < 0), outer → inner
  const browL = polyline([26, 25, 24, 23, 22].map(lm)); // subject's left, outer → inner
  const lipPts = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59].map(lm);
  const lipOuter = polyline(lipPts, true);
  // upper and lower eyelid margins, where a lash line darkens the skin
  const lidR = polyline([36, 37, 38, 39, 40, 41].map(lm), true);
  const lidL = polyline([42, 43, 44, 45, 46, 47].map(lm), true);
  const eyeZ = L[36 * 3 + 2] - 0.01;
  const lashDark = rng.uniform(0.35, 0.8);
  const noseBase = lm(33), noseTip = lm(30), chin = lm(8), jawSide = lm(2);
  const lipZ = Math.min(...lipPts.map((p) => p[2])) - 0.015;

  const toneLin = lin(...a.tone);
  const hairLin = lin(...a.hair);
  const browColor = lin(...mix(a.hair, [0.05, 0.04, 0.03], a.hair[0] > 0.5 ? 0.5 : 0.2));
  const lipstick = rng.chance(0.15) ? lin(...rng.pick(LIPSTICKS)) : null;
  const lipColor = lipstick ?? lin(...mix(a.tone, [a.tone[0] * 0.78, a.tone[1] * 0.45, a.tone[2] * 0.48], rng.uniform(0.5, 0.9)));
  const browThick = rng.uniform(0.0045, 0.009);
  const browDensity = rng.uniform(0.55, 0.95);
  const browLift = rng.uniform(-0.002, 0.003);
  const freckles = rng.chance(0.25) ? rng.uniform(0.3, 1) : 0;
  const blotch = rng.uniform(0.02, 0.09);
  const pore = rng.uniform(0.01, 0.04);
  const cheekRed = rng.uniform(0, 0.12);
  const darkCircles = rng.uniform(0, 0.12);
  const stubbleAlpha = a.beard === 'stubble' ? rng.uniform(0.25, 0.55) : a.beard === 'full' ? rng.uniform(0.75, 0.95) : 0;
  const moles = Array.from({ length: rng.int(0, 4) }, () => [rng.uniform(-0.06, 0.06), rng.uniform(-0.06, 0.09), rng.uniform(0.0008, 0.002)]);

  return (x, y, z, out, o) => {
    // base tone with low-frequency blotches (redness and brightness) and fine pores
    const b1 = noise.fbm(x * 40, y * 40, z * 40, 3);
    const b2 = noise.fbm(x * 90 + 5, y * 90, z * 90, 2);
    const pr = noise.at(x * 1500, y * 1500, z * 1500);
    let r = toneLin[0] * (1 + blotch * b1 + pore * pr * 0.5 + blotch * 0.5 * b2);
    let g = toneLin[1] * (1 + blotch * b1 * 0.6 - blotch * 0.8 * Math.max(0, b2) + pore * pr * 0.5);
    let bl = toneLin[2] * (1 + blotch * b1 * 0.5 - blotch * 0.8 * Math.max(0, b2) + pore * pr * 0.5);
    // cheek redness
    const cheek = Math.exp(-(((Math.abs(x) - 0.04) ** 2 + (y - noseTip[1] + 0.005) ** 2) / 0.0005)) * (z > 0.05 ? 1 : 0);
    g *= 1 - cheekRed * cheek;
    bl *= 1 - cheekRed * cheek;
    // darker under the eyes
    const eyeY = L[37 * 3 + 1] - 0.012;
    const under = Math.exp(-(((Math.abs(x) - 0.033) ** 2) / 0.00025 + ((y - eyeY) ** 2) / 0.00003)) * (z > 0.06 ? 1 : 0);
    const dc = 1 - darkCircles * under;
    r *= dc;
    g *= dc * 0.98;
    bl *= dc;
    // freckles over the nose and cheeks
    if (freckles > 0) {
      const region = Math.exp(-((x * x) / 0.003 + ((y - noseTip[1] - 0.01) ** 2) / 0.0008)) * (z > 0.06 ? 1 : 0);
      const f = noise.at(x * 700 + 11, y * 700, z * 700);
      const dot = smoothstep(0.35, 0.6, f) * region * freckles;
      r *= 1 - 0.35 * dot;
      g *= 1 - 0.45 * dot;
      bl *= 1 - 0.55 * dot;
    }
    for (const [mx, my, mr] of moles) {
      if (z > 0.04 && Math.hypot(x - mx, y - my) < mr) {
        r *= 0.45;
        g *= 0.38;
        bl *= 0.35;
      }
    }
    // lips
    if (z > lipZ && !outsideBox(lipOuter, x, y, 0.002)) {
      const d = polygonSignedDistance(x, y, lipOuter);
      const t = 1 - smoothstep(-0.0008, 0.0012, d);
      if (t > 0) {
        r += (lipColor[0] - r) * t;
        g += (lipColor[1] - g) * t;
        bl += (lipColor[2] - bl) * t;
      }
    }
    // stubble or beard: below the nose, around the mouth and along the jaw, not on the lips
    if (stubbleAlpha > 0 && z > -0.02) {
      const side = smoothstep(0.015, 0.06, Math.abs(x));
      const top = noseBase[1] - 0.006 + side * (jawSide[1] + 0.012 - (noseBase[1] - 0.006));
      const region = smoothstep(top + 0.004, top - 0.004, y) * smoothstep(chin[1] - 0.06, chin[1] - 0.03, y);
      const lipD = z > lipZ && !outsideBox(lipOuter, x, y, 0.004) ? polygonSignedDistance(x, y, lipOuter) : 1;
      const keep = smoothstep(0.0005, 0.003, lipD);
      const dots = a.beard === 'full' ? 0.75 + 0.25 * noise.at(x * 2500, y * 600, z * 2500) : smoothstep(-0.1, 0.5, noise.at(x * 2500, y * 2500, z * 2500));
      const alpha = stubbleAlpha * region * keep * dots;
      r += (hairLin[0] * 0.7 - r) * alpha;
      g += (hairLin[1] * 0.7 - g) * alpha;
      bl += (hairLin[2] * 0.7 - bl) * alpha;
    }
    // lash line along the eyelid margins (facekit's eyelash cards are not drawn)
    if (z > eyeZ) {
      for (const lid of [lidR, lidL]) {
        if (outsideBox(lid, x, y, 0.002)) continue;
        const d = polygonSignedDistance(x, y, lid);
        const alpha = lashDark * (1 - smoothstep(0.0002, 0.0014, Math.abs(d)));
        r *= 1 - alpha;
        g *= 1 - alpha;
        bl *= 1 - alpha;
      }
    }
    // eyebrows
    if (z > 0.05 && y > noseTip[1]) {
      for (const brow of [browR, browL]) {
        if (outsideBox(brow, x, y - browLift + 0.003, browThick)) continue;
        const [d, s] = polylineDistance(x, y - browLift + 0.003, brow);
        const thick = browThick * (0.45 + 0.55 * s);
        const streak = 0.6 + 0.4 * noise.at(x * 1800, y * 400, z * 400);
        const alpha = (1 - smoothstep(thick * 0.55, thick, d)) * browDensity * streak * smoothstep(-0.05, 0.2, s);
        if (alpha > 0) {
          r += (browColor[0] - r) * alpha;
          g += (browColor[1] - g) * alpha;
          bl += (browColor[2] - bl) * alpha;
        }
      }
    }
    out[o] = Math.max(0, r);
    out[o + 1] = Math.max(0, g);
    out[o + 2] = Math.max(0, bl);
  };
}

function bakeTile(map: TilePositionMap, paint: SkinPainter): Float32Array {
  const { size, position } = map;
  const tex = new Float32Array(size * size * 3);
  for (let i = 0; i < size * size; i++) paint(position[i * 3], position[i * 3 + 1], position[i * 3 + 2], tex, i * 3);
  return tex;
}

/** Face texture side for an output image side: about two texels per pixel of a face filling the frame. */
export function textureSizeFor(imageSize: number): number {
  return imageSize <= 160 ? 256 : 512;
}

export function sampleAppearance(rng: Rng, assets: HeadAssets, textureSize = 512): Appearance {
  const tone = skinToneSrgb(rng);
  const hairSrgb = pickWeighted(rng, HAIR_COLORS);
  const beardRoll = rng.next();
  const beard: Appearance['beard'] = beardRoll < 0.18 ? 'stubble' : beardRoll < 0.28 ? 'full' : 'none';
  const browY = assets.landmarksTemplate[19 * 3 + 1];
  const hair: HairStyle = {
    bald: rng.chance(0.15),
    frontY: browY + rng.uniform(0.04, 0.075),
    sideY: rng.uniform(-0.01, 0.04),
    backY: rng.uniform(-0.08, 0.0),
    thicknessM: rng.uniform(0.004, 0.025),
  };
  const painter = makeSkinPainter(rng, assets, { tone, hair: hairSrgb, beard });
  const tiles = assets.tiles(textureSize);
  const irisSrgb = pickWeighted(rng, IRIS_COLORS);
  return {
    skinTone: lin(...tone),
    hairColor: lin(...hairSrgb),
    irisColor: lin(...irisSrgb),
    scleraColor: lin(rng.uniform(0.82, 0.92), rng.uniform(0.78, 0.88), rng.uniform(0.75, 0.85)),
    teethColor: lin(rng.uniform(0.8, 0.92), rng.uniform(0.76, 0.88), rng.uniform(0.62, 0.78)),
    mouthColor: lin(rng.uniform(0.45, 0.6), rng.uniform(0.12, 0.2), rng.uniform(0.12, 0.2)),
    pupilRatio: rng.uniform(0.28, 0.5),
    irisRadiusM: rng.uniform(0.0055, 0.0062),
    specular: rng.uniform(0.03, 0.25),
    shininess: rng.uniform(12, 40),
    hair,
    beard,
    faceTexture: bakeTile(tiles.face, painter),
    faceTextureSize: tiles.face.size,
    headTexture: bakeTile(tiles.head, painter),
    headTextureSize: tiles.head.size,
    detail: new ValueNoise3(rng),
  };
}

/** Bilinear lookup of a baked tile at tile-local (u, v) in [0, 1]. */
export function sampleTexture(tex: Float32Array, size: number, u: number, v: number, out: Float64Array): void {
  const x = Math.min(size - 1.001, Math.max(0, u * size - 0.5));
  const y = Math.min(size - 1.001, Math.max(0, v * size - 0.5));
  const x0 = Math.floor(x), y0 = Math.floor(y);
  const fx = x - x0, fy = y - y0;
  const i00 = (y0 * size + x0) * 3, i10 = i00 + 3, i01 = i00 + size * 3, i11 = i01 + 3;
  for (let k = 0; k < 3; k++) {
    const top = tex[i00 + k] + (tex[i10 + k] - tex[i00 + k]) * fx;
    const bottom = tex[i01 + k] + (tex[i11 + k] - tex[i01 + k]) * fx;
    out[k] = top + (bottom - top) * fy;
  }
}
