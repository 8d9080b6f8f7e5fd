/**
 * The per-frame files that `facelive reconstruct` and `facelive client --out` both write, in one format: map
 * stacks as .npy, tracked points and landmarks as JSON and CSV, head pose and blendshapes as JSON. Frames without
 * a face keep their row (empty, zero maps or null), so row t is always the t-th frame of the run.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARKIT_BLENDSHAPE_NAMES, inFacekitOrder, toArkitArray } from '../../shared/blendshapeNames.js';
import { encodeNpy } from '../../shared/io/npy.js';
import { hasCanonical } from '../../shared/parts.js';
import type { PlainMaps } from '../../shared/wire/mapCodec.js';

export interface TrackRow {
  readonly frame: number;
  readonly points: readonly { readonly id: number; readonly x: number; readonly y: number; readonly visibility: string }[];
}

export interface PoseRow {
  readonly frame: number;
  readonly blendshapes: ArrayLike<number> | null;
  readonly pose: { readonly rotation: ArrayLike<number>; readonly translationM: ArrayLike<number>; readonly rmsM?: number } | null;
}

const round = (x: number, k: number) => (Number.isFinite(x) ? Math.round(x * k) / k : null);

/** depth.npy [T,S,S] (0 off the face), and canonical.npy [T,S,S,3] with confidence.npy and mask.npy. */
export function writeMapStacks(out: string, maps: readonly (PlainMaps | null)[], S: number, o: { depth: boolean; canonical: boolean }): void {
  const T = maps.length, n = S * S;
  const depth = new Float32Array(T * n), canon = new Float32Array(T * n * 3), conf = new Float32Array(T * n), mask = new Uint8Array(T * n);
  maps.forEach((m, t) => {
    if (!m) return;
    if (m.size !== S) throw new RangeError(`maps of frame row ${t} are ${m.size} px, the stack is ${S}`);
    for (let i = 0; i < n; i++) {
      const on = hasCanonical(m.mask[i]);
      depth[t * n + i] = on ? m.depth[i] : 0;
      conf[t * n + i] = m.confidence[i];
      mask[t * n + i] = m.mask[i];
      for (let k = 0; k < 3; k++) canon[(t * n + i) * 3 + k] = on ? m.canonical[k * n + i] : 0;
    }
  });
  if (o.depth) writeFileSync(join(out, 'depth.npy'), encodeNpy(depth, [T, S, S]));
  if (o.canonical) {
    writeFileSync(join(out, 'canonical.npy'), encodeNpy(canon, [T, S, S, 3]));
    writeFileSync(join(out, 'confidence.npy'), encodeNpy(conf, [T, S, S]));
    writeFileSync(join(out, 'mask.npy'), encodeNpy(mask, [T, S, S]));
  }
}

/**
 * tracks.json/.csv from the rows, landmarks.json/.csv from [68*3] (x, y, visible) per frame (null: no face): a
 * face always has 68 points; visible 0 marks one estimated from the fitted head (hidden or not found).
 */
export function writeTracksAndLandmarks(out: string, tracks: readonly TrackRow[], landmarks: readonly { frame: number; landmarks: ArrayLike<number> | null }[]): void {
  const t = tracks.map((f) => ({ frame: f.frame, points: f.points.map((p) => ({ id: p.id, x: round(p.x, 100), y: round(p.y, 100), visibility: p.visibility })) }));
  writeFileSync(join(out, 'tracks.json'), JSON.stringify(t));
  writeFileSync(join(out, 'tracks.csv'), 'frame,id,x,y,visibility\n' + t.flatMap((f) => f.points.map((p) => `${f.frame},${p.id},${p.x},${p.y},${p.visibility}`)).join('\n') + '\n');
  const lms = landmarks.map((f) => ({ frame: f.frame, landmarks: f.landmarks ? Array.from({ length: 68 }, (_, l) => [round(f.landmarks![l * 3], 100), round(f.landmarks![l * 3 + 1], 100), f.landmarks![l * 3 + 2]]) : [] }));
  writeFileSync(join(out, 'landmarks.json'), JSON.stringify(lms));
  writeFileSync(join(out, 'landmarks.csv'), 'frame,landmark,x,y,visible\n' + lms.flatMap((f) => f.landmarks.map((l, i) => `${f.frame},${i},${l[0]},${l[1]},${l[2]}`)).join('\n') + '\n');
}

export function writePoseJson(out: string, blendshapeNames: readonly string[], rows: readonly PoseRow[]): void {
  // ARKit's names too, where the shapes are facekit's 57 (an avatar rigged for ARKit or MediaPipe reads those)
  const arkit = inFacekitOrder(blendshapeNames);
  writeFileSync(join(out, 'pose.json'), JSON.stringify({
    conventions: 'pose: camera-from-head, p_camera = rotation (row-major 3x3) * p_head + translation_m; camera frame x right, y down, z forward; blendshapes: facekit expression weights in blendshape_names order; arkit: the same weights under ARKit\'s 52 names (arkit_names order)',
    blendshape_names: blendshapeNames,
    ...(arkit ? { arkit_names: ARKIT_BLENDSHAPE_NAMES } : {}),
    frames: rows.map((r) => ({
      frame: r.frame,
      blendshapes: r.blendshapes ? Array.from(r.blendshapes, (x) => round(x, 1e4)) : null,
      ...(arkit ? { arkit: r.blendshapes ? Array.from(toArkitArray(r.blendshapes), (x) => round(x, 1e4)) : null } : {}),
      pose: r.pose ? { rotation: Array.from(r.pose.rotation, (x) => round(x, 1e6)), translation_m: Array.from(r.pose.translationM, (x) => round(x, 1e5)), ...(r.pose.rmsM !== undefined ? { rms_m: round(r.pose.rmsM, 1e5) } : {}) } : null,
    })),
  }));
  // one row per frame (empty cells where there was no face), for spreadsheets and animation tools
  const csv = (names: readonly string[], weightsOf: (w: ArrayLike<number>) => ArrayLike<number>) => [
    ['frame', ...names].join(','),
    ...rows.map((r) => [r.frame, ...(r.blendshapes ? Array.from(weightsOf(r.blendshapes), (x) => round(x, 1e4)) : names.map(() => ''))].join(',')),
  ].join('\n') + '\n';
  writeFileSync(join(out, 'blendshapes.csv'), csv(blendshapeNames, (w) => w));
  if (arkit) writeFileSync(join(out, 'blendshapes-arkit.csv'), csv(ARKIT_BLENDSHAPE_NAMES, toArkitArray));
}
