/**
 * `facelive reconstruct` without the command line: every frame of a source through one engine session, in
 * order, then the chosen exports. Frames are accumulated per crop (a few hundred KB each) and written at the end
 * or when stopped, so an interrupted run still leaves complete, consistent files for the frames it processed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../shared/errors.js';
import { makeOutputFolder } from '../../node/io/outputFolder.js';
import { hasCanonical } from '../../shared/parts.js';
import { FaceEngine, defaultIntrinsics, type FaceResult } from '../engine/engine.js';
import type { CropBox } from '../../shared/cropPlacement.js';
import { cropToModelInput, modelInputToRgb } from '../engine/crop.js';
import { pointCloud } from '../engine/pointCloud.js';
import { loadRuntimeFacekit } from '../../node/facekit/loadFacekit.js';
import { buildFaceTemplate } from '../engine/faceTemplate.js';
import type { ModelDevice } from '../engine/model/defaults.js';
import { renderPreview } from '../../node/images/mapsPreview.js';
import { SessionMesh, TrackedMesh } from '../engine/trackedMesh.js';
import { writeMapStacks, writePoseJson, writeTracksAndLandmarks } from '../../node/io/frameTables.js';
import { encodeTrackedGlb } from './exporters/gltf.js';
import { ObjWriter } from './exporters/obj.js';
import { depthPng16 } from './exporters/png16.js';
import { encodePly } from './exporters/ply.js';
import type { FrameSource } from './frameSource.js';

export const EXPORTS = ['depth', 'canonical', 'tracks', 'mesh', 'ply', 'blendshapes', 'preview'] as const;
export type ExportName = (typeof EXPORTS)[number];

export interface ReconstructRun {
  readonly source: FrameSource;
  readonly out: string;
  readonly modelPath: string;
  readonly fovDeg: number;
  readonly window?: number;
  /** where the face is when detection finds none (frame pixels) */
  readonly faceBox?: CropBox;
  readonly exports: ReadonlySet<ExportName>;
  /** the face model's execution provider (default cpu) */
  readonly device?: ModelDevice;
}

export interface ReconstructEvents {
  frame(result: FaceResult): void;
}

type Face = Extract<FaceResult, { kind: 'face' }>;

export async function runReconstruct(run: ReconstructRun, events: ReconstructEvents, shouldStop: () => boolean) {
  const { source, out, exports } = run;
  const facekit = loadRuntimeFacekit();
  const engine = await FaceEngine.create({ modelPath: run.modelPath, device: run.device, template: buildFaceTemplate(facekit) });
  const S = engine.contract.cropSize;
  const K = defaultIntrinsics(source.width, source.height, run.fovDeg);
  const results: FaceResult[] = [];
  const previewFrames: { rgb: Uint8Array; result: Face }[] = [];
  let stopped = false;
  // a frame that fails part-way (a damaged image in a folder) ends the run, but the frames before it are written
  // whole, summaries included, before the error is reported
  let failure: unknown = null;
  try {
    const session = engine.openSession({ window: run.window, faceBox: run.faceBox });
    makeOutputFolder(out);
    if (exports.has('depth')) mkdirSync(join(out, 'depth'), { recursive: true });
    if (exports.has('ply')) mkdirSync(join(out, 'ply'), { recursive: true });
    for await (const f of source.frames()) {
      if (shouldStop()) {
        stopped = true;
        break;
      }
      const r = await session.process({ frameId: f.index, pixels: f.pixels, intrinsics: K });
      results.push(r);
      const name = String(f.index).padStart(6, '0');
      if (r.kind === 'face') {
        if (exports.has('depth')) writeFileSync(join(out, 'depth', `${name}.png`), depthPng16(r.maps.depth, S, S, Uint8Array.from(r.maps.mask, (m) => (hasCanonical(m) ? 1 : 0))));
        if (exports.has('ply')) writeFileSync(join(out, 'ply', `${name}.ply`), encodePly(pointCloud(r, f.pixels)));
        if (exports.has('preview') && previewFrames.length < 6 && f.index % 10 === 0) previewFrames.push({ rgb: modelInputToRgb(cropToModelInput(f.pixels, r.placement), S), result: r });
      }
      events.frame(r);
    }
  } catch (e) {
    if (results.length === 0) throw e;
    failure = e;
  } finally {
    await engine.close();
  }
  if (results.length === 0) throw new InputError(`${out}: the source gave no frames`);
  // what went wrong is written beside the results: a partial set never passes for a whole one
  const problems = [...source.warnings];
  if (failure) problems.push(`stopped by an error after ${results.length} frames: ${failure instanceof Error ? failure.message : String(failure)}`);
  if (stopped) problems.push(`stopped on request after ${results.length} frames`);
  writeSummaries(run, results, S, K, facekit.expressionNames, problems);
  if (exports.has('mesh')) await writeMeshes(out, new TrackedMesh(facekit), results, source.fps ?? 30);
  if (exports.has('preview') && previewFrames.length) writeFileSync(join(out, 'preview.png'), renderPreview(previewFrames.map((p) => asPreview(p.rgb, p.result, S))));
  const faces = results.filter((r) => r.kind === 'face').length;
  if (failure) {
    const why = failure instanceof Error ? failure.message : String(failure);
    throw failure instanceof InputError ? new InputError(`${why} (the ${results.length} frames before it are written to ${out})`) : failure;
  }
  if (faces === 0) throw new InputError(`no face found in any of the ${results.length} frames`);
  return { frames: results.length, faces, stopped };
}

function writeSummaries(run: ReconstructRun, results: FaceResult[], S: number, K: ReturnType<typeof defaultIntrinsics>, expressionNames: readonly string[], problems: readonly string[]): void {
  const { out, exports } = run;
  const frames = results.map((r) =>
    r.kind === 'face'
      ? { frame: r.frameId, face: true, box: r.box, crop_size: S, frame_px_per_crop_px: r.placement.scale, model_ms: Math.round(r.timings.model * 100) / 100 }
      : { frame: r.frameId, face: false, reason: r.reason },
  );
  writeFileSync(join(out, 'crops.json'), JSON.stringify({
    conventions: 'maps are on the crop grid: crop pixel (x, y) lies at frame pixel box.center + R(box.angle) * (x - (S-1)/2, y - (S-1)/2) * frame_px_per_crop_px, R the rotation by box.angle radians (absent: 0), frame y down',
    complete: problems.length === 0, problems, intrinsics: K, frames,
  }, null, 1));
  const faceAt = (r: FaceResult): r is Face => r.kind === 'face';
  if (exports.has('depth') || exports.has('canonical')) {
    writeMapStacks(out, results.map((r) => (faceAt(r) ? r.maps : null)), S, { depth: exports.has('depth'), canonical: exports.has('canonical') });
  }
  if (exports.has('blendshapes')) {
    const identity = sessionIdentity(results);
    writeFileSync(join(out, 'identity.json'), JSON.stringify({ identity_weights: identity ? Array.from(identity, (x) => Math.round(x * 1e4) / 1e4) : null }));
    writePoseJson(out, expressionNames, results.map((r) => ({ frame: r.frameId, blendshapes: faceAt(r) ? r.blendshapes : null, pose: faceAt(r) ? r.pose : null })));
  }
  if (exports.has('tracks')) {
    writeTracksAndLandmarks(
      out,
      results.map((r) => ({ frame: r.frameId, points: faceAt(r) ? r.points : [] })),
      results.map((r) => ({ frame: r.frameId, landmarks: faceAt(r) ? r.landmarks : null })),
    );
  }
}

/** The identity fitted by the session (it settles after its first few face frames), or null. */
function sessionIdentity(results: readonly FaceResult[]): Float32Array | null {
  for (let i = results.length - 1; i >= 0; i--) {
    const r = results[i];
    if (r.kind === 'face' && r.identity) return r.identity;
  }
  return null;
}

/**
 * mesh/NNNNNN.obj for every frame with a pose, and mesh.glb for the whole sequence. Written at the end so every
 * frame uses the session's settled identity (early frames would otherwise show the mean face).
 */
async function writeMeshes(out: string, mesh: TrackedMesh, results: readonly FaceResult[], fps: number): Promise<void> {
  const identity = sessionIdentity(results);
  const posing = new SessionMesh(mesh);
  const obj = new ObjWriter(mesh);
  mkdirSync(join(out, 'mesh'), { recursive: true });
  const vertices = new Float32Array(mesh.vertexCount * 3);
  const frames = results.map((r) => {
    const tracked = r.kind === 'face' && r.pose && r.blendshapes ? { pose: r.pose, blendshapes: r.blendshapes } : null;
    if (tracked && posing.posed({ ...tracked, identity }, vertices)) {
      writeFileSync(join(out, 'mesh', `${String(r.frameId).padStart(6, '0')}.obj`), obj.frame(vertices, `frame ${r.frameId}`));
    }
    return { timeS: r.frameId / fps, pose: tracked?.pose ?? null, blendshapes: tracked?.blendshapes ?? null };
  });
  writeFileSync(join(out, 'mesh.glb'), await encodeTrackedGlb(mesh, identity, frames));
}

/** A face result in the generator's preview layout: crop RGB | depth | canonical | parts | landmarks. */
function asPreview(rgb: Uint8Array, r: Face, S: number) {
  const n = S * S;
  const canonical = new Float32Array(n * 3), depth = new Float32Array(n), mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    mask[i] = r.maps.mask[i];
    if (!hasCanonical(mask[i])) continue;
    depth[i] = r.maps.depth[i];
    for (let k = 0; k < 3; k++) canonical[i * 3 + k] = r.maps.canonical[k * n + i];
  }
  const landmarks = new Float32Array(68 * 3);
  for (let l = 0; l < 68; l++) {
    landmarks[l * 3] = r.placement.cropX(r.landmarks[l * 3], r.landmarks[l * 3 + 1]);
    landmarks[l * 3 + 1] = r.placement.cropY(r.landmarks[l * 3], r.landmarks[l * 3 + 1]);
    landmarks[l * 3 + 2] = r.landmarks[l * 3 + 2];
  }
  return { width: S, height: S, rgb, depth, canonical, mask, landmarks };
}
