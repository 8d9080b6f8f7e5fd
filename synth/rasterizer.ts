/**
 * A z-buffered triangle rasterizer producing a visibility buffer: per pixel, the nearest triangle and the layer
 * (mesh) it came from. Attributes are resolved afterwards, only for visible pixels, with perspective-correct
 * barycentrics (resolveBarycentrics): depth, canonical coordinates, normals and texture coordinates all come from
 * the same three weights, so they are consistent with each other by construction.
 *
 * Conventions: pixel (x, y) is sampled at its centre, which has the integer coordinates (x, y) (OpenCV's
 * convention: a projection u = fx * X / Z + cx lands on pixel centres at integers). Both windings are drawn and
 * the z-test decides, because the mouth and eye sockets are seen from inside; only triangles marked in
 * `cullBack` (closed outer surfaces) are skipped when facing away.
 */

export interface VisibilityBuffer {
  readonly width: number;
  readonly height: number;
  /** [H*W] 1/z of the nearest surface (camera z, metres⁻¹); 0 where empty */
  readonly invDepth: Float32Array;
  /** [H*W] triangle id within its layer; -1 where empty */
  readonly triangle: Int32Array;
  /** [H*W] layer id of that triangle */
  readonly layer: Uint8Array;
}

/** A mesh projected to the screen: what rasterization and attribute resolution need. */
export interface ScreenMesh {
  /** [V] screen x, pixels */
  readonly sx: Float32Array;
  /** [V] screen y, pixels */
  readonly sy: Float32Array;
  /** [V] 1 / camera z; <= 0 for vertices at or behind the near plane */
  readonly invZ: Float32Array;
  /** [T*3] vertex indices; a triangle with a negative index is skipped */
  readonly triangles: Int32Array;
  /** [T] optional: triangles whose entry is 0 are skipped */
  readonly enabled?: Uint8Array;
  /**
   * [T] optional: 1 for triangles of closed, outward-wound surfaces that may be skipped when they face away from
   * the camera (they are always hidden behind the surface's front). Halves the work for skin and eyeballs.
   */
  readonly cullBack?: Uint8Array;
}

export function createVisibilityBuffer(width: number, height: number): VisibilityBuffer {
  return {
    width,
    height,
    invDepth: new Float32Array(width * height),
    triangle: new Int32Array(width * height).fill(-1),
    layer: new Uint8Array(width * height),
  };
}

export function clearVisibilityBuffer(buf: VisibilityBuffer): void {
  buf.invDepth.fill(0);
  buf.triangle.fill(-1);
  buf.layer.fill(0);
}

/** Edge tolerance in barycentric units: closes cracks between triangles sharing an edge. */
const EDGE_EPS = -1e-7;

/** Draws one mesh into the buffer with the z-test. */
export function rasterizeMesh(buf: VisibilityBuffer, layerId: number, mesh: ScreenMesh): void {
  const { width: W, height: H, invDepth, triangle, layer } = buf;
  const { sx, sy, invZ, triangles, enabled, cullBack } = mesh;
  const T = triangles.length / 3;
  for (let t = 0; t < T; t++) {
    if (enabled && enabled[t] === 0) continue;
    const i0 = triangles[t * 3];
    const i1 = triangles[t * 3 + 1];
    const i2 = triangles[t * 3 + 2];
    if (i0 < 0 || i1 < 0 || i2 < 0) continue;
    const z0 = invZ[i0];
    const z1 = invZ[i1];
    const z2 = invZ[i2];
    if (z0 <= 0 || z1 <= 0 || z2 <= 0) continue;
    const x0 = sx[i0], y0 = sy[i0];
    const x1 = sx[i1], y1 = sy[i1];
    const x2 = sx[i2], y2 = sy[i2];
    let minX = Math.ceil(Math.min(x0, x1, x2));
    let maxX = Math.floor(Math.max(x0, x1, x2));
    let minY = Math.ceil(Math.min(y0, y1, y2));
    let maxY = Math.floor(Math.max(y0, y1, y2));
    if (minX < 0) minX = 0;
    if (minY < 0) minY = 0;
    if (maxX > W - 1) maxX = W - 1;
    if (maxY > H - 1) maxY = H - 1;
    if (minX > maxX || minY > maxY) continue;
    const area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0);
    if (area === 0 || !Number.isFinite(area)) continue;
    // outward-wound triangles facing the camera have negative area in y-down screen coordinates
    if (area > 0 && cullBack !== undefined && cullBack[t] === 1) continue;
    const inv = 1 / area;
    // affine weights of v0 and v1 at the first pixel, and their steps per pixel in x and y
    const a0x = (y1 - y2) * inv, a0y = (x2 - x1) * inv;
    const a1x = (y2 - y0) * inv, a1y = (x0 - x2) * inv;
    let r0 = ((x1 - minX) * (y2 - minY) - (x2 - minX) * (y1 - minY)) * inv;
    let r1 = ((x2 - minX) * (y0 - minY) - (x0 - minX) * (y2 - minY)) * inv;
    for (let py = minY; py <= maxY; py++) {
      let w0 = r0;
      let w1 = r1;
      let idx = py * W + minX;
      for (let px = minX; px <= maxX; px++, idx++, w0 += a0x, w1 += a1x) {
        const w2 = 1 - w0 - w1;
        if (w0 < EDGE_EPS || w1 < EDGE_EPS || w2 < EDGE_EPS) continue;
        const iz = w0 * z0 + w1 * z1 + w2 * z2;
        if (iz > invDepth[idx]) {
          invDepth[idx] = iz;
          triangle[idx] = t;
          layer[idx] = layerId;
        }
      }
      r0 += a0y;
      r1 += a1y;
    }
  }
}

/**
 * Perspective-correct barycentrics of pixel (px, py) in triangle t of `mesh`, written to out[0..2].
 * They weight the triangle's vertices so that the interpolated camera-space point lies exactly on the
 * triangle's plane along the pixel's ray. Returns the camera z (metres) of that point.
 */
export function resolveBarycentrics(mesh: ScreenMesh, t: number, px: number, py: number, out: Float32Array | Float64Array): number {
  const { sx, sy, invZ, triangles } = mesh;
  const i0 = triangles[t * 3], i1 = triangles[t * 3 + 1], i2 = triangles[t * 3 + 2];
  const x0 = sx[i0], y0 = sy[i0], x1 = sx[i1], y1 = sy[i1], x2 = sx[i2], y2 = sy[i2];
  const inv = 1 / ((x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0));
  const w0 = ((x1 - px) * (y2 - py) - (x2 - px) * (y1 - py)) * inv;
  const w1 = ((x2 - px) * (y0 - py) - (x0 - px) * (y2 - py)) * inv;
  const w2 = 1 - w0 - w1;
  const p0 = w0 * invZ[i0], p1 = w1 * invZ[i1], p2 = w2 * invZ[i2];
  const iz = p0 + p1 + p2;
  out[0] = p0 / iz;
  out[1] = p1 / iz;
  out[2] = p2 / iz;
  return 1 / iz;
}
