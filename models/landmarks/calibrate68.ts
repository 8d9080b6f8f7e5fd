/**
 * Where the 68 landmarks are on the canonical face as a tracker trained on real photographs places them.
 *
 * facekit names 68 of its vertices after the Multi-PIE landmarks, but annotators of real photos (iBUG 300-W, which
 * the real-trained trackers follow) put several elsewhere: the jaw points higher, the nose bridge lower, the lips
 * nearer their edges. Our landmarks are canonical coordinates looked up in the model's maps, so the convention is a
 * choice of 68 canonical points. This finds them on our own renders, where every pixel's true canonical coordinate
 * is known: face-api's 68-point network (bench/reference, trained on real faces) runs on near-frontal training-split
 * renders, and each landmark's canonical coordinate is the per-axis median of the true coordinates under its
 * points. No real photograph is involved, and no test-split render.
 *
 *   node build/models/landmarks/calibrate68.js [--sequences 40] [--frames 30] [--out models/landmarks/ibug68-canonical.json]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { intFlag, parseFlags } from '../../server/cli/args.js';
import { detectFaces, wholeFrameViews } from '../../server/engine/detect/faceDetector.js';
import { DetectorModel } from '../../server/engine/model/detectorModel.js';
import { loadHeadAssets } from '../../synth/headAssets.js';
import { planSequence, SequenceRenderer } from '../../synth/sequence.js';
import { hasCanonical } from '../../shared/parts.js';
import { projectRoot } from '../../node/projectRoot.js';
import { FaceApiLandmarks } from '../../bench/reference/faceApiLandmarks.js';

/** The head faces the camera within this angle (the jaw points of a turned head follow its silhouette instead). */
const MAX_TURN_DEG = 20;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(argv: string[]): Promise<void> {
  const v = parseFlags('calibrate68', argv, { sequences: { type: 'string' }, frames: { type: 'string' }, out: { type: 'string' } });
  const sequences = intFlag('calibrate68', v, 'sequences', 40, 1, 1000);
  const frames = intFlag('calibrate68', v, 'frames', 30, 1, 1000);
  const out = (v.out as string) ?? join(projectRoot(), 'models', 'landmarks', 'ibug68-canonical.json');
  const assets = loadHeadAssets();
  const detector = await DetectorModel.load(), reference = await FaceApiLandmarks.load();
  const samples: number[][][] = Array.from({ length: 68 }, () => [[], [], []]);
  let used = 0, seen = 0;
  for (let s = 0; s < sequences; s++) {
    const plan = planSequence({ seed: 900, split: 'train', index: s, frames, size: 384, fps: 30 });
    const renderer = new SequenceRenderer(plan, assets);
    for (let f = 0; f < frames; f += 3) {
      const fr = renderer.render(f);
      seen++;
      // the head's forward axis (head +z) against the direction to the camera (camera −z)
      if (Math.acos(Math.max(-1, Math.min(1, -fr.pose.rotation[8]))) * (180 / Math.PI) > MAX_TURN_DEG) continue;
      const pixels = { format: 'rgb' as const, width: fr.width, height: fr.height, data: fr.rgb };
      const faces = await detectFaces(pixels, wholeFrameViews(fr.width, fr.height), (image) => detector.run(image));
      if (!faces.length || faces[0].score < 0.75) continue;
      const pts = await reference.locateDetected(pixels, faces[0]);
      used++;
      for (let l = 0; l < 68; l++) {
        const x = Math.round(pts[l * 2]), y = Math.round(pts[l * 2 + 1]);
        if (x < 0 || y < 0 || x >= fr.width || y >= fr.height) continue;
        const i = y * fr.width + x;
        if (!hasCanonical(fr.mask[i])) continue;
        for (let k = 0; k < 3; k++) samples[l][k].push(fr.canonical[i * 3 + k]);
      }
    }
    process.stderr.write(`sequence ${s + 1}/${sequences}: ${used} near-frontal frames of ${seen}\n`);
  }
  await detector.close();
  await reference.close();
  const landmarks = samples.map((axes, l) => {
    const c = axes.map(median);
    // spread: the median distance of the samples from the chosen point, millimetres
    const d = axes[0].map((_, j) => Math.hypot(axes[0][j] - c[0], axes[1][j] - c[1], axes[2][j] - c[2]));
    return { index: l, canonicalM: c.map((x) => Math.round(x * 1e5) / 1e5), samples: axes[0].length, spreadMm: Math.round(median(d) * 1e4) / 10 };
  });
  writeFileSync(out, JSON.stringify({
    description: 'canonical coordinates (metres, shared/canonical.ts) of the 68 iBUG 300-W landmarks as face-api.js\'s faceLandmark68Net (trained on real photographs) places them on near-frontal facelive synth renders of the train split; per-axis medians of the true canonical coordinates under its points',
    made: { command: `node build/models/landmarks/calibrate68.js --sequences ${sequences} --frames ${frames}`, renders: used, maxTurnDeg: MAX_TURN_DEG, reference: 'models/third_party/face-api/face_landmark_68.onnx' },
    landmarks,
  }, null, 1) + '\n');
  console.log(`${used} near-frontal renders of ${seen}; wrote ${out}`);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
