/**
 * Objects passing in front of the face (a hand, a phone, a mug, a pen or microphone): flat-ish shapes at a
 * depth between the camera and the face, moving across part of it for a while. They are real geometry in the
 * z-buffer, so the depth map, the mask (OCCLUDER) and the landmarks' visibility all account for them.
 */
import type { Rgb } from './appearance.js';
import type { Rng } from './random.js';

export type OccluderShape = 'hand' | 'phone' | 'bar';

export interface OccluderEvent {
  readonly shape: OccluderShape;
  readonly startFrame: number;
  readonly endFrame: number;
  /** image-relative centre (0..1) at start and end */
  readonly from: [number, number];
  readonly to: [number, number];
  /** metres in front of the head's origin-plane depth */
  readonly inFrontM: number;
  /** half sizes, metres */
  readonly halfWidthM: number;
  readonly halfHeightM: number;
  readonly angleRad: number;
  /** sRGB colour; a hand takes the skin tone (given at render time) */
  readonly color: Rgb | 'skin';
}

export function sampleOccluders(rng: Rng, frames: number, fps: number): OccluderEvent[] {
  if (!rng.chance(0.3)) return [];
  const events: OccluderEvent[] = [];
  let f = rng.int(0, Math.max(0, Math.floor(frames / 2)));
  while (f < frames && events.length < 3) {
    const len = Math.max(3, Math.round(fps * rng.uniform(0.5, 3)));
    const shape = rng.pick<OccluderShape>(['hand', 'hand', 'phone', 'bar']);
    const [hw, hh] = shape === 'hand' ? [rng.uniform(0.035, 0.05), rng.uniform(0.045, 0.07)]
      : shape === 'phone' ? [rng.uniform(0.03, 0.04), rng.uniform(0.06, 0.08)]
      : [rng.uniform(0.006, 0.015), rng.uniform(0.06, 0.12)];
    events.push({
      shape,
      startFrame: f,
      endFrame: Math.min(frames, f + len),
      from: [rng.uniform(0.1, 0.9), rng.uniform(0.2, 1.0)],
      to: [rng.uniform(0.2, 0.8), rng.uniform(0.3, 0.8)],
      inFrontM: rng.uniform(0.13, 0.35),
      halfWidthM: hw,
      halfHeightM: hh,
      angleRad: rng.uniform(-0.8, 0.8),
      color: shape === 'hand' ? 'skin' : [rng.next(), rng.next(), rng.next()],
    });
    f += len + Math.round(fps * rng.uniform(0.5, 4));
  }
  return events;
}

/** A fan of triangles approximating the occluder's outline, in camera coordinates; [V*3] and [T*3]. */
export interface OccluderMesh {
  readonly positions: Float32Array;
  readonly triangles: Int32Array;
}

const SEGMENTS = 28;

export function occluderMesh(shape: OccluderShape, cx: number, cy: number, z: number, hw: number, hh: number, angle: number): OccluderMesh {
  const positions = new Float32Array((SEGMENTS + 1) * 3);
  const triangles = new Int32Array(SEGMENTS * 3);
  const ca = Math.cos(angle), sa = Math.sin(angle);
  // bulge the centre towards the camera so shading sees a rounded object
  positions[0] = cx;
  positions[1] = cy;
  positions[2] = z - Math.min(hw, hh) * 0.5;
  for (let i = 0; i < SEGMENTS; i++) {
    const a = (i / SEGMENTS) * Math.PI * 2;
    let x = Math.cos(a), y = Math.sin(a);
    if (shape !== 'hand') {
      // superellipse: rounded rectangle
      const p = 0.25;
      x = Math.sign(x) * Math.abs(x) ** p;
      y = Math.sign(y) * Math.abs(y) ** p;
    }
    x *= hw;
    y *= hh;
    positions[(i + 1) * 3] = cx + x * ca - y * sa;
    positions[(i + 1) * 3 + 1] = cy + x * sa + y * ca;
    positions[(i + 1) * 3 + 2] = z;
    triangles[i * 3] = 0;
    triangles[i * 3 + 1] = i + 1;
    triangles[i * 3 + 2] = ((i + 1) % SEGMENTS) + 1;
  }
  return { positions, triangles };
}
