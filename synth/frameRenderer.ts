/**
 * Renders one frame of a posed facekit head with exact ground truth: RGB, depth, canonical coordinates, part
 * mask, 68 landmarks with visibility, and the visible triangle and barycentrics of every pixel.
 *
 * Path of a frame: expression → mesh (meshEvaluator) → normals → pose and projection (camera.ts) →
 * visibility buffer of head, hair shell and occluder (rasterizer.ts) → per-pixel attributes and shading →
 * background → camera effects (degrade.ts).
 */
import { gazeDirection, gazeFromWeights } from '../shared/gaze.js';
import { PartId } from '../shared/parts.js';
import { NOT_RENDERED } from '../shared/facekit/faceTopology.js';
import { sampleTexture, type Appearance, type Rgb } from './appearance.js';
import type { Background } from './background.js';
import { projectPoints, type Intrinsics, type Pose } from './camera.js';
import { applyCameraEffects, type CameraEffects } from './degrade.js';
import type { MapsImage } from '../shared/mapsImage.js';
import type { HairShell } from './hair.js';
import type { HeadAssets } from './headAssets.js';
import { shIrradiance, type Lighting } from './lighting.js';
import type { OccluderMesh } from './occluder.js';
import { clearVisibilityBuffer, createVisibilityBuffer, rasterizeMesh, resolveBarycentrics, type ScreenMesh, type VisibilityBuffer } from './rasterizer.js';
import type { Rng } from './random.js';

/** A rendered frame: the image and its exact maps, and what the rasterizer saw per pixel. */
export interface SynthFrame extends MapsImage {
  /** [H*W] facekit triangle id (faceTopology.ts) of the head surface seen; -1 elsewhere */
  readonly triangle: Int32Array;
  /** [H*W*3] perspective-correct barycentrics in that triangle; 0 elsewhere */
  readonly barycentric: Float32Array;
}

export interface FrameInput {
  readonly intrinsics: Intrinsics;
  readonly pose: Pose;
  /** neutral-expression positions of the identity, [V*3] metres */
  readonly identityBase: Float32Array;
  /** [57] */
  readonly expression: Float32Array;
  readonly appearance: Appearance;
  readonly lighting: Lighting;
  readonly background: Background;
  /** background shift for camera shake, pixels */
  readonly backgroundShift: [number, number];
  readonly hair: HairShell | null;
  /** in camera coordinates */
  readonly occluder: { mesh: OccluderMesh; color: Rgb } | null;
  readonly effects: CameraEffects;
  /** sensor noise of this frame */
  readonly noise: Rng;
}

const LAYER_HEAD = 0, LAYER_HAIR = 1, LAYER_OCCLUDER = 2;

/** Landmark visibility: a landmark is hidden when a surface lies this far in front of it around its pixel. */
export const LANDMARK_OCCLUSION_TOLERANCE_M = 0.006;

/** linear → sRGB, 4096-entry table over [0, 1] */
const SRGB_LUT = new Float32Array(4097);
for (let i = 0; i <= 4096; i++) {
  const c = i / 4096;
  SRGB_LUT[i] = c <= 0.0031308 ? 12.92 * c : 1.055 * Math.pow(c, 1 / 2.4) - 0.055;
}
function toSrgb(x: number): number {
  return x <= 0 ? 0 : x >= 1 ? 1 : SRGB_LUT[(x * 4096) | 0];
}

/** Area-weighted vertex normals of the enabled triangles; [V*3], unit length. */
export function vertexNormals(pos: Float32Array, triangles: Int32Array, enabledMask: Uint8Array, out: Float32Array): void {
  out.fill(0);
  const T = enabledMask.length;
  for (let t = 0; t < T; t++) {
    if (enabledMask[t] === NOT_RENDERED) continue;
    const a = triangles[t * 3] * 3, b = triangles[t * 3 + 1] * 3, c = triangles[t * 3 + 2] * 3;
    const ux = pos[b] - pos[a], uy = pos[b + 1] - pos[a + 1], uz = pos[b + 2] - pos[a + 2];
    const vx = pos[c] - pos[a], vy = pos[c + 1] - pos[a + 1], vz = pos[c + 2] - pos[a + 2];
    const nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
    out[a] += nx; out[a + 1] += ny; out[a + 2] += nz;
    out[b] += nx; out[b + 1] += ny; out[b + 2] += nz;
    out[c] += nx; out[c + 1] += ny; out[c + 2] += nz;
  }
  for (let i = 0; i < out.length; i += 3) {
    const l = Math.sqrt(out[i] * out[i] + out[i + 1] * out[i + 1] + out[i + 2] * out[i + 2]) || 1;
    out[i] /= l; out[i + 1] /= l; out[i + 2] /= l;
  }
}

/**
 * Template position (`pos`) and camera-frame normal (`normal`, not normalized) of the point with barycentrics `b`
 * in triangle t, whose vertex indices are in `triangles`; `normals` are head-frame vertex normals, R the pose.
 */
function headPoint(
  triangles: Int32Array, t: number, b: Float64Array, template: Float32Array, normals: Float32Array, R: Float64Array,
  pos: Float64Array, normal: Float64Array,
): void {
  const v0 = triangles[t * 3] * 3, v1 = triangles[t * 3 + 1] * 3, v2 = triangles[t * 3 + 2] * 3;
  for (let k = 0; k < 3; k++) pos[k] = b[0] * template[v0 + k] + b[1] * template[v1 + k] + b[2] * template[v2 + k];
  const hx = b[0] * normals[v0] + b[1] * normals[v1] + b[2] * normals[v2];
  const hy = b[0] * normals[v0 + 1] + b[1] * normals[v1 + 1] + b[2] * normals[v2 + 1];
  const hz = b[0] * normals[v0 + 2] + b[1] * normals[v1 + 2] + b[2] * normals[v2 + 2];
  normal[0] = R[0] * hx + R[1] * hy + R[2] * hz;
  normal[1] = R[3] * hx + R[4] * hy + R[5] * hz;
  normal[2] = R[6] * hx + R[7] * hy + R[8] * hz;
}

/** Parts whose surfaces are closed and wound outwards: their back faces can never be seen. */
const CULLABLE_PARTS = new Set(['face', 'head_neck', 'eyeball_left', 'eyeball_right']);

export function cullableTriangles(assets: HeadAssets): Uint8Array {
  const { topology, model } = assets;
  return Uint8Array.from(topology.trianglePart, (p, t) => (topology.triangleMask[t] !== NOT_RENDERED && CULLABLE_PARTS.has(model.parts[p].name) ? 1 : 0));
}

export class FrameRenderer {
  readonly width: number;
  readonly height: number;
  private readonly assets: HeadAssets;
  private readonly vis: VisibilityBuffer;
  private readonly V: number;
  private readonly posHead: Float32Array;
  private readonly normHead: Float32Array;
  private readonly cam: Float32Array;
  private readonly head: { sx: Float32Array; sy: Float32Array; invZ: Float32Array };
  private readonly hairPos: Float32Array;
  private readonly hairCam: Float32Array;
  private readonly hairScreen: { sx: Float32Array; sy: Float32Array; invZ: Float32Array };
  private readonly headEnabled: Uint8Array;
  private readonly headCullBack: Uint8Array;
  private readonly linear: Float32Array;

  constructor(assets: HeadAssets, width: number, height: number) {
    this.assets = assets;
    this.width = width;
    this.height = height;
    this.vis = createVisibilityBuffer(width, height);
    const V = (this.V = assets.model.vertexCount);
    this.posHead = new Float32Array(V * 3);
    this.normHead = new Float32Array(V * 3);
    this.cam = new Float32Array(V * 3);
    this.head = { sx: new Float32Array(V), sy: new Float32Array(V), invZ: new Float32Array(V) };
    this.hairPos = new Float32Array(V * 3);
    this.hairCam = new Float32Array(V * 3);
    this.hairScreen = { sx: new Float32Array(V), sy: new Float32Array(V), invZ: new Float32Array(V) };
    this.headEnabled = Uint8Array.from(assets.topology.triangleMask, (m) => (m === NOT_RENDERED ? 0 : 1));
    this.headCullBack = cullableTriangles(assets);
    this.linear = new Float32Array(width * height * 3);
  }

  render(input: FrameInput): SynthFrame {
    const { width: W, height: H, assets, vis } = this;
    const topo = assets.topology;
    const K = input.intrinsics;
    const R = input.pose.rotation;

    // 1. mesh and normals in the head frame
    assets.evaluator.evaluate(input.identityBase, input.expression, this.posHead);
    vertexNormals(this.posHead, topo.triangles, topo.triangleMask, this.normHead);

    // 2. project and rasterize head, hair shell and occluder
    projectPoints(this.posHead, input.pose, K, this.cam, this.head.sx, this.head.sy, this.head.invZ);
    const headMesh: ScreenMesh = { ...this.head, triangles: topo.triangles, enabled: this.headEnabled, cullBack: this.headCullBack };
    clearVisibilityBuffer(vis);
    rasterizeMesh(vis, LAYER_HEAD, headMesh);
    let hairMesh: ScreenMesh | null = null;
    if (input.hair) {
      const th = input.hair.thicknessM;
      for (let v = 0; v < this.V; v++) {
        const t = th[v];
        this.hairPos[v * 3] = this.posHead[v * 3] + this.normHead[v * 3] * t;
        this.hairPos[v * 3 + 1] = this.posHead[v * 3 + 1] + this.normHead[v * 3 + 1] * t;
        this.hairPos[v * 3 + 2] = this.posHead[v * 3 + 2] + this.normHead[v * 3 + 2] * t;
      }
      projectPoints(this.hairPos, input.pose, K, this.hairCam, this.hairScreen.sx, this.hairScreen.sy, this.hairScreen.invZ);
      hairMesh = { ...this.hairScreen, triangles: input.hair.vertexTriangles };
      rasterizeMesh(vis, LAYER_HAIR, hairMesh);
    }
    let occMesh: ScreenMesh | null = null;
    if (input.occluder) {
      const p = input.occluder.mesh.positions;
      const n = p.length / 3;
      const sx = new Float32Array(n), sy = new Float32Array(n), invZ = new Float32Array(n), cam = new Float32Array(n * 3);
      const identity: Pose = { rotation: Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1), translationM: new Float64Array(3) };
      projectPoints(p, identity, K, cam, sx, sy, invZ);
      occMesh = { sx, sy, invZ, triangles: input.occluder.mesh.triangles };
      rasterizeMesh(vis, LAYER_OCCLUDER, occMesh);
    }

    // 3. per-pixel attributes and shading
    const depth = new Float32Array(W * H);
    const canonical = new Float32Array(W * H * 3);
    const mask = new Uint8Array(W * H);
    const triangle = new Int32Array(W * H).fill(-1);
    const barycentric = new Float32Array(W * H * 3);
    const rgb = this.linear;
    const template = assets.model.neutralM;
    const uv = assets.model.uv;
    const app = input.appearance;
    const light = input.lighting;
    const b = new Float64Array(3);
    const albedo = new Float64Array(3);
    const irr = new Float64Array(3);
    const surf = new Float64Array(3);
    const normal = new Float64Array(3);
    const bg = input.background;
    const margin = (bg.width - W) / 2;
    const [shiftX, shiftY] = input.backgroundShift;
    const pupilDilate = [input.expression[53], input.expression[54]];
    const gaze = gazeFromWeights(input.expression);
    const gazeDirs = [gazeDirection(gaze.left), gazeDirection(gaze.right)];
    // lights flattened: direction xyz, colour rgb
    const lights = Float64Array.from(light.lights.flatMap((l) => [...l.direction, ...l.color]));
    const lightCount = light.lights.length;

    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const i = y * W + x;
        const t = vis.triangle[i];
        const o = i * 3;
        if (t < 0) {
          const bx = Math.min(bg.width - 1, Math.max(0, Math.round(x + margin + shiftX)));
          const by = Math.min(bg.height - 1, Math.max(0, Math.round(y + margin + shiftY)));
          const q = (by * bg.width + bx) * 3;
          rgb[o] = bg.pixels[q];
          rgb[o + 1] = bg.pixels[q + 1];
          rgb[o + 2] = bg.pixels[q + 2];
          continue;
        }
        const layer = vis.layer[i];
        let nx = 0, ny = 0, nz = 0; // camera-frame normal
        let spec = app.specular, shin = app.shininess;
        let z: number;
        if (layer === LAYER_HEAD) {
          z = resolveBarycentrics(headMesh, t, x, y, b);
          headPoint(topo.triangles, t, b, template, this.normHead, R, surf, normal);
          const cx = surf[0], cy = surf[1], cz = surf[2];
          nx = normal[0];
          ny = normal[1];
          nz = normal[2];
          canonical[o] = cx;
          canonical[o + 1] = cy;
          canonical[o + 2] = cz;
          barycentric[o] = b[0];
          barycentric[o + 1] = b[1];
          barycentric[o + 2] = b[2];
          triangle[i] = t;
          const part = topo.triangleMask[t];
          mask[i] = part;
          if (part === PartId.FACE_SKIN || part === PartId.HEAD_SKIN) {
            const u0 = topo.triangleUvs[t * 3] * 2, u1 = topo.triangleUvs[t * 3 + 1] * 2, u2 = topo.triangleUvs[t * 3 + 2] * 2;
            const u = b[0] * uv[u0] + b[1] * uv[u1] + b[2] * uv[u2];
            const v = b[0] * uv[u0 + 1] + b[1] * uv[u1 + 1] + b[2] * uv[u2 + 1];
            if (part === PartId.FACE_SKIN) sampleTexture(app.faceTexture, app.faceTextureSize, u, v, albedo);
            else sampleTexture(app.headTexture, app.headTextureSize, u - 1, v, albedo);
          } else if (part === PartId.EYE) {
            this.shadeEye(cx, cy, cz, app, pupilDilate, gazeDirs, albedo);
            spec = 0.5;
            shin = 90;
          } else {
            // mouth interior and teeth
            // deeper inside the mouth is darker: a cheap stand-in for ambient occlusion
            const ao = Math.exp(-Math.max(0, 0.108 - cz) * (part === PartId.TEETH ? 40 : 70));
            const c = part === PartId.TEETH ? app.teethColor : app.mouthColor;
            albedo[0] = c[0] * ao;
            albedo[1] = c[1] * ao;
            albedo[2] = c[2] * ao;
            spec = part === PartId.TEETH ? 0.3 * ao : 0.15 * ao;
          }
        } else if (layer === LAYER_HAIR) {
          z = resolveBarycentrics(hairMesh!, t, x, y, b);
          mask[i] = PartId.HAIR;
          // the shell's vertices are the scalp's: its template position drives the strand pattern
          headPoint(hairMesh!.triangles, t, b, template, this.normHead, R, surf, normal);
          const px = surf[0], py = surf[1], pz = surf[2];
          nx = normal[0];
          ny = normal[1];
          nz = normal[2];
          const strands = 0.55 + 0.45 * app.detail.at(px * 900, py * 110, pz * 900);
          albedo[0] = app.hairColor[0] * strands;
          albedo[1] = app.hairColor[1] * strands;
          albedo[2] = app.hairColor[2] * strands;
          spec = 0.08;
          shin = 8;
        } else {
          z = resolveBarycentrics(occMesh!, t, x, y, b);
          mask[i] = PartId.OCCLUDER;
          const tri = occMesh!.triangles;
          const p = input.occluder!.mesh.positions;
          const a = tri[t * 3] * 3, c1 = tri[t * 3 + 1] * 3, c2 = tri[t * 3 + 2] * 3;
          const ux = p[c1] - p[a], uy = p[c1 + 1] - p[a + 1], uz = p[c1 + 2] - p[a + 2];
          const vx = p[c2] - p[a], vy = p[c2 + 1] - p[a + 1], vz = p[c2 + 2] - p[a + 2];
          nx = uy * vz - uz * vy;
          ny = uz * vx - ux * vz;
          nz = ux * vy - uy * vx;
          if (nz > 0) {
            nx = -nx; ny = -ny; nz = -nz;
          }
          const col = input.occluder!.color;
          const n = 0.9 + 0.1 * app.detail.at(x * 0.3, y * 0.3, 5);
          albedo[0] = col[0] * n;
          albedo[1] = col[1] * n;
          albedo[2] = col[2] * n;
          spec = 0.1;
        }
        depth[i] = z;
        // lighting: SH environment + directional lights with Blinn-Phong
        const nl = Math.sqrt(nx * nx + ny * ny + nz * nz) || 1;
        nx /= nl; ny /= nl; nz /= nl;
        // view direction: from the surface point towards the camera
        const rx = (x - K.cx) / K.fx, ry = (y - K.cy) / K.fy;
        const vl = Math.sqrt(rx * rx + ry * ry + 1);
        const vx = -rx / vl, vy = -ry / vl, vz = -1 / vl;
        if (nx * vx + ny * vy + nz * vz < 0) {
          // seen from behind (mouth and eye sockets from inside): light the visible side
          nx = -nx; ny = -ny; nz = -nz;
        }
        shIrradiance(light.sh, nx, ny, nz, irr);
        let dr = irr[0], dg = irr[1], db = irr[2];
        let sr = 0, sg = 0, sb = 0;
        for (let li = 0; li < lightCount; li++) {
          const q = li * 6;
          const lx = lights[q], ly = lights[q + 1], lz = lights[q + 2];
          const ndl = nx * lx + ny * ly + nz * lz;
          if (ndl <= 0) continue;
          dr += lights[q + 3] * ndl;
          dg += lights[q + 4] * ndl;
          db += lights[q + 5] * ndl;
          const hx = lx + vx, hy = ly + vy, hz = lz + vz;
          const ndh = (nx * hx + ny * hy + nz * hz) / (Math.sqrt(hx * hx + hy * hy + hz * hz) || 1);
          if (ndh <= 0) continue;
          const s = spec * Math.pow(ndh, shin);
          sr += lights[q + 3] * s;
          sg += lights[q + 4] * s;
          sb += lights[q + 5] * s;
        }
        const e = light.exposure;
        rgb[o] = toSrgb((albedo[0] * dr + sr) * e);
        rgb[o + 1] = toSrgb((albedo[1] * dg + sg) * e);
        rgb[o + 2] = toSrgb((albedo[2] * db + sb) * e);
      }
    }

    // 4. landmarks: projected landmark vertices; hidden when, at every pixel centre around the projected point,
    // a surface lies clearly in front of them (an empty pixel there means a silhouette: nothing hides it)
    const landmarks = new Float32Array(68 * 3);
    const lmIdx = assets.model.landmarks68;
    for (let l = 0; l < 68; l++) {
      const v = lmIdx[l];
      const px = this.head.sx[v], py = this.head.sy[v], zc = this.cam[v * 3 + 2];
      landmarks[l * 3] = px;
      landmarks[l * 3 + 1] = py;
      let visible = 0;
      if (this.head.invZ[v] > 0 && px > -0.5 && py > -0.5 && px < W - 0.5 && py < H - 0.5) {
        const x0 = Math.max(0, Math.floor(px)), y0 = Math.max(0, Math.floor(py));
        const x1 = Math.min(W - 1, x0 + 1), y1 = Math.min(H - 1, y0 + 1);
        for (const [xx, yy] of [[x0, y0], [x1, y0], [x0, y1], [x1, y1]]) {
          const zs = vis.invDepth[yy * W + xx];
          if (zs === 0 || zc <= 1 / zs + LANDMARK_OCCLUSION_TOLERANCE_M) visible = 1;
        }
      }
      landmarks[l * 3 + 2] = visible;
    }

    return {
      width: W,
      height: H,
      rgb: applyCameraEffects(rgb, W, H, input.effects, input.noise),
      depth,
      canonical,
      mask,
      landmarks,
      triangle,
      barycentric,
    };
  }

  /**
   * The eyeball's colour at a template point: iris and pupil around the gaze direction (the eyeball is rigid in
   * facekit: the eyeLook weights turn only the painted iris, shared/gaze.ts), sclera elsewhere.
   */
  private shadeEye(cx: number, cy: number, cz: number, app: Appearance, dilate: number[], gaze: number[][], out: Float64Array): void {
    const left = cx > 0;
    const c = left ? this.assets.eyeCenters.left : this.assets.eyeCenters.right;
    const g = left ? gaze[0] : gaze[1];
    const px = cx - c[0], py = cy - c[1], pz = cz - c[2];
    // the point in the eye's own frame: z along the gaze, x kept horizontal (rotate by -yaw, then -pitch)
    const cyaw = Math.hypot(g[0], g[2]), syaw = g[0] / cyaw, cyw = g[2] / cyaw;
    const x1 = px * cyw - pz * syaw, z1 = px * syaw + pz * cyw;
    const dy = py * cyaw - z1 * g[1], dz = py * g[1] + z1 * cyaw, dx = x1;
    const r = Math.sqrt(dx * dx + dy * dy) / app.irisRadiusM;
    const pupil = app.pupilRatio * (1 + 0.6 * (left ? dilate[0] : dilate[1]));
    let col: Rgb;
    if (dz > 0 && r < pupil) {
      col = [0.01, 0.01, 0.012];
    } else if (dz > 0 && r < 1) {
      const ang = Math.atan2(dy, dx);
      const streak = 0.65 + 0.35 * app.detail.at(Math.cos(ang) * 6, Math.sin(ang) * 6, r * 3);
      const limbal = 1 - 0.6 * Math.max(0, (r - 0.82) / 0.18);
      const k = streak * limbal;
      col = [app.irisColor[0] * k, app.irisColor[1] * k, app.irisColor[2] * k];
    } else {
      const vein = 1 - 0.08 * Math.max(0, app.detail.at(dx * 2000, dy * 2000, dz * 2000));
      col = [app.scleraColor[0], app.scleraColor[1] * vein, app.scleraColor[2] * vein];
    }
    out[0] = col[0];
    out[1] = col[1];
    out[2] = col[2];
  }
}
