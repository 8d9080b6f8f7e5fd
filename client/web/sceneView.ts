/**
 * The 3D view: the point cloud from the depth map and the tracked mesh, in an orbit camera around the face
 * (drag to turn, wheel to zoom, double-click to reset). The server's camera frame is x right, y down, z forward;
 * the view flips y and z so that up is up.
 */
import { mat3, mat4, vec3 } from 'gl-matrix';
import { attribute, context, program } from './gl.js';

const CLOUD_VS = `#version 300 es
in vec3 p; in vec3 c; uniform mat4 mvp; uniform float px; out vec3 col;
void main() { col = c; gl_Position = mvp * vec4(p, 1.0); gl_PointSize = px; }`;
const CLOUD_FS = `#version 300 es
precision mediump float; in vec3 col; out vec4 o;
void main() { o = vec4(col, 1.0); }`;
const MESH_VS = `#version 300 es
in vec3 p; uniform mat4 mvp; uniform mat4 mv; out vec3 viewPos;
void main() { viewPos = (mv * vec4(p, 1.0)).xyz; gl_Position = mvp * vec4(p, 1.0); }`;
// flat shading from screen-space derivatives: no normals to send or compute
const MESH_FS = `#version 300 es
precision mediump float; in vec3 viewPos; uniform float alpha; out vec4 o;
void main() {
  vec3 n = normalize(cross(dFdx(viewPos), dFdy(viewPos)));
  float l = 0.25 + 0.75 * abs(dot(n, normalize(vec3(0.3, 0.5, 1.0))));
  o = vec4(vec3(0.72, 0.78, 0.9) * l, alpha);
}`;

/** A mesh in the camera frame of the frame it was computed for, plus that frame's head pose. */
export interface MeshSnapshot {
  readonly vertices: Float32Array;
  readonly rotation: Float32Array;
  readonly translationM: Float32Array;
}

export class SceneView {
  private readonly gl: WebGL2RenderingContext;
  private readonly cloud: { prog: WebGLProgram; vao: WebGLVertexArrayObject; pos: WebGLBuffer; col: WebGLBuffer; count: number };
  private readonly mesh: { prog: WebGLProgram; vao: WebGLVertexArrayObject; pos: WebGLBuffer; idx: WebGLBuffer; indexCount: number; hasVertices: boolean };
  private yaw = 0.5;
  private pitch = 0.15;
  private distance = 0.7;
  private readonly target = vec3.fromValues(0, 0, 0.5);
  private targetSet = false;

  constructor(readonly canvas: HTMLCanvasElement) {
    const gl = (this.gl = context(canvas));
    const cp = program(gl, CLOUD_VS, CLOUD_FS);
    const cvao = gl.createVertexArray()!;
    gl.bindVertexArray(cvao);
    const pos = attribute(gl, gl.getAttribLocation(cp, 'p'), 3, gl.FLOAT);
    const col = attribute(gl, gl.getAttribLocation(cp, 'c'), 3, gl.UNSIGNED_BYTE, true);
    this.cloud = { prog: cp, vao: cvao, pos, col, count: 0 };
    const mp = program(gl, MESH_VS, MESH_FS);
    const mvao = gl.createVertexArray()!;
    gl.bindVertexArray(mvao);
    const mpos = attribute(gl, gl.getAttribLocation(mp, 'p'), 3, gl.FLOAT);
    const idx = gl.createBuffer()!;
    gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, idx);
    this.mesh = { prog: mp, vao: mvao, pos: mpos, idx, indexCount: 0, hasVertices: false };
    gl.bindVertexArray(null);
    this.bindOrbit();
  }

  private bindOrbit(): void {
    let drag: { x: number; y: number } | null = null;
    this.canvas.addEventListener('pointerdown', (e) => {
      drag = { x: e.clientX, y: e.clientY };
      this.canvas.setPointerCapture(e.pointerId);
    });
    this.canvas.addEventListener('pointerup', () => (drag = null));
    this.canvas.addEventListener('pointermove', (e) => {
      if (!drag) return;
      this.yaw += (e.clientX - drag.x) * 0.01;
      this.pitch = Math.max(-1.4, Math.min(1.4, this.pitch + (e.clientY - drag.y) * 0.01));
      drag = { x: e.clientX, y: e.clientY };
    });
    this.canvas.addEventListener('wheel', (e) => {
      e.preventDefault();
      this.distance = Math.max(0.1, Math.min(3, this.distance * Math.exp(e.deltaY * 0.001)));
    }, { passive: false });
    this.canvas.addEventListener('dblclick', () => {
      this.yaw = 0.5;
      this.pitch = 0.15;
      this.distance = 0.7;
      this.targetSet = false;
    });
  }

  setTriangles(triangles: Uint16Array): void {
    const gl = this.gl;
    gl.bindVertexArray(this.mesh.vao);
    gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, this.mesh.idx);
    gl.bufferData(gl.ELEMENT_ARRAY_BUFFER, triangles, gl.STATIC_DRAW);
    gl.bindVertexArray(null);
    this.mesh.indexCount = triangles.length;
  }

  setCloud(positions: Float32Array, colors: Uint8Array, count: number): void {
    const gl = this.gl;
    gl.bindBuffer(gl.ARRAY_BUFFER, this.cloud.pos);
    gl.bufferData(gl.ARRAY_BUFFER, positions.subarray(0, count * 3), gl.DYNAMIC_DRAW);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.cloud.col);
    gl.bufferData(gl.ARRAY_BUFFER, colors.subarray(0, count * 3), gl.DYNAMIC_DRAW);
    this.cloud.count = count;
    if (count > 0) {
      // orbit around the cloud's centre, eased so that the view does not jump with every frame
      const c = vec3.create();
      for (let i = 0; i < count; i++) vec3.add(c, c, [positions[i * 3], positions[i * 3 + 1], positions[i * 3 + 2]]);
      vec3.scale(c, c, 1 / count);
      vec3.lerp(this.target, this.target, c, this.targetSet ? 0.1 : 1);
      this.targetSet = true;
    }
  }

  setMeshVertices(vertices: Float32Array): void {
    const gl = this.gl;
    gl.bindBuffer(gl.ARRAY_BUFFER, this.mesh.pos);
    gl.bufferData(gl.ARRAY_BUFFER, vertices, gl.DYNAMIC_DRAW);
    this.mesh.hasVertices = true;
  }

  /**
   * `meshModel`: moves the last mesh snapshot from its frame's head pose to the current one (the mesh comes every
   * few frames, the pose with every frame): current R·(snapshot R)ᵀ·(v − snapshot t) + current t.
   */
  static repose(snapshot: MeshSnapshot, rotation: Float32Array, translationM: Float32Array): mat4 {
    const toMat4 = (r: Float32Array, t: Float32Array) => {
      const m3 = mat3.transpose(mat3.create(), r as unknown as mat3); // row-major on the wire, column-major here
      const m = mat4.fromValues(m3[0], m3[1], m3[2], 0, m3[3], m3[4], m3[5], 0, m3[6], m3[7], m3[8], 0, t[0], t[1], t[2], 1);
      return m;
    };
    const now = toMat4(rotation, translationM);
    const then = mat4.invert(mat4.create(), toMat4(snapshot.rotation, snapshot.translationM))!;
    return mat4.multiply(mat4.create(), now, then);
  }

  draw(o: { cloud: boolean; mesh: boolean; meshModel: mat4 | null; pointSize: number }): void {
    const gl = this.gl, W = this.canvas.clientWidth || this.canvas.width, H = this.canvas.clientHeight || this.canvas.height;
    if (this.canvas.width !== W || this.canvas.height !== H) {
      this.canvas.width = W;
      this.canvas.height = H;
    }
    gl.viewport(0, 0, W, H);
    gl.clearColor(0.08, 0.09, 0.11, 1);
    gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
    gl.enable(gl.DEPTH_TEST);
    const proj = mat4.perspective(mat4.create(), (40 * Math.PI) / 180, W / H, 0.01, 10);
    // camera frame (y down, z forward) to a y-up, z-towards-viewer world, centred on the face
    const flip = mat4.fromScaling(mat4.create(), [1, -1, -1]);
    const centre = mat4.fromTranslation(mat4.create(), vec3.negate(vec3.create(), this.target));
    const world = mat4.multiply(mat4.create(), flip, centre);
    const eye = vec3.fromValues(this.distance * Math.sin(this.yaw) * Math.cos(this.pitch), this.distance * Math.sin(this.pitch), this.distance * Math.cos(this.yaw) * Math.cos(this.pitch));
    const view = mat4.lookAt(mat4.create(), eye, [0, 0, 0], [0, 1, 0]);
    const vw = mat4.multiply(mat4.create(), view, world);
    if (o.cloud && this.cloud.count) {
      gl.useProgram(this.cloud.prog);
      gl.bindVertexArray(this.cloud.vao);
      gl.uniformMatrix4fv(gl.getUniformLocation(this.cloud.prog, 'mvp'), false, mat4.multiply(mat4.create(), proj, vw) as Float32Array);
      gl.uniform1f(gl.getUniformLocation(this.cloud.prog, 'px'), o.pointSize);
      gl.drawArrays(gl.POINTS, 0, this.cloud.count);
    }
    if (o.mesh && this.mesh.hasVertices && this.mesh.indexCount) {
      const mv = mat4.multiply(mat4.create(), vw, o.meshModel ?? mat4.create());
      gl.useProgram(this.mesh.prog);
      gl.bindVertexArray(this.mesh.vao);
      gl.uniformMatrix4fv(gl.getUniformLocation(this.mesh.prog, 'mvp'), false, mat4.multiply(mat4.create(), proj, mv) as Float32Array);
      gl.uniformMatrix4fv(gl.getUniformLocation(this.mesh.prog, 'mv'), false, mv as Float32Array);
      const overCloud = o.cloud && this.cloud.count > 0;
      gl.uniform1f(gl.getUniformLocation(this.mesh.prog, 'alpha'), overCloud ? 0.45 : 1);
      if (overCloud) {
        gl.enable(gl.BLEND);
        gl.blendFunc(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA);
        gl.depthMask(false);
      }
      gl.drawElements(gl.TRIANGLES, this.mesh.indexCount, gl.UNSIGNED_SHORT, 0);
      gl.disable(gl.BLEND);
      gl.depthMask(true);
    }
    gl.bindVertexArray(null);
  }
}
