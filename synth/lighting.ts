/**
 * Lighting of one shot: a second-order spherical-harmonics environment (soft light from everywhere) plus one or
 * two directional lights with Blinn-Phong specular. Directions are in camera coordinates (x right, y down,
 * z forward), so the light stays put while the head moves, as in a room.
 */
import type { Rng } from './random.js';
import type { Rgb } from './appearance.js';

export interface DirectionalLight {
  /** unit vector from the surface towards the light, camera frame */
  readonly direction: [number, number, number];
  /** linear RGB radiance scale */
  readonly color: Rgb;
}

export interface Lighting {
  /** [9*3] irradiance SH coefficients (already convolved with the cosine lobe), per channel: c[i*3 + ch] */
  readonly sh: Float64Array;
  readonly lights: readonly DirectionalLight[];
  /** multiplies the final linear radiance */
  readonly exposure: number;
}

function colorTemperature(rng: Rng): Rgb {
  // from warm tungsten to cool daylight, as linear RGB multipliers
  const t = rng.next();
  const warm: Rgb = [1.0, 0.78, 0.55], cool: Rgb = [0.82, 0.9, 1.0];
  const c: Rgb = [warm[0] + (cool[0] - warm[0]) * t, warm[1] + (cool[1] - warm[1]) * t, warm[2] + (cool[2] - warm[2]) * t];
  const tint = rng.uniform(-0.04, 0.04);
  return [c[0], c[1] + tint, c[2]];
}

function randomDirectionTowardsCamera(rng: Rng): [number, number, number] {
  // azimuth around the viewing axis, elevation above the horizon; mostly from the camera's side of the face
  const az = rng.uniform(-110, 110) * (Math.PI / 180);
  const el = rng.uniform(-25, 70) * (Math.PI / 180);
  const x = Math.sin(az) * Math.cos(el);
  const y = -Math.sin(el);
  const z = -Math.cos(az) * Math.cos(el);
  return [x, y, z];
}

export function sampleLighting(rng: Rng): Lighting {
  const sh = new Float64Array(27);
  const ambient = colorTemperature(rng);
  const level = rng.uniform(0.25, 0.9);
  const dir = randomDirectionTowardsCamera(rng);
  const dirStrength = rng.uniform(0, 0.5);
  for (let ch = 0; ch < 3; ch++) {
    const a = ambient[ch] * level;
    sh[0 * 3 + ch] = a;
    // first-order band: brighter from one side (SH basis order y, z, x)
    sh[1 * 3 + ch] = a * dirStrength * dir[1];
    sh[2 * 3 + ch] = a * dirStrength * dir[2];
    sh[3 * 3 + ch] = a * dirStrength * dir[0];
    for (let i = 4; i < 9; i++) sh[i * 3 + ch] = a * rng.uniform(-0.12, 0.12);
  }
  const lights: DirectionalLight[] = [];
  const count = 1 + rng.weighted([0.65, 0.35]);
  for (let i = 0; i < count; i++) {
    const c = colorTemperature(rng);
    const s = rng.uniform(0.3, 1.3) / (i + 1);
    lights.push({ direction: randomDirectionTowardsCamera(rng), color: [c[0] * s, c[1] * s, c[2] * s] });
  }
  return { sh, lights, exposure: rng.uniform(0.75, 1.35) };
}

/** Irradiance from the SH environment for unit normal (x, y, z), written to out[0..2]. */
export function shIrradiance(sh: Float64Array, x: number, y: number, z: number, out: Float64Array): void {
  const y0 = 1, y1 = y, y2 = z, y3 = x;
  const y4 = x * y, y5 = y * z, y6 = 3 * z * z - 1, y7 = x * z, y8 = x * x - y * y;
  for (let ch = 0; ch < 3; ch++) {
    const e =
      sh[ch] * y0 + sh[3 + ch] * y1 + sh[6 + ch] * y2 + sh[9 + ch] * y3 + sh[12 + ch] * y4 + sh[15 + ch] * y5 +
      sh[18 + ch] * y6 * 0.5 + sh[21 + ch] * y7 + sh[24 + ch] * y8 * 0.5;
    out[ch] = e > 0 ? e : 0;
  }
}
