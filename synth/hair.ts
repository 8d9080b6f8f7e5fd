/**
 * facekit has no hair. A simple procedural hair shell stands in for it: the scalp (and the top of the forehead
 * above the hairline) is copied, pushed out along the surface normals by the style's thickness, and drawn as a
 * separate surface with mask id HAIR and no canonical coordinate. Thickness fades to zero at the hairline so the
 * shell meets the skin without a visible step. It is no substitute for real hair (no strands, no long hair
 * falling over the face): the model card states this limit.
 */
import type { HairStyle } from './appearance.js';
import type { HeadAssets } from './headAssets.js';
import { smoothstep } from './noise.js';

export interface HairShell {
  /** triangle ids (into the head topology) drawn as hair */
  readonly triangles: Int32Array;
  /** [n*3] the vertex indices of those triangles */
  readonly vertexTriangles: Int32Array;
  /** [V] outward offset of each vertex, metres (0 off the shell) */
  readonly thicknessM: Float32Array;
}

/** How much of a template point a style covers, 0..1 (smooth at the hairline). */
function coverage(style: HairStyle, x: number, y: number, z: number): number {
  // front (z > 4 cm) uses the front hairline, the sides the side line, the back the back line
  const front = smoothstep(0.0, 0.05, z);
  const back = smoothstep(-0.01, -0.05, z);
  const line = front * style.frontY + back * style.backY + (1 - front - back) * style.sideY;
  // keep the face itself free below the hairline even where the side line is low
  const faceGuard = z > 0.05 && Math.abs(x) < 0.065 ? style.frontY : -Infinity;
  return smoothstep(Math.max(line, faceGuard) - 0.004, Math.max(line, faceGuard) + 0.012, y);
}

export function buildHairShell(style: HairStyle, assets: HeadAssets): HairShell | null {
  if (style.bald) return null;
  const P = assets.model.neutralM;
  const V = assets.model.vertexCount;
  const thicknessM = new Float32Array(V);
  const tri = assets.topology.triangles;
  const chosen: number[] = [];
  for (const t of assets.skinTriangles) {
    let all = true;
    for (let k = 0; k < 3; k++) {
      const v = tri[t * 3 + k];
      const c = coverage(style, P[v * 3], P[v * 3 + 1], P[v * 3 + 2]);
      if (c <= 0) all = false;
      // thicker on the crown than at the temples
      thicknessM[v] = c * style.thicknessM * (0.6 + 0.4 * smoothstep(0.04, 0.12, P[v * 3 + 1]));
    }
    if (all) chosen.push(t);
  }
  if (!chosen.length) return null;
  const vertexTriangles = new Int32Array(chosen.length * 3);
  chosen.forEach((t, i) => vertexTriangles.set(tri.subarray(t * 3, t * 3 + 3), i * 3));
  return { triangles: Int32Array.from(chosen), vertexTriangles, thicknessM };
}
