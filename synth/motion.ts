/**
 * Head motion over time: smooth moves between held poses (yaw up to ±70°, pitch ±35°, roll ±25°, a few
 * centimetres of translation), sometimes an almost still head, plus camera shake (a small, jittery rotation of
 * the camera itself).
 */
import type { Rng } from './random.js';

export interface HeadMotionFrame {
  yawDeg: number;
  pitchDeg: number;
  rollDeg: number;
  /** head offset from its rest position, camera axes (x right, y down, z away), metres */
  offsetM: [number, number, number];
  /** camera shake angles about x, y, z, degrees */
  shakeDeg: [number, number, number];
}

export const POSE_LIMITS = Object.freeze({ yawDeg: 70, pitchDeg: 35, rollDeg: 25 });

const clamp = (x: number, m: number) => Math.max(-m, Math.min(m, x));

function sampleTarget(rng: Rng, wide: boolean): number[] {
  // mostly moderate poses, sometimes extreme: real videos spend most time near frontal
  const yaw = wide ? rng.uniform(-POSE_LIMITS.yawDeg, POSE_LIMITS.yawDeg) : rng.gaussian(0, 22);
  const pitch = wide ? rng.uniform(-POSE_LIMITS.pitchDeg, POSE_LIMITS.pitchDeg) : rng.gaussian(0, 10);
  const roll = wide ? rng.uniform(-POSE_LIMITS.rollDeg, POSE_LIMITS.rollDeg) : rng.gaussian(0, 7);
  return [
    clamp(yaw, POSE_LIMITS.yawDeg), clamp(pitch, POSE_LIMITS.pitchDeg), clamp(roll, POSE_LIMITS.rollDeg),
    rng.gaussian(0, 0.02), rng.gaussian(0, 0.015), rng.gaussian(0, 0.04),
  ];
}

export function sampleHeadMotion(rng: Rng, frames: number, fps: number): HeadMotionFrame[] {
  const still = rng.chance(0.1);
  const activity = still ? 0.05 : rng.uniform(0.4, 1);
  const wideChance = rng.uniform(0.1, 0.4);
  const shakeAmp = rng.chance(0.5) ? rng.uniform(0.05, 0.6) : 0;
  const out: HeadMotionFrame[] = [];
  let from = sampleTarget(rng, false).map((v) => v * activity);
  let to = from;
  let segStart = 0, segLen = 0, holdUntil = 0;
  const shake = [0, 0, 0];
  for (let f = 0; f < frames; f++) {
    if (f >= holdUntil) {
      from = to;
      to = sampleTarget(rng, rng.chance(wideChance)).map((v) => v * activity);
      segStart = f;
      segLen = Math.max(2, Math.round(fps * rng.uniform(0.4, 2.2)));
      holdUntil = f + segLen + Math.round(fps * rng.uniform(0, 1.2));
    }
    const a = Math.min(1, (f - segStart) / segLen);
    const s = a * a * (3 - 2 * a);
    const p = from.map((v, i) => v + (to[i] - v) * s);
    for (let k = 0; k < 3; k++) shake[k] = 0.7 * shake[k] + rng.gaussian(0, shakeAmp);
    out.push({
      yawDeg: p[0], pitchDeg: p[1], rollDeg: p[2],
      offsetM: [p[3], p[4], p[5]],
      shakeDeg: [shake[0], shake[1], shake[2] * 0.5],
    });
  }
  return out;
}
