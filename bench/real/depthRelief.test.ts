import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { CropPlacement } from '../../shared/cropPlacement.js';
import { PartId } from '../../shared/parts.js';
import { projectRoot } from '../../node/projectRoot.js';
import { cropToModelInput, type FramePixels } from '../../server/engine/crop.js';
import { DetectorModel } from '../../server/engine/model/detectorModel.js';
import { detectFaces, wholeFrameViews, type DetectedFace } from '../../server/engine/detect/faceDetector.js';
import { FaceApiLandmarks, faceApiBoxFromBlazeFace } from '../reference/faceApiLandmarks.js';
import { FACE_MESH_INPUT, FaceMeshReference, faceMeshCrop, frameToRoi, roiFromDetection, roiToFrame } from '../reference/faceMesh.js';
import { depthCorrelation, meshDepthAt, relief, reliefPoints, triangulate, type OurFace } from './depthRelief.js';

/**
 * Grace Hopper's official US Navy portrait (public domain), Debian's python-matplotlib-data, read in place. Outer
 * eye corners (where the lids meet, subject's right eye on the image's left) measured by hand, about ±3 px
 * (as in bench/reference/faceApiLandmarks.test.ts).
 */
const HOPPER = '/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg';
const HOPPER_OUTER_EYE_CORNERS: [number, number][] = [[205, 189], [323, 185]];

function readJpeg(file: string): FramePixels {
  const img = jpeg.decode(readFileSync(file), { useTArray: true });
  const data = new Uint8Array(img.width * img.height * 3);
  for (let i = 0; i < img.width * img.height; i++) data.set(img.data.subarray(i * 4, i * 4 + 3), i * 3);
  return { format: 'rgb', width: img.width, height: img.height, data };
}

/** deterministic pseudo-random numbers in [0, 1) */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function randomFrame(format: 'rgb' | 'i420', W: number, H: number, seed: number): FramePixels {
  const rnd = lcg(seed);
  const n = format === 'rgb' ? W * H * 3 : W * H + 2 * ((W + 1) >> 1) * ((H + 1) >> 1);
  return { format, width: W, height: H, data: Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256)) } as FramePixels;
}

function rgbAt(f: FramePixels & { format: 'rgb' }, x: number, y: number): number[] {
  const cx = Math.min(f.width - 1, Math.max(0, x)), cy = Math.min(f.height - 1, Math.max(0, y)), o = (cy * f.width + cx) * 3;
  return [f.data[o] / 255, f.data[o + 1] / 255, f.data[o + 2] / 255];
}

// ---------------------------------------------------------------------------------------------------------------------
// the reference's crop

t.test('face mesh crop: unrotated, it is the project crop of the same square (RGB and I420, edges repeated)', async (t) => {
  const S = FACE_MESH_INPUT;
  for (const format of ['rgb', 'i420'] as const) {
    const frame = randomFrame(format, 150, 121, 7);
    // partly outside the frame (left and bottom), fractional centre, shrinking 1.3x
    for (const roi of [{ centerX: 20.3, centerY: 100.8, side: 250, angle: 0 }, { centerX: 75, centerY: 60, side: 96, angle: 0 }]) {
      const ours = faceMeshCrop(frame, roi);
      const project = cropToModelInput(frame, new CropPlacement({ centerX: roi.centerX, centerY: roi.centerY, side: roi.side }, S));
      let worst = 0;
      for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i] - project[i]));
      t.ok(worst < 1e-5, `${format}, side ${roi.side}: max difference ${worst.toExponential(2)} from server/engine/crop.ts`);
    }
  }
});

t.test('face mesh crop: rotated 90°, a pure permutation of frame pixels, placed by roiToFrame at pixel centres', async (t) => {
  const frame = randomFrame('rgb', 140, 230, 3) as FramePixels & { format: 'rgb' };
  const S = FACE_MESH_INPUT, roi = { centerX: 70.5, centerY: 100.5, side: S, angle: Math.PI / 2 };
  const crop = faceMeshCrop(frame, roi);
  let worst = 0, outside = 0;
  for (let l = 0; l < S; l++) for (let k = 0; k < S; k++) {
    // θ = 90°: the crop's x axis runs down the frame, its y axis to the frame's left
    const x = 70.5 - (l + 0.5 - S / 2), y = 100.5 + (k + 0.5 - S / 2);
    const [px, py] = roiToFrame(roi, k + 0.5, l + 0.5);
    worst = Math.max(worst, Math.abs(px - x), Math.abs(py - y));
    if (x < 0 || x >= frame.width || y < 0 || y >= frame.height) outside++;
    const want = rgbAt(frame, Math.round(x), Math.round(y));
    for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(crop[c * S * S + l * S + k] - want[c]));
  }
  t.ok(worst < 1e-6, `max difference ${worst.toExponential(2)} (pixel values 0..1 and positions)`);
  t.ok(outside > 1000, `${outside} crop pixels beyond the frame repeat its edge pixels`);
  // frameToRoi inverts roiToFrame for any roll
  const rnd = lcg(11);
  let round = 0;
  for (let i = 0; i < 100; i++) {
    const r = { centerX: 300 * rnd(), centerY: 300 * rnd(), side: 50 + 300 * rnd(), angle: 6 * rnd() - 3 };
    const u = 192 * rnd(), v = 192 * rnd(), [x, y] = roiToFrame(r, u, v), [u2, v2] = frameToRoi(r, x, y);
    round = Math.max(round, Math.abs(u2 - u), Math.abs(v2 - v));
  }
  t.ok(round < 1e-9, `frameToRoi(roiToFrame(u, v)) = (u, v) within ${round.toExponential(1)}`);
});

t.test('face mesh ROI from a detection: box centre, 1.5 × its longer side, the eyes level in the crop', async (t) => {
  for (const deg of [0, 25, -60, 120]) {
    const a = (deg * Math.PI) / 180, kp = new Float32Array(12);
    // right eye (image left when upright) at (100, 90), left eye 40 px along the roll
    kp.set([100, 90, 100 + 40 * Math.cos(a), 90 + 40 * Math.sin(a)]);
    const det: DetectedFace = { score: 0.9, x0: 60, y0: 50, x1: 160, y1: 170, keypoints: kp };
    const roi = roiFromDetection(det);
    t.same([roi.centerX, roi.centerY, roi.side], [110, 110, 180], 'centre and side');
    const [ur, vr] = frameToRoi(roi, kp[0], kp[1]), [ul, vl] = frameToRoi(roi, kp[2], kp[3]);
    t.ok(Math.abs(vr - vl) < 1e-4 && ul > ur, `roll ${deg}°: eyes level in the crop (v ${vr.toFixed(3)}, ${vl.toFixed(3)}), right eye on the left`);
  }
});

// ---------------------------------------------------------------------------------------------------------------------
// triangulation and interpolation of the reference's z

/** area of the convex hull (monotone chain) */
function hullArea(p: number[][]): number {
  const s = [...p].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const cross = (o: number[], a: number[], b: number[]) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const half = (pts: number[][]) => {
    const h: number[][] = [];
    for (const q of pts) {
      while (h.length >= 2 && cross(h[h.length - 2], h[h.length - 1], q) <= 0) h.pop();
      h.push(q);
    }
    return h.slice(0, -1);
  };
  const hull = [...half(s), ...half([...s].reverse())];
  let a = 0;
  for (let i = 0; i < hull.length; i++) a += hull[i][0] * hull[(i + 1) % hull.length][1] - hull[(i + 1) % hull.length][0] * hull[i][1];
  return Math.abs(a) / 2;
}

function gridMesh(z: (x: number, y: number) => number, x0 = 52, y0 = 28, step = 4, jitter = 0, seed = 1): Float32Array {
  const rnd = lcg(seed), P = new Float32Array(468 * 3);
  for (let j = 0; j < 26; j++) for (let i = 0; i < 18; i++) {
    const v = j * 18 + i, x = x0 + step * i + jitter * (rnd() - 0.5), y = y0 + step * j + jitter * (rnd() - 0.5);
    P.set([x, y, z(x, y)], 3 * v);
  }
  return P;
}

t.test('Delaunay triangulation: covers the hull once, empty circumcircles, a plane interpolated exactly', async (t) => {
  const rnd = lcg(5);
  const random = new Float32Array(468 * 3);
  for (let i = 0; i < 468; i++) {
    const x = 100 + 200 * rnd(), y = 80 + 260 * rnd();
    random.set([x, y, 3 + 0.25 * x - 0.5 * y], 3 * i);
  }
  const plane = (x: number, y: number) => 3 + 0.25 * x - 0.5 * y;
  const cases = {
    'random points': random,
    'regular grid (cocircular quads)': gridMesh(plane),
    'jittered grid': gridMesh(plane, 52, 28, 4, 1.5),
  };
  for (const [name, P] of Object.entries(cases)) {
    const tri = triangulate(P);
    const pts = Array.from({ length: 468 }, (_, i) => [P[3 * i], P[3 * i + 1]]);
    let area = 0, worstCircle = 0;
    for (let k = 0; k < tri.length; k += 3) {
      const [a, b, c] = [pts[tri[k]], pts[tri[k + 1]], pts[tri[k + 2]]];
      area += Math.abs((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])) / 2;
      if (name !== 'random points') continue;
      // no other point strictly inside the circumcircle (incircle determinant, orientation-corrected)
      const orient = Math.sign((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]));
      for (const d of pts) {
        const m = [a, b, c].map((p) => [p[0] - d[0], p[1] - d[1], (p[0] - d[0]) ** 2 + (p[1] - d[1]) ** 2]);
        const det = m[0][0] * (m[1][1] * m[2][2] - m[2][1] * m[1][2]) - m[0][1] * (m[1][0] * m[2][2] - m[2][0] * m[1][2]) + m[0][2] * (m[1][0] * m[2][1] - m[2][0] * m[1][1]);
        worstCircle = Math.max(worstCircle, orient * det);
      }
    }
    const hull = hullArea(pts);
    t.ok(Math.abs(area - hull) < 1e-6 * hull, `${name}: ${tri.length / 3} triangles, area ${area.toFixed(3)} = hull ${hull.toFixed(3)} (no overlap, no hole)`);
    if (name === 'random points') t.ok(worstCircle < 1e-3, `${name}: every circumcircle empty (largest incircle determinant ${worstCircle.toExponential(1)})`);
    let worst = 0;
    for (let q = 0; q < 200; q++) {
      const i = Math.floor(rnd() * (tri.length / 3)) * 3, w = [rnd(), rnd(), rnd()], s = w[0] + w[1] + w[2];
      const x = (w[0] * pts[tri[i]][0] + w[1] * pts[tri[i + 1]][0] + w[2] * pts[tri[i + 2]][0]) / s;
      const y = (w[0] * pts[tri[i]][1] + w[1] * pts[tri[i + 1]][1] + w[2] * pts[tri[i + 2]][1]) / s;
      // the points' own z (float32) define the plane they interpolate
      worst = Math.max(worst, Math.abs(meshDepthAt(P, x, y, tri) - plane(x, y)));
    }
    t.ok(worst < 1e-4, `${name}: a plane's z reproduced within ${worst.toExponential(1)} (float32 vertices)`);
  }
  t.ok(Number.isNaN(meshDepthAt(random, 0, 0)), 'outside the mesh: NaN');
  // repeated points (the inner lips of a closed mouth) are dropped, the rest still triangulates
  const dup = gridMesh(plane);
  dup.set([dup[0], dup[1], dup[2]], 3 * 467);
  t.ok(Math.abs(meshDepthAt(dup, 70.3, 61.7) - plane(70.3, 61.7)) < 1e-4, 'a duplicated vertex does not break it');
});

// ---------------------------------------------------------------------------------------------------------------------
// relief and correlation on synthetic faces

/** 68 landmarks (x, y) with the relief's points and the eye corners set; frame = crop + (40, 30) */
const OFF = [40, 30] as const;
function landmarks68(stride: number, at: Record<number, [number, number]>): Float32Array {
  const L = new Float32Array(68 * stride);
  for (const [l, [xc, yc]] of Object.entries(at)) (L[+l * stride] = xc + OFF[0]), (L[+l * stride + 1] = yc + OFF[1]);
  return L;
}
// crop positions: nose tip (48, 50); cheek midpoints (28, 54) and (68, 54); our outer eye corners (28, 30), (68, 30)
const REF68 = landmarks68(2, { 30: [48, 50], 3: [26, 56], 31: [30, 52], 13: [70, 56], 35: [66, 52] });
const OUR68 = landmarks68(3, { 36: [28, 30], 45: [68, 30] });

function ourFace(depth: (xc: number, yc: number) => number, S = 96): OurFace {
  const map = new Float32Array(S * S);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) map[y * S + x] = depth(x, y);
  const placement = new CropPlacement({ centerX: OFF[0] + (S - 1) / 2, centerY: OFF[1] + (S - 1) / 2, side: S }, S);
  return { depth: map, size: S, placement, intrinsics: { fx: 500, fy: 500, cx: 60, cy: 70 }, landmarks: OUR68 };
}

t.test('reliefPoints: nose tip 30, cheeks midway between 3 and 31, 13 and 35', async (t) => {
  const p = reliefPoints(REF68);
  t.same(p, { noseTip: [88, 80], rightCheek: [68, 84], leftCheek: [108, 84] });
});

t.test('relief: a plane has none, a paraboloid the relief its formula gives', async (t) => {
  const flat = relief(ourFace(() => 0.6), REF68, gridMesh(() => 12));
  t.equal(flat.ours, 0, 'our plane: 0');
  t.equal(flat.reference, 0, 'the reference plane: 0');

  // ours: Z = 0.5 + a·r² around the nose tip (crop pixels); sampled at crop pixel centres, so bilinear is exact
  const a = 1e-4, Z = (xc: number, yc: number) => 0.5 + a * ((xc - 48) ** 2 + (yc - 50) ** 2);
  // the reference: z = −30 + b·r² around the nose tip (frame pixels), on a grid whose vertices hold the relief points
  const b = 0.02, zr = (x: number, y: number) => -30 + b * ((x - 88) ** 2 + (y - 80) ** 2);
  const mesh = gridMesh(zr);
  const r = relief(ourFace(Z), REF68, mesh);
  // cheeks 20 px across and 4 down from the nose: r² = 416. Our eye corners: 40 px apart at equal depth 0.5 + 800a.
  const ourWant = (a * 416) / ((40 * (0.5 + 800 * a)) / 500);
  const v = (i: number) => [mesh[3 * i], mesh[3 * i + 1], mesh[3 * i + 2]];
  const refWant = (b * 416) / Math.hypot(...v(33).map((c, k) => c - v(263)[k]));
  t.ok(Math.abs(r.ours - ourWant) < 1e-6 * ourWant, `ours ${r.ours.toFixed(6)} = a·416 / (40 px · Z / f) = ${ourWant.toFixed(6)}`);
  t.ok(Math.abs(r.reference - refWant) < 1e-5 * refWant, `reference ${r.reference.toFixed(6)} = b·416 / |v33 − v263| = ${refWant.toFixed(6)}`);
  t.ok(Math.abs(r.ratio - ourWant / refWant) < 1e-5 * r.ratio, `ratio ${r.ratio.toFixed(4)}`);
  t.ok(r.ours > 0 && r.reference > 0, 'positive: the nose is nearer than the cheeks on both');

  // the same relief twice as deep (a depth scaled about the nose tip's) doubles ours; the eye corners move too
  const r2 = relief(ourFace((x, y) => 0.5 + 2 * a * ((x - 48) ** 2 + (y - 50) ** 2)), REF68, mesh);
  const want2 = (2 * a * 416) / ((40 * (0.5 + 1600 * a)) / 500);
  t.ok(Math.abs(r2.ours - want2) < 1e-6 * want2, `deeper: ${r2.ours.toFixed(6)}`);
  t.ok(Number.isNaN(relief({ ...ourFace(Z), landmarks: landmarks68(3, { 36: [-50, 30], 45: [68, 30] }) }, REF68, mesh).ours), 'a point outside our crop: NaN');
});

t.test('depthCorrelation: a scaled, shifted copy gives r = 1 (−1 mirrored), only face-skin points count', async (t) => {
  const S = 96, f = (x: number, y: number) => 0.55 + 0.01 * Math.sin(0.11 * x) * Math.cos(0.07 * y) + 1e-4 * x;
  const face = ourFace(f, S);
  const mask = new Uint8Array(S * S).fill(PartId.FACE_SKIN);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) if (x < 30) mask[y * S + x] = x < 20 ? PartId.EYE : PartId.BACKGROUND;
  // mesh vertices on crop pixel centres (crop = frame − (40, 30)); the grid spans crop x 12..80, y −2..98
  const grid = (k: number) => gridMesh((x, y) => k * f(x - OFF[0], y - OFF[1]) + 7);
  let want = 0;
  for (let j = 0; j < 26; j++) for (let i = 0; i < 18; i++) {
    const xc = 12 + 4 * i, yc = -2 + 4 * j;
    if (xc >= 30 && yc >= 0 && yc < S) want++;
  }
  const r = depthCorrelation(grid(3), { ...face, mask });
  t.ok(Math.abs(r.r - 1) < 1e-5, `r = ${r.r.toFixed(7)}`);
  t.equal(r.n, want, `${want} of 468 points on face skin inside the crop`);
  const m = depthCorrelation(grid(-2), { ...face, mask });
  t.ok(Math.abs(m.r + 1) < 1e-5, `negated: r = ${m.r.toFixed(7)}`);
  t.ok(Number.isNaN(depthCorrelation(grid(3), { ...face, mask: new Uint8Array(S * S) }).r), 'no face skin: NaN');
});

// ---------------------------------------------------------------------------------------------------------------------
// the real network on a real photo

t.test('MediaPipe Face Mesh on Grace Hopper: a face, the nose nearer than the cheeks, 33 and 263 at the outer eye corners', async (t) => {
  // converts out/bench-media/facemesh.onnx when missing: fails (with the reason) without python3-torch/python3-onnx
  const mesh = await FaceMeshReference.load();
  const det = await DetectorModel.load();
  const faceApi = await FaceApiLandmarks.load();
  t.teardown(async () => { await mesh.close(); await det.close(); await faceApi.close(); });
  const photo = readJpeg(HOPPER);
  const faces = await detectFaces(photo, wholeFrameViews(photo.width, photo.height), (image) => det.run(image));
  t.ok(faces.length >= 1, 'BlazeFace finds the face');
  const { points: P, faceflag, roi } = await mesh.locate(photo, faces[0]);
  t.ok(faceflag > 0.5, `faceflag ${faceflag.toFixed(4)}`);
  t.ok(P.every(Number.isFinite), 'all 468 points finite');

  // z: smaller is nearer. The mesh's nearest vertex is its nose tip (4 or 1), at face-api's nose tip
  const ref68 = await faceApi.locate(photo, faceApiBoxFromBlazeFace(faces[0]));
  const at = reliefPoints(ref68), tri = triangulate(P);
  const [zn, zr, zl] = [at.noseTip, at.rightCheek, at.leftCheek].map(([x, y]) => meshDepthAt(P, x, y, tri));
  t.ok(zn < zr - 20 && zn < zl - 20, `nose tip z ${zn.toFixed(1)} px, cheeks ${zr.toFixed(1)} and ${zl.toFixed(1)}: the nose is nearer`);
  let nearest = 0;
  for (let i = 1; i < 468; i++) if (P[3 * i + 2] < P[3 * nearest + 2]) nearest = i;
  t.ok([1, 4].includes(nearest), `nearest vertex ${nearest} (MediaPipe's nose tip is 1 or 4)`);
  t.ok(Math.hypot(P[3 * nearest] - at.noseTip[0], P[3 * nearest + 1] - at.noseTip[1]) < 10, 'and lies at face-api\'s nose tip');

  // vertices 33 (the subject's right, image left) and 263: outer eye corners. Measured 7.5 and 6.0 px out: the
  // mesh's outer corners sit a little lateral of where the lids meet; its inner corners (133, 362) match face-api's
  // 39 and 42 within 3 px
  for (const [k, i] of [33, 263].entries()) {
    const [x, y] = HOPPER_OUTER_EYE_CORNERS[k];
    const err = Math.hypot(P[3 * i] - x, P[3 * i + 1] - y);
    t.ok(err < 8, `vertex ${i} at (${P[3 * i].toFixed(1)}, ${P[3 * i + 1].toFixed(1)}), ${err.toFixed(1)} px from the hand-measured (${x}, ${y})`);
  }
  const eyes = Math.hypot(P[99] - P[789], P[100] - P[790], P[101] - P[791]);
  t.comment(`reference relief: (cheeks − nose) / |v33 − v263| = ${(((zr + zl) / 2 - zn) / eyes).toFixed(3)}`);

  // the same face turned 90° in the frame (and its detection with it) gives the same crop, so the same z and the
  // points turned with it: the way back to the frame is exact for any roll
  const W = photo.width, H = photo.height, turned = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) turned.set(photo.data.subarray((y * W + x) * 3, (y * W + x) * 3 + 3), (x * H + (H - 1 - y)) * 3);
  const turn = (x: number, y: number): [number, number] => [H - 1 - y, x];
  const d = faces[0], kp = new Float32Array(12);
  for (let k = 0; k < 6; k++) kp.set(turn(d.keypoints[2 * k], d.keypoints[2 * k + 1]), 2 * k);
  const [ax, ay] = turn(d.x0, d.y1), [bx, by] = turn(d.x1, d.y0);
  const r2 = await mesh.locate({ format: 'rgb', width: H, height: W, data: turned }, { score: d.score, x0: ax, y0: ay, x1: bx, y1: by, keypoints: kp });
  t.ok(Math.abs(r2.roi.angle - roi.angle - Math.PI / 2) < 1e-6, 'the ROI turns by 90°');
  let worst = 0;
  for (let i = 0; i < 468; i++) {
    const [x, y] = turn(P[3 * i], P[3 * i + 1]);
    worst = Math.max(worst, Math.abs(r2.points[3 * i] - x), Math.abs(r2.points[3 * i + 1] - y), Math.abs(r2.points[3 * i + 2] - P[3 * i + 2]));
  }
  t.ok(worst < 0.01, `turned 90°: points and z agree within ${worst.toExponential(1)} px`);

  const runs = 20;
  let t0 = performance.now();
  for (let r = 0; r < runs; r++) await mesh.locate(photo, faces[0]);
  const msLocate = (performance.now() - t0) / runs, input = faceMeshCrop(photo, roi);
  t0 = performance.now();
  for (let r = 0; r < runs; r++) await mesh.run(input);
  t.comment(`locate(): ${msLocate.toFixed(2)} ms per face (crop + network); the network alone ${((performance.now() - t0) / runs).toFixed(2)} ms (onnxruntime-node, 1 thread)`);
});

t.test('bad inputs are refused with the reason', async (t) => {
  await t.rejects(FaceMeshReference.load(join(projectRoot(), 'models', 'nope.onnx')), { name: 'InputError', message: /cannot read it/ });
  t.throws(() => faceMeshCrop({ format: 'rgb', width: 4, height: 4, data: new Uint8Array(5) }, { centerX: 0, centerY: 0, side: 10, angle: 0 }), { name: 'InputError', message: /needs 48 bytes/ });
  const bad: DetectedFace = { score: 1, x0: 0, y0: NaN, x1: 1, y1: 1, keypoints: new Float32Array(12) };
  t.throws(() => roiFromDetection(bad), { name: 'InputError' });
});
