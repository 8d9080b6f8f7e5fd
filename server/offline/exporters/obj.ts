/**
 * Wavefront OBJ for the tracked mesh: one file per frame, same vertex order and faces in every file, so a
 * vertex index names the same face point across the sequence. Camera frame, metres, like the PLY clouds.
 */
import type { TrackedMesh } from '../../engine/trackedMesh.js';

/** The part every frame's file shares (uvs and faces), built once per sequence. */
export class ObjWriter {
  private readonly tail: string;

  constructor(mesh: TrackedMesh) {
    // only the uvs the faces use, renumbered in order of first use
    const uvIndex = new Map<number, number>();
    const vt: string[] = [];
    const f: string[] = [];
    const tri = mesh.triangles, tuv = mesh.triangleUvs;
    for (let t = 0; t < tri.length; t += 3) {
      const corner: string[] = [];
      for (let k = 0; k < 3; k++) {
        let u = uvIndex.get(tuv[t + k]);
        if (u === undefined) {
          u = uvIndex.size + 1;
          uvIndex.set(tuv[t + k], u);
          vt.push(`vt ${fmt(mesh.uv[tuv[t + k] * 2], 5)} ${fmt(mesh.uv[tuv[t + k] * 2 + 1], 5)}`);
        }
        corner.push(`${tri[t + k] + 1}/${u}`);
      }
      f.push(`f ${corner.join(' ')}`);
    }
    this.tail = vt.join('\n') + '\n' + f.join('\n') + '\n';
  }

  /** One frame: `vertices` [N*3] metres in the camera frame (TrackedMesh.posed). */
  frame(vertices: Float32Array, comment: string): string {
    const v: string[] = [`# facelive tracked mesh: ${comment}`, '# metres, camera frame (x right, y down, z forward); ICT-FaceKit topology (MIT)'];
    for (let i = 0; i < vertices.length; i += 3) v.push(`v ${fmt(vertices[i], 6)} ${fmt(vertices[i + 1], 6)} ${fmt(vertices[i + 2], 6)}`);
    return v.join('\n') + '\n' + this.tail;
  }
}

const fmt = (x: number, digits: number) => (Object.is(x, -0) ? 0 : Number(x.toFixed(digits))).toString();
