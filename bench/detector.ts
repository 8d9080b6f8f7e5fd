/**
 * The face detector (MediaPipe BlazeFace, trained on real faces) on held-out synthetic frames, where the face's
 * true extent is known: how often it finds the face, and how its box relates to the crop the face model was
 * trained on (faceRegion.boxFromMask of the true mask) — the numbers behind DETECTION_FRAMING — and on images
 * without a face (false detections).
 *
 *   npm run bench -- detector [--sequences 12] [--frames 40]
 *
 * Frames: generator renders at 480×480 in a 640×480 I420 frame, as in the engine bench. Face-free images: the
 * photographs without people that Debian's python3-skimage ships (public domain or CC0, see skimage.data).
 */
import { existsSync, readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { parseFlags, intFlag } from '../server/cli/args.js';
import { CropPlacement } from '../shared/cropPlacement.js';
import { boxFromMask } from '../server/engine/faceRegion.js';
import { DetectorModel } from '../server/engine/model/detectorModel.js';
import { cropBoxOf, detectFaces, wholeFrameViews, type DetectedFace } from '../server/engine/detect/faceDetector.js';
import type { FramePixels } from '../server/engine/crop.js';
import { loadHeadAssets } from '../synth/headAssets.js';
import { planSequence, SequenceRenderer } from '../synth/sequence.js';
import { saveBenchResult } from './benchResult.js';
import { median, percentile } from './engineAccuracy.js';
import { widescreenI420 } from './engineAccuracy.js';

const SKIMAGE = '/usr/lib/python3/dist-packages/skimage/data';
/** skimage.data photographs with no person in them (each docstring states public domain or CC0) */
const FACE_FREE = ['chelsea.png', 'coffee.png', 'rocket.jpg', 'motorcycle_left.png', 'hubble_deep_field.jpg', 'brick.png', 'grass.png', 'gravel.png', 'moon.png', 'page.png', 'coins.png', 'horse.png'];

export function readPhoto(file: string): FramePixels {
  const bytes = readFileSync(file);
  const img = /\.png$/i.test(file) ? PNG.sync.read(bytes) : jpeg.decode(bytes, { useTArray: true });
  const n = img.width * img.height, channels = img.data.length / n;
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) data[i * 3 + k] = img.data[i * channels + (channels >= 3 ? k : 0)];
  return { format: 'rgb', width: img.width, height: img.height, data };
}

export async function benchDetector(argv: string[]): Promise<void> {
  const v = parseFlags('bench detector', argv, { sequences: { type: 'string' }, frames: { type: 'string' } });
  const sequences = intFlag('bench detector', v, 'sequences', 12, 1, 200);
  const frames = intFlag('bench detector', v, 'frames', 40, 1, 1000);
  const detector = await DetectorModel.load();
  const run = (image: Float32Array) => detector.run(image);
  const assets = loadHeadAssets();
  const scores: number[] = [];
  const side: number[] = [], down: number[] = [], right: number[] = [], ms: number[] = [];
  let withFace = 0, found = 0;
  for (let s = 0; s < sequences; s++) {
    const plan = planSequence({ seed: 600, split: 'test', index: s, frames, size: 480, fps: 30 });
    const renderer = new SequenceRenderer(plan, assets);
    for (let f = 0; f < frames; f++) {
      const frame = renderer.render(f);
      const wide = widescreenI420(frame, plan.intrinsics);
      const truth = boxFromMask(frame.mask, new CropPlacement({ centerX: wide.offsetX + 239.5, centerY: 239.5, side: 480 }, 480));
      if (!truth) continue;
      withFace++;
      const t0 = performance.now();
      const faces = await detectFaces(wide.pixels, wholeFrameViews(640, 480), run);
      ms.push(performance.now() - t0);
      const hit = faces.find((d) => Math.abs((d.x0 + d.x1) / 2 - truth.centerX) < truth.side / 4 && Math.abs((d.y0 + d.y1) / 2 - truth.centerY) < truth.side / 4);
      if (!hit) continue;
      found++;
      scores.push(hit.score);
      const w = Math.max(hit.x1 - hit.x0, hit.y1 - hit.y0);
      side.push(truth.side / w);
      down.push((truth.centerY - (hit.y0 + hit.y1) / 2) / w);
      right.push((truth.centerX - (hit.x0 + hit.x1) / 2) / w);
    }
    process.stderr.write(`sequence ${s + 1}/${sequences}: ${found} of ${withFace} faces found so far\n`);
  }
  const spread = (a: number[]) => ({ median: median(a), p10: percentile(a, 10), p90: percentile(a, 90) });
  const framing = { side: spread(side), down: spread(down), right: spread(right) };
  // how far the framing from the detection is from the true one with the fitted constants
  const boxErr = side.map((r, i) => Math.hypot(down[i] - framing.down.median, right[i] - framing.right.median) / r);
  const sideErr = side.map((r) => Math.abs(Math.log(r / framing.side.median)));

  const falseFaces: Record<string, number[]> = {};
  for (const name of FACE_FREE) {
    const file = `${SKIMAGE}/${name}`;
    if (!existsSync(file)) continue;
    const img = readPhoto(file);
    falseFaces[name] = (await detectFaces(img, wholeFrameViews(img.width, img.height), run)).map((d: DetectedFace) => Math.round(d.score * 100) / 100);
  }
  await detector.close();
  const report = {
    syntheticFrames: withFace,
    found,
    foundRate: found / Math.max(1, withFace),
    msPerDetection: spread(ms),
    scoreOfFound: { ...spread(scores), p1: percentile(scores, 1), p5: percentile(scores, 5) },
    framing,
    framingError: { centreOverSide: spread(boxErr), sideLogRatio: spread(sideErr) },
    faceFree: falseFaces,
    example: cropBoxOf({ score: 1, x0: 0, y0: 0, x1: 100, y1: 100, keypoints: new Float32Array(12) }),
  };
  console.log(JSON.stringify(report, null, 1));
  console.log(`saved ${saveBenchResult('detector', { sequences, frames, input: '640x480 I420, 480x480 render mirrored to 640 wide' }, report)}`);
}
