/**
 * The camera image with the tracked points and the 68 landmarks drawn over it, in one WebGL2 canvas sized to the
 * video. Points arrive in frame pixels (shared/wire); the image is the live video, so overlays lag it by the
 * latency shown in the panel.
 */
import { attribute, context, program } from './gl.js';

const QUAD_VS = `#version 300 es
in vec2 a; out vec2 uv;
void main() { uv = vec2(a.x * 0.5 + 0.5, 0.5 - a.y * 0.5); gl_Position = vec4(a, 0.0, 1.0); }`;
const QUAD_FS = `#version 300 es
precision mediump float; uniform sampler2D img; in vec2 uv; out vec4 o;
void main() { o = texture(img, uv); }`;
const POINT_VS = `#version 300 es
in vec2 p; in vec3 c; uniform vec2 size; uniform float px; out vec3 col;
void main() { col = c; gl_PointSize = px; gl_Position = vec4((p.x + 0.5) / size.x * 2.0 - 1.0, 1.0 - (p.y + 0.5) / size.y * 2.0, 0.0, 1.0); }`;
const POINT_FS = `#version 300 es
precision mediump float; in vec3 col; out vec4 o;
void main() { vec2 d = gl_PointCoord - 0.5; if (dot(d, d) > 0.25) discard; o = vec4(col, 1.0); }`;

export interface Overlay {
  /** [n*2] frame pixels */
  readonly xy: Float32Array;
  /** [n*3] 0..1 */
  readonly rgb: Float32Array;
  readonly count: number;
  readonly sizePx: number;
}

export class FrameView {
  private readonly gl: WebGL2RenderingContext;
  private readonly quad: { prog: WebGLProgram; vao: WebGLVertexArrayObject; tex: WebGLTexture };
  private readonly points: { prog: WebGLProgram; vao: WebGLVertexArrayObject; xy: WebGLBuffer; rgb: WebGLBuffer };

  constructor(readonly canvas: HTMLCanvasElement) {
    const gl = (this.gl = context(canvas));
    const qp = program(gl, QUAD_VS, QUAD_FS);
    const qvao = gl.createVertexArray()!;
    gl.bindVertexArray(qvao);
    attribute(gl, gl.getAttribLocation(qp, 'a'), 2, gl.FLOAT);
    gl.bufferData(gl.ARRAY_BUFFER, Float32Array.of(-1, -1, 1, -1, -1, 1, 1, 1), gl.STATIC_DRAW);
    const tex = gl.createTexture()!;
    gl.bindTexture(gl.TEXTURE_2D, tex);
    for (const [k, v] of [[gl.TEXTURE_MIN_FILTER, gl.LINEAR], [gl.TEXTURE_MAG_FILTER, gl.LINEAR], [gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE], [gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE]]) gl.texParameteri(gl.TEXTURE_2D, k, v);
    this.quad = { prog: qp, vao: qvao, tex };
    const pp = program(gl, POINT_VS, POINT_FS);
    const pvao = gl.createVertexArray()!;
    gl.bindVertexArray(pvao);
    const xy = attribute(gl, gl.getAttribLocation(pp, 'p'), 2, gl.FLOAT);
    const rgb = attribute(gl, gl.getAttribLocation(pp, 'c'), 3, gl.FLOAT);
    this.points = { prog: pp, vao: pvao, xy, rgb };
    gl.bindVertexArray(null);
  }

  /** Draws the current video image (or black) and the overlays; returns false while the video has no frame yet. */
  draw(video: HTMLVideoElement, overlays: readonly Overlay[], showImage = true): boolean {
    const W = video.videoWidth, H = video.videoHeight;
    if (!W || !H) return false;
    if (this.canvas.width !== W || this.canvas.height !== H) {
      this.canvas.width = W;
      this.canvas.height = H;
    }
    const gl = this.gl;
    gl.viewport(0, 0, W, H);
    gl.clearColor(0, 0, 0, 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
    if (showImage) {
      gl.useProgram(this.quad.prog);
      gl.bindVertexArray(this.quad.vao);
      gl.activeTexture(gl.TEXTURE0);
      gl.bindTexture(gl.TEXTURE_2D, this.quad.tex);
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, video);
      gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    }
    gl.useProgram(this.points.prog);
    gl.bindVertexArray(this.points.vao);
    gl.uniform2f(gl.getUniformLocation(this.points.prog, 'size'), W, H);
    for (const o of overlays) {
      if (!o.count) continue;
      gl.uniform1f(gl.getUniformLocation(this.points.prog, 'px'), o.sizePx);
      gl.bindBuffer(gl.ARRAY_BUFFER, this.points.xy);
      gl.bufferData(gl.ARRAY_BUFFER, o.xy.subarray(0, o.count * 2), gl.DYNAMIC_DRAW);
      gl.bindBuffer(gl.ARRAY_BUFFER, this.points.rgb);
      gl.bufferData(gl.ARRAY_BUFFER, o.rgb.subarray(0, o.count * 3), gl.DYNAMIC_DRAW);
      gl.drawArrays(gl.POINTS, 0, o.count);
    }
    gl.bindVertexArray(null);
    return true;
  }
}
