/**
 * Which canonical coordinates lie on the rigid part of the face (forehead, nose bridge, temples, cheekbones: the
 * rigid face vertices of faceTemplate.ts), as a voxel grid over canonical space. The pose fit uses every face
 * pixel whose predicted canonical coordinate falls in it: hundreds of correspondences, and no lookup at all.
 */
import { CANONICAL_NORMALIZATION } from '../../../shared/canonical.js';

/** Grid cell, metres: a few times the model's canonical error, so a pixel near a rigid vertex counts. */
const CELL_M = 0.006;

export class RigidRegion {
  private readonly cells: Uint8Array;
  private readonly n: number;
  private readonly origin: [number, number, number];

  /** `rigidM`: [k*3] canonical positions (metres) of the rigid vertices. */
  constructor(rigidM: ArrayLike<number>) {
    const { centerM: center, halfExtentM: halfExtent } = CANONICAL_NORMALIZATION;
    this.n = Math.ceil((2 * halfExtent) / CELL_M);
    this.origin = [center[0] - halfExtent, center[1] - halfExtent, center[2] - halfExtent];
    this.cells = new Uint8Array(this.n ** 3);
    for (let v = 0; v < rigidM.length / 3; v++) {
      const c = this.cell(rigidM[v * 3], rigidM[v * 3 + 1], rigidM[v * 3 + 2]);
      if (c >= 0) this.cells[c] = 1;
    }
  }

  has(x: number, y: number, z: number): boolean {
    const c = this.cell(x, y, z);
    return c >= 0 && this.cells[c] === 1;
  }

  private cell(x: number, y: number, z: number): number {
    const i = Math.floor((x - this.origin[0]) / CELL_M), j = Math.floor((y - this.origin[1]) / CELL_M), k = Math.floor((z - this.origin[2]) / CELL_M);
    const n = this.n;
    if (i < 0 || j < 0 || k < 0 || i >= n || j >= n || k >= n) return -1;
    return (k * n + j) * n + i;
  }
}
