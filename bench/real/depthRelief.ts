/**
 * Does our per-pixel depth have a real face's relief? Measured against MediaPipe Face Mesh's relative depth
 * (bench/reference/faceMesh.ts: 468 points, x, y, z in frame pixels, smaller z = nearer), which was trained on real
 * faces. Pure functions, no I/O.
 *
 * relief: how far the nose tip stands out of the cheeks, over the face's width. Both sides are sampled at the same
 * image positions, taken from the 68-point yardstick (face-api's landmarks, bench/reference/faceApiLandmarks.ts):
 * the nose tip (point 30) and the middle of each cheek (midway between the jaw point 3 and the nostril point 31, and
 * between 13 and 35). Ours: (mean depth of the two cheeks − depth of the nose tip), metres, over the 3D distance of
 * our outer eye corners (our landmarks 36 and 45 back-projected with our depth there and the intrinsics). The
 * reference's: the same difference of its z, over the 3D distance of its outer eye corners (mesh vertices 33 and
 * 263 in MediaPipe's numbering; x, y, z all in frame pixels). Both are dimensionless and positive when the nose is
 * nearer than the cheeks; ratio = ours / reference (1: the same relief; < 1: flatter than the reference).
 *
 * depthCorrelation: Pearson r, over the mesh vertices that fall on our face skin, between our depth at each vertex's
 * image position and the vertex's z (both grow away from the camera, so a face of the right shape gives r near 1).
 *
 * Where the reference's z is needed between its vertices (meshDepthAt), it is interpolated barycentrically in a
 * Delaunay triangulation of the vertices' image positions computed here. MediaPipe's own mesh topology
 * (canonical_face_model.obj) is not part of the committed model files, and a triangulation of the projected points
 * serves the purpose as well: for a face seen from the front the two differ only in which diagonal splits some
 * quads, and the projected triangulation never folds over itself where the mesh's own triangles would (turned
 * faces). Unlike inverse-distance weighting of the nearest vertices it is continuous, and exact for a plane.
 *
 * Coordinates: frame and crop pixels with pixel centres at integers (as everywhere in the project).
 */
import type { PinholeIntrinsics } from '../../shared/camera.js';
import type { CropPlacement } from '../../shared/cropPlacement.js';
import { PartId } from '../../shared/parts.js';
import { pearson } from './landmarkMetrics.js';

export type Point2 = readonly [number, number];

/** Where the relief is measured, frame pixels; "right" is the subject's right (the image's left). */
export interface ReliefPoints {
  readonly noseTip: Point2;
  readonly rightCheek: Point2;
  readonly leftCheek: Point2;
}

/** The relief's image positions from 68 landmarks (iBUG order; x, y interleaved, frame pixels). */
export function reliefPoints(ref68: ArrayLike<number>, stride = 2): ReliefPoints {
  const p = (l: number): Point2 => [ref68[l * stride], ref68[l * stride + 1]];
  const mid = (a: number, b: number): Point2 => [(p(a)[0] + p(b)[0]) / 2, (p(a)[1] + p(b)[1]) / 2];
  return { noseTip: p(30), rightCheek: mid(3, 31), leftCheek: mid(13, 35) };
}

// ---------------------------------------------------------------------------------------------------------------------
// the reference's z between its vertices

/** A triangulation of points: [3*T] indices into the points' array. */
export type Triangles = Int32Array;

/**
 * Delaunay triangulation (Bowyer–Watson) of the points' x, y (`stride` numbers a point, x and y first), each
 * triangle counter-clockwise in (x, y). Points that are not finite, or that repeat an earlier one (closer than 1e-9
 * of the points' extent: the inner lip points of a closed mouth), are left out. Slivers along the convex hull that
 * the super triangle hides are filled in afterwards (fillToHull; those few need not be Delaunay), so the triangles
 * cover the points' convex hull exactly once.
 */
export function triangulate(points: ArrayLike<number>, stride = 3): Triangles {
  const n = Math.floor(points.length / stride);
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = points[i * stride], y = points[i * stride + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    (x0 = Math.min(x0, x)), (y0 = Math.min(y0, y)), (x1 = Math.max(x1, x)), (y1 = Math.max(y1, y));
  }
  if (!(x1 >= x0)) return new Int32Array(0);
  const extent = Math.max(x1 - x0, y1 - y0, 1e-12), eps2 = (1e-9 * extent) ** 2;
  // coordinates relative to the centre (better conditioned), the 3 super-triangle vertices at n, n+1, n+2
  const mx = (x0 + x1) / 2, my = (y0 + y1) / 2;
  const X = new Float64Array(n + 3), Y = new Float64Array(n + 3);
  for (let i = 0; i < n; i++) (X[i] = points[i * stride] - mx), (Y[i] = points[i * stride + 1] - my);
  const big = 50 * extent;
  (X[n] = -big), (Y[n] = -big), (X[n + 1] = big), (Y[n + 1] = -big), (X[n + 2] = 0), (Y[n + 2] = big);

  interface Tri { a: number; b: number; c: number; cx: number; cy: number; r2: number }
  const make = (a: number, b: number, c: number): Tri => {
    const ax = X[a], ay = Y[a], bx = X[b] - ax, by = Y[b] - ay, cx = X[c] - ax, cy = Y[c] - ay;
    const d = 2 * (bx * cy - by * cx);
    const b2 = bx * bx + by * by, c2 = cx * cx + cy * cy;
    const ux = (cy * b2 - by * c2) / d, uy = (bx * c2 - cx * b2) / d;
    return { a, b, c, cx: ax + ux, cy: ay + uy, r2: ux * ux + uy * uy };
  };
  let tris: Tri[] = [make(n, n + 1, n + 2)];
  const kept: number[] = [];
  for (let i = 0; i < n; i++) {
    const px = X[i], py = Y[i];
    if (!Number.isFinite(px) || !Number.isFinite(py)) continue;
    if (kept.some((j) => (X[j] - px) ** 2 + (Y[j] - py) ** 2 <= eps2)) continue;
    kept.push(i);
    // the cavity: triangles whose circumcircle holds the point; its boundary edges are those not shared within it
    const edges = new Map<string, [number, number]>();
    const keep: Tri[] = [];
    for (const t of tris) {
      if ((px - t.cx) ** 2 + (py - t.cy) ** 2 < t.r2) {
        for (const [u, v] of [[t.a, t.b], [t.b, t.c], [t.c, t.a]] as const) {
          const key = u < v ? `${u},${v}` : `${v},${u}`;
          if (edges.has(key)) edges.delete(key);
          else edges.set(key, [u, v]);
        }
      } else keep.push(t);
    }
    for (const [u, v] of edges.values()) {
      const t = make(u, v, i);
      if (Number.isFinite(t.r2)) keep.push(t);
    }
    tris = keep;
  }
  const out: number[] = [];
  const cross = (u: number, v: number, w: number) => (X[v] - X[u]) * (Y[w] - Y[u]) - (Y[v] - Y[u]) * (X[w] - X[u]);
  // counter-clockwise in (x, y) as given (cross > 0)
  for (const t of tris) if (t.a < n && t.b < n && t.c < n) out.push(t.a, ...(cross(t.a, t.b, t.c) > 0 ? [t.b, t.c] : [t.c, t.b]));
  fillToHull(out, cross, X, Y);
  return Int32Array.from(out);
}

/**
 * The super triangle of Bowyer–Watson can leave thin slivers along the convex hull untriangulated (where hull
 * points are nearly collinear). Walks the boundary (each counter-clockwise triangle's edges that no other triangle
 * shares, the interior on their left) and closes every reflex turn u → v → w with the triangle (u, w, v) when no
 * other boundary point lies in it, until the boundary is convex.
 */
function fillToHull(tris: number[], cross: (u: number, v: number, w: number) => number, X: Float64Array, Y: Float64Array): void {
  const edges = new Set<string>();
  for (let k = 0; k < tris.length; k += 3) for (let e = 0; e < 3; e++) edges.add(`${tris[k + e]},${tris[k + ((e + 1) % 3)]}`);
  const next = new Map<number, number>();
  for (const key of edges) {
    const [u, v] = key.split(',').map(Number);
    if (edges.has(`${v},${u}`)) continue;
    if (next.has(u)) return; // the boundary touches itself: leave it as it is
    next.set(u, v);
  }
  const inside = (u: number, w: number, v: number, p: number) => {
    const px = X[p], py = Y[p];
    const s = (a: number, b: number) => (X[b] - X[a]) * (py - Y[a]) - (Y[b] - Y[a]) * (px - X[a]);
    return s(u, w) >= 0 && s(w, v) >= 0 && s(v, u) >= 0;
  };
  for (let changed = true, guard = 0; changed && guard < 4 * next.size + 4; guard++) {
    changed = false;
    for (const [u, v] of next) {
      const w = next.get(v);
      if (w === undefined || w === u || !next.has(u) || next.get(u) !== v) continue;
      if (cross(u, v, w) >= 0) continue; // convex (or straight) turn
      let blocked = false;
      for (const p of next.keys()) if (p !== u && p !== v && p !== w && inside(u, w, v, p)) (blocked = true);
      if (blocked) continue;
      tris.push(u, w, v);
      next.delete(v);
      next.set(u, w);
      changed = true;
    }
  }
}

/**
 * The reference's z at image position (x, y): barycentric interpolation in the triangle of `triangles` (default:
 * the Delaunay triangulation of the points' image positions) that holds the position; NaN outside them all.
 * `points468`: [468*3] x, y, z (FaceMeshReference.locate's points); pass `triangles` when asking many times.
 */
export function meshDepthAt(points468: ArrayLike<number>, x: number, y: number, triangles: Triangles = triangulate(points468)): number {
  const P = points468;
  let best = -Infinity, value = NaN;
  for (let t = 0; t < triangles.length; t += 3) {
    const a = triangles[t] * 3, b = triangles[t + 1] * 3, c = triangles[t + 2] * 3;
    const ax = P[a], ay = P[a + 1], bx = P[b] - ax, by = P[b + 1] - ay, cx = P[c] - ax, cy = P[c + 1] - ay;
    const px = x - ax, py = y - ay, det = bx * cy - by * cx;
    if (det === 0) continue;
    const wb = (px * cy - py * cx) / det, wc = (bx * py - by * px) / det, wa = 1 - wb - wc;
    // inside (up to rounding on a shared edge): the triangle whose smallest weight is largest
    const least = Math.min(wa, wb, wc);
    if (least >= -1e-9 && least > best) {
      best = least;
      value = wa * P[a + 2] + wb * P[b + 2] + wc * P[c + 2];
    }
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------------------
// our side

/** Pinhole intrinsics of the frame, frame pixels (the engine's FrameIntrinsics). */
export type Intrinsics = PinholeIntrinsics;

/** Our depth map and where it lies (FaceResult's maps.depth, maps.size and placement). */
export interface OurDepth {
  /** [size*size] metres along the camera z axis, on the crop grid (row-major) */
  readonly depth: ArrayLike<number>;
  readonly size: number;
  readonly placement: Pick<CropPlacement, 'cropX' | 'cropY'>;
}

/** What relief() needs of our face: the depth, the intrinsics and our 68 landmarks. */
export interface OurFace extends OurDepth {
  readonly intrinsics: Intrinsics;
  /** [68*3] frame x, y, seen (FaceResult.landmarks); 36 and 45 are the outer eye corners */
  readonly landmarks: ArrayLike<number>;
}

/**
 * Bilinear sample of an S×S crop-grid map at crop position (xc, yc); NaN outside [0, S − 1]² or where a tap with
 * weight is not finite.
 */
export function sampleMap(map: ArrayLike<number>, S: number, xc: number, yc: number): number {
  if (!(xc >= 0 && xc <= S - 1 && yc >= 0 && yc <= S - 1)) return NaN;
  const x0 = Math.min(S - 2, Math.floor(xc)), y0 = Math.min(S - 2, Math.floor(yc));
  const tx = xc - x0, ty = yc - y0;
  let sum = 0;
  for (const [dx, dy, w] of [[0, 0, (1 - tx) * (1 - ty)], [1, 0, tx * (1 - ty)], [0, 1, (1 - tx) * ty], [1, 1, tx * ty]] as const) {
    if (w === 0) continue;
    const v = map[(y0 + dy) * S + x0 + dx];
    if (!Number.isFinite(v)) return NaN;
    sum += w * v;
  }
  return sum;
}

/** Our depth (metres) at frame position (x, y): bilinear at its crop position. */
export function ourDepthAt(ours: OurDepth, x: number, y: number): number {
  if (ours.depth.length !== ours.size * ours.size) throw new RangeError(`depth map of ${ours.depth.length} values is not ${ours.size}x${ours.size}`);
  return sampleMap(ours.depth, ours.size, ours.placement.cropX(x, y), ours.placement.cropY(x, y));
}

/** The camera-frame point (metres) of frame pixel (x, y) at depth z (metres along the camera axis). */
export function backProject(K: Intrinsics, x: number, y: number, z: number): [number, number, number] {
  return [((x - K.cx) * z) / K.fx, ((y - K.cy) * z) / K.fy, z];
}

export interface Relief {
  /** ours: (mean cheek depth − nose-tip depth) / 3D outer-eye-corner distance */
  readonly ours: number;
  /** the reference's: (mean cheek z − nose-tip z) / 3D distance of mesh vertices 33 and 263 */
  readonly reference: number;
  /** ours / reference */
  readonly ratio: number;
  /** the parts: our nose-to-cheek difference and eye-corner distance (metres), the reference's (frame pixels) */
  readonly ourNoseToCheek: number;
  readonly ourEyeCorners: number;
  readonly referenceNoseToCheek: number;
  readonly referenceEyeCorners: number;
}

/** Mesh vertices of the outer eye corners in MediaPipe's numbering: 33 the subject's right (image left), 263 the left. */
export const MESH_OUTER_EYE_CORNERS = [33, 263] as const;

/**
 * The relief of our depth and of the reference's at the positions reliefPoints(ref68) gives. NaN parts (a
 * position outside our crop or the reference's mesh) make the results NaN.
 */
export function relief(ours: OurFace, ref68: ArrayLike<number>, points468: ArrayLike<number>, ref68Stride = 2): Relief {
  const at = reliefPoints(ref68, ref68Stride);
  const spots = [at.noseTip, at.rightCheek, at.leftCheek];

  const [dn, dr, dl] = spots.map(([x, y]) => ourDepthAt(ours, x, y));
  const ourNoseToCheek = (dr + dl) / 2 - dn;
  const L = ours.landmarks, corner = (l: number) => {
    const x = L[l * 3], y = L[l * 3 + 1];
    return backProject(ours.intrinsics, x, y, ourDepthAt(ours, x, y));
  };
  const ourEyeCorners = dist3(corner(36), corner(45));

  const tri = triangulate(points468);
  const [zn, zr, zl] = spots.map(([x, y]) => meshDepthAt(points468, x, y, tri));
  const referenceNoseToCheek = (zr + zl) / 2 - zn;
  const vertex = (i: number): [number, number, number] => [points468[3 * i], points468[3 * i + 1], points468[3 * i + 2]];
  const referenceEyeCorners = dist3(vertex(MESH_OUTER_EYE_CORNERS[0]), vertex(MESH_OUTER_EYE_CORNERS[1]));

  const o = ourNoseToCheek / ourEyeCorners, r = referenceNoseToCheek / referenceEyeCorners;
  return { ours: o, reference: r, ratio: o / r, ourNoseToCheek, ourEyeCorners, referenceNoseToCheek, referenceEyeCorners };
}

const dist3 = (a: readonly number[], b: readonly number[]) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

/** Our depth and part mask (FaceResult's maps.depth, maps.mask, maps.size, placement). */
export interface OurDepthAndParts extends OurDepth {
  /** [size*size] PartId */
  readonly mask: ArrayLike<number>;
}

/**
 * Pearson r between our depth at each mesh vertex's image position (bilinear) and the vertex's z, over the vertices
 * whose nearest crop pixel our mask calls face skin (and whose depth sample is finite); `n` of them were used. r is
 * NaN under 3 points or when either side is constant.
 */
export function depthCorrelation(points468: ArrayLike<number>, ours: OurDepthAndParts): { r: number; n: number } {
  const S = ours.size;
  if (ours.depth.length !== S * S || ours.mask.length !== S * S) throw new RangeError(`depth (${ours.depth.length}) and mask (${ours.mask.length}) must both be ${S}x${S}`);
  const a: number[] = [], b: number[] = [];
  for (let i = 0; 3 * i + 2 < points468.length; i++) {
    const xc = ours.placement.cropX(points468[3 * i], points468[3 * i + 1]), yc = ours.placement.cropY(points468[3 * i], points468[3 * i + 1]), z = points468[3 * i + 2];
    const kx = Math.round(xc), ky = Math.round(yc);
    if (!(kx >= 0 && kx < S && ky >= 0 && ky < S) || ours.mask[ky * S + kx] !== PartId.FACE_SKIN || !Number.isFinite(z)) continue;
    const d = sampleMap(ours.depth, S, xc, yc);
    if (!Number.isFinite(d)) continue;
    a.push(d);
    b.push(z);
  }
  return { r: pearson(a, b), n: a.length };
}
