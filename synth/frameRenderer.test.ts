import t from 'tap';
import { PartId, hasCanonical } from '../shared/parts.js';
import { mat3Transpose, mat3Vec } from './camera.js';
import { EXPRESSION_NAMES } from './expressionTimeline.js';
import { loadHeadAssets } from './headAssets.js';
import { renderScene, type Scene } from './testScenes.js';

const assets = loadHeadAssets();

function expression(weights: Record<string, number>): Float32Array {
  const e = new Float32Array(EXPRESSION_NAMES.length);
  for (const [name, w] of Object.entries(weights)) e[EXPRESSION_NAMES.indexOf(name as (typeof EXPRESSION_NAMES)[number])] = w;
  return e;
}

/** Pixel (x, y) with depth z back-projected into camera coordinates. */
function backProject(s: Scene, x: number, y: number, z: number): number[] {
  const K = s.intrinsics;
  return [((x - K.cx) / K.fx) * z, ((y - K.cy) / K.fy) * z, z];
}

function posedVertex(s: Scene, v: number): number[] {
  const p = mat3Vec(s.pose.rotation, [s.meshHead[v * 3], s.meshHead[v * 3 + 1], s.meshHead[v * 3 + 2]]);
  return [p[0] + s.pose.translationM[0], p[1] + s.pose.translationM[1], p[2] + s.pose.translationM[2]];
}

const scenes: [string, Parameters<typeof renderScene>[0]][] = [
  ['frontal, mean identity', { size: 128, identity: 'mean' }],
  ['yaw 60, pitch -20, roll 15, jaw open, one-sided smile', { size: 128, yawDeg: 60, pitchDeg: -20, rollDeg: 15, identity: 11, expression: expression({ jawOpen: 0.6, mouthSmile_L: 0.8 }) }],
  ['yaw -70 at 256, cheek puff and wink, with hair', { size: 256, yawDeg: -70, identity: 3, fovDeg: 70, distanceM: 0.35, hair: true, expression: expression({ cheekPuff_L: 1, cheekPuff_R: 1, eyeBlink_L: 1 }) }],
];

for (const [name, options] of scenes) {
  t.test(`renderScene(${name}): back-projected depth lies on the posed mesh (< 1 mm)`, async (t) => {
    const s = renderScene(options);
    const { frame: f } = s;
    const tri = assets.topology.triangles;
    let worst = 0, count = 0, outside = 0;
    for (let y = 0; y < f.height; y++) {
      for (let x = 0; x < f.width; x++) {
        const i = y * f.width + x;
        if (f.triangle[i] < 0) continue;
        const P = backProject(s, x, y, f.depth[i]);
        const t0 = f.triangle[i];
        const [a, b, c] = [0, 1, 2].map((k) => posedVertex(s, tri[t0 * 3 + k]));
        // distance from P to the plane of the triangle it claims to see, and whether P lies inside it
        const u = [b[0] - a[0], b[1] - a[1], b[2] - a[2]], v = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
        const n = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
        const nl = Math.hypot(n[0], n[1], n[2]);
        const dist = Math.abs((P[0] - a[0]) * n[0] + (P[1] - a[1]) * n[1] + (P[2] - a[2]) * n[2]) / nl;
        worst = Math.max(worst, dist);
        const w = [0, 1, 2].map((k) => f.barycentric[i * 3 + k]);
        if (Math.min(...w) < -1e-3) outside++;
        const Q = [0, 1, 2].map((k) => w[0] * a[k] + w[1] * b[k] + w[2] * c[k]);
        worst = Math.max(worst, Math.hypot(Q[0] - P[0], Q[1] - P[1], Q[2] - P[2]));
        count++;
      }
    }
    t.ok(count > 500, `${count} head pixels`);
    t.ok(worst < 0.001, `worst distance ${(worst * 1000).toFixed(4)} mm`);
    t.equal(outside, 0, 'barycentrics inside their triangle');
  });

  t.test(`renderScene(${name}): canonical map at visible landmarks equals the landmark's canonical position`, async (t) => {
    const s = renderScene(options);
    const { frame: f } = s;
    const W = f.width;
    const rel: number[] = [];
    let checked = 0;
    for (let l = 0; l < 68; l++) {
      if (!f.landmarks[l * 3 + 2]) continue;
      const px = f.landmarks[l * 3], py = f.landmarks[l * 3 + 1];
      const want = [0, 1, 2].map((k) => assets.landmarksTemplate[l * 3 + k]);
      const cell: number[][] = [];
      for (const yy of [Math.floor(py), Math.floor(py) + 1]) {
        for (const xx of [Math.floor(px), Math.floor(px) + 1]) {
          const i = yy * W + xx;
          if (hasCanonical(f.mask[i])) cell.push([0, 1, 2].map((k) => f.canonical[i * 3 + k]));
        }
      }
      // at silhouettes the cell around the landmark is partly empty: rasterization gives no bound there
      if (cell.length < 4) continue;
      let spread = 0;
      for (const a of cell) for (const b of cell) spread = Math.max(spread, Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]));
      const err = Math.min(...cell.map((a) => Math.hypot(a[0] - want[0], a[1] - want[1], a[2] - want[2])));
      // The landmark's sub-pixel position lies inside the cell of the four pixel centres around it, so on a smooth
      // surface its canonical lies within the cell's spread; where a fold (a closed eyelid) hides the vertex by
      // less than the visibility tolerance, allow one more pixel footprint.
      const i = Math.round(py) * W + Math.round(px);
      const footprint = f.depth[i] / s.intrinsics.fx;
      t.ok(err <= spread + 1.5 * footprint, `landmark ${l}: ${(err * 1000).toFixed(2)} mm from the nearest pixel, cell spans ${(spread * 1000).toFixed(2)} mm`);
      rel.push(err / footprint);
      checked++;
    }
    t.ok(checked >= 30, `${checked} landmarks checked`);
    rel.sort((a, b) => a - b);
    t.ok(rel[rel.length >> 1] < 1, `median error ${rel[rel.length >> 1].toFixed(2)} pixel footprints`);
  });
}

t.test('renderScene(mean identity, neutral): canonical equals the posed surface mapped back by the head pose', async (t) => {
  const s = renderScene({ size: 128, identity: 'mean', yawDeg: 35, pitchDeg: 12, rollDeg: -8 });
  const { frame: f } = s;
  const Rt = mat3Transpose(s.pose.rotation);
  let worst = 0, count = 0;
  for (let y = 0; y < f.height; y++) {
    for (let x = 0; x < f.width; x++) {
      const i = y * f.width + x;
      if (!hasCanonical(f.mask[i])) continue;
      const P = backProject(s, x, y, f.depth[i]);
      const head = mat3Vec(Rt, [P[0] - s.pose.translationM[0], P[1] - s.pose.translationM[1], P[2] - s.pose.translationM[2]]);
      worst = Math.max(worst, Math.hypot(head[0] - f.canonical[i * 3], head[1] - f.canonical[i * 3 + 1], head[2] - f.canonical[i * 3 + 2]));
      count++;
    }
  }
  t.ok(count > 1000, `${count} pixels`);
  t.ok(worst < 1e-4, `worst ${(worst * 1000).toFixed(5)} mm`);
});

t.test('renderScene(another identity, expression): canonical differs from the mapped-back surface', async (t) => {
  // the same check must fail when the surface is not the template: proves the test above can fail
  const s = renderScene({ size: 128, identity: 5, expression: expression({ jawOpen: 0.8 }) });
  const { frame: f } = s;
  const Rt = mat3Transpose(s.pose.rotation);
  let worst = 0;
  for (let i = 0; i < f.width * f.height; i++) {
    if (!hasCanonical(f.mask[i])) continue;
    const x = i % f.width, y = Math.floor(i / f.width);
    const P = backProject(s, x, y, f.depth[i]);
    const head = mat3Vec(Rt, [P[0] - s.pose.translationM[0], P[1] - s.pose.translationM[1], P[2] - s.pose.translationM[2]]);
    worst = Math.max(worst, Math.hypot(head[0] - f.canonical[i * 3], head[1] - f.canonical[i * 3 + 1], head[2] - f.canonical[i * 3 + 2]));
  }
  t.ok(worst > 0.003, `worst ${(worst * 1000).toFixed(2)} mm`);
});

t.test('renderScene(): maps agree on which pixels have a surface', async (t) => {
  const s = renderScene({ size: 128, identity: 2, hair: true, yawDeg: 20, occluderInFrontM: 0.1 });
  const { frame: f } = s;
  let bad = 0;
  const counts = new Map<number, number>();
  for (let i = 0; i < f.width * f.height; i++) {
    const m = f.mask[i];
    counts.set(m, (counts.get(m) ?? 0) + 1);
    const hasC = f.canonical[i * 3] !== 0 || f.canonical[i * 3 + 1] !== 0 || f.canonical[i * 3 + 2] !== 0;
    if ((m === PartId.BACKGROUND) !== (f.depth[i] === 0)) bad++;
    if (hasC !== hasCanonical(m)) bad++;
    if ((f.triangle[i] >= 0) !== hasCanonical(m)) bad++;
  }
  t.equal(bad, 0, 'depth, canonical, triangle and mask agree');
  for (const part of [PartId.BACKGROUND, PartId.FACE_SKIN, PartId.HEAD_SKIN, PartId.EYE, PartId.HAIR, PartId.OCCLUDER]) {
    t.ok((counts.get(part) ?? 0) > 0, `part ${part} present`);
  }
});

t.test('renderScene(occluder over the nose): nose landmarks are hidden, the eyes stay visible', async (t) => {
  const clear = renderScene({ size: 128, identity: 4 }).frame;
  const covered = renderScene({ size: 128, identity: 4, occluderInFrontM: 0.05 }).frame;
  t.equal(clear.landmarks[30 * 3 + 2], 1, 'nose tip visible without the occluder');
  t.equal(covered.landmarks[30 * 3 + 2], 0, 'nose tip hidden behind it');
  t.equal(covered.landmarks[36 * 3 + 2], 1, 'outer eye corner still visible');
});

t.test('renderScene(yaw 70): the far jaw contour is hidden by the face', async (t) => {
  const f = renderScene({ size: 128, identity: 1, yawDeg: 70 }).frame;
  const jaw = Array.from({ length: 17 }, (_, l) => f.landmarks[l * 3 + 2]);
  // the face turns towards image right, so its right side (jaw landmarks 0..7, x < 0) faces the camera
  t.ok(jaw.slice(12).every((v) => v === 0), `far jaw points hidden: ${jaw.join('')}`);
  t.ok(jaw.slice(0, 8).every((v) => v === 1), 'jaw points on the near side are visible');
});

t.test('the iris follows the gaze of the eyeLook weights (shared/gaze.ts)', async (t) => {
  /** centroid of the darkest eye pixels (iris and pupil) of each half of the image */
  const irisCentres = (weights: Record<string, number>) => {
    const S = 256, f = renderScene({ size: S, distanceM: 0.3, expression: expression(weights) }).frame;
    const sums = [[0, 0, 0], [0, 0, 0]];
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
      const i = y * S + x;
      const luma = 0.3 * f.rgb[i * 3] + 0.6 * f.rgb[i * 3 + 1] + 0.1 * f.rgb[i * 3 + 2];
      if (f.mask[i] !== PartId.EYE || luma > 90) continue;
      const s = sums[x < S / 2 ? 0 : 1];
      s[0] += x;
      s[1] += y;
      s[2]++;
    }
    return sums.map(([sx, sy, n]) => [sx / n, sy / n]);
  };
  const ahead = irisCentres({});
  const left = irisCentres({ eyeLookOut_L: 1, eyeLookIn_R: 1 });
  const up = irisCentres({ eyeLookUp_L: 1, eyeLookUp_R: 1 });
  // the subject's left is the image's right (a camera facing the face)
  for (const eye of [0, 1]) {
    t.ok(left[eye][0] - ahead[eye][0] > 2, `looking to the subject's left moves iris ${eye} right in the image by ${(left[eye][0] - ahead[eye][0]).toFixed(1)} px`);
    t.ok(ahead[eye][1] - up[eye][1] > 1, `looking up moves iris ${eye} up by ${(ahead[eye][1] - up[eye][1]).toFixed(1)} px`);
  }
});
