/**
 * Everything the generator derives once per process from facekit: topology, the mesh evaluator, landmark and
 * eyeball positions on the template, and the template position of every texel of the two skin texture tiles
 * (so that skin detail can be painted as a function of the canonical 3D position, with no seams).
 */
import { loadFacekit } from '../node/facekit/loadFacekit.js';
import { partByName, type FacekitModel } from '../shared/facekit/facekitModel.js';
import { buildFaceTopology, type FaceTopology } from '../shared/facekit/faceTopology.js';
import { MeshEvaluator } from '../shared/facekit/meshEvaluator.js';
import { createVisibilityBuffer, rasterizeMesh, resolveBarycentrics } from './rasterizer.js';

/** Template positions of the texels of one UV tile. */
export interface TilePositionMap {
  readonly size: number;
  /** u of the tile's left edge (tiles are one unit wide) */
  readonly uOffset: number;
  /** [size*size*3] template position, metres (dilated past the charts' edges) */
  readonly position: Float32Array;
  /** [size*size] 1 inside a UV chart, 0 outside */
  readonly covered: Uint8Array;
}

export interface HeadAssets {
  readonly model: FacekitModel;
  readonly topology: FaceTopology;
  readonly evaluator: MeshEvaluator;
  /** [68*3] landmark positions on the template, metres */
  readonly landmarksTemplate: Float32Array;
  /** template centre of each eyeball (left = subject's left, +x) */
  readonly eyeCenters: { readonly left: Float64Array; readonly right: Float64Array };
  /** eyeball radius in the xy plane, metres */
  readonly eyeRadiusM: number;
  /** texel positions of the face tile (size x size) and the head tile (half that), baked on first use */
  tiles(faceTileSize: number): { readonly face: TilePositionMap; readonly head: TilePositionMap };
  /** triangle ids belonging to the facekit part "face" or "head_neck" (candidates for the hair shell) */
  readonly skinTriangles: Int32Array;
}


function partCentre(model: FacekitModel, name: string): Float64Array {
  const part = partByName(model, name);
  const c = new Float64Array(3);
  const n = part.vertices[1] - part.vertices[0] + 1;
  for (let v = part.vertices[0]; v <= part.vertices[1]; v++) {
    for (let k = 0; k < 3; k++) c[k] += model.neutralM[v * 3 + k] / n;
  }
  return c;
}

/** Rasterizes the triangles of one UV tile in texture space and records each texel's template position. */
function bakeTilePositions(model: FacekitModel, topo: FaceTopology, partName: string, uOffset: number, size: number): TilePositionMap {
  const part = partByName(model, partName);
  const T = topo.triangleCount;
  const enabled = new Uint8Array(T);
  for (let p = part.polygons[0]; p <= part.polygons[1]; p++) {
    enabled[p * 2] = 1;
    enabled[p * 2 + 1] = 1;
  }
  const U = model.uv.length / 2;
  const sx = new Float32Array(U), sy = new Float32Array(U), invZ = new Float32Array(U).fill(1);
  for (let i = 0; i < U; i++) {
    sx[i] = (model.uv[i * 2] - uOffset) * size - 0.5;
    sy[i] = model.uv[i * 2 + 1] * size - 0.5;
  }
  const mesh = { sx, sy, invZ, triangles: topo.triangleUvs, enabled };
  const vis = createVisibilityBuffer(size, size);
  rasterizeMesh(vis, 0, mesh);
  const position = new Float32Array(size * size * 3);
  const covered = new Uint8Array(size * size);
  const b = new Float64Array(3);
  const P = model.neutralM;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      const t = vis.triangle[i];
      if (t < 0) continue;
      resolveBarycentrics(mesh, t, x, y, b);
      const v0 = topo.triangles[t * 3], v1 = topo.triangles[t * 3 + 1], v2 = topo.triangles[t * 3 + 2];
      for (let k = 0; k < 3; k++) position[i * 3 + k] = b[0] * P[v0 * 3 + k] + b[1] * P[v1 * 3 + k] + b[2] * P[v2 * 3 + k];
      covered[i] = 1;
    }
  }
  // Grow the charts by a few texels so bilinear lookups at chart edges never blend in empty texels.
  let frontier = Uint8Array.from(covered);
  for (let pass = 0; pass < 4; pass++) {
    const next = Uint8Array.from(frontier);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const i = y * size + x;
        if (frontier[i]) continue;
        for (const [dx, dy] of [[1, 0], [-1, 0], [0, 1], [0, -1]] as const) {
          const xx = x + dx, yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= size || yy >= size) continue;
          const j = yy * size + xx;
          if (!frontier[j]) continue;
          position[i * 3] = position[j * 3];
          position[i * 3 + 1] = position[j * 3 + 1];
          position[i * 3 + 2] = position[j * 3 + 2];
          next[i] = 1;
          break;
        }
      }
    }
    frontier = next;
  }
  return { size, uOffset, position, covered };
}

let cached: HeadAssets | undefined;

export function loadHeadAssets(): HeadAssets {
  if (cached) return cached;
  const model = loadFacekit();
  const topology = buildFaceTopology(model);
  const evaluator = new MeshEvaluator(model);
  const landmarksTemplate = new Float32Array(68 * 3);
  for (let i = 0; i < 68; i++) {
    for (let k = 0; k < 3; k++) landmarksTemplate[i * 3 + k] = model.neutralM[model.landmarks68[i] * 3 + k];
  }
  const left = partCentre(model, 'eyeball_left');
  const right = partCentre(model, 'eyeball_right');
  const eyePart = partByName(model, 'eyeball_left');
  let eyeRadiusM = 0;
  for (let v = eyePart.vertices[0]; v <= eyePart.vertices[1]; v++) {
    const dx = model.neutralM[v * 3] - left[0], dy = model.neutralM[v * 3 + 1] - left[1];
    eyeRadiusM = Math.max(eyeRadiusM, Math.hypot(dx, dy));
  }
  const skin: number[] = [];
  for (const name of ['face', 'head_neck']) {
    const part = partByName(model, name);
    for (let p = part.polygons[0]; p <= part.polygons[1]; p++) {
      for (const t of [p * 2, p * 2 + 1]) if (topology.triangles[t * 3] >= 0) skin.push(t);
    }
  }
  const tileCache = new Map<number, { face: TilePositionMap; head: TilePositionMap }>();
  cached = {
    model,
    topology,
    evaluator,
    landmarksTemplate,
    eyeCenters: { left, right },
    eyeRadiusM,
    tiles(size: number) {
      let t = tileCache.get(size);
      if (!t) {
        t = { face: bakeTilePositions(model, topology, 'face', 0, size), head: bakeTilePositions(model, topology, 'head_neck', 1, size / 2) };
        tileCache.set(size, t);
      }
      return t;
    },
    skinTriangles: Int32Array.from(skin),
  };
  return cached;
}
