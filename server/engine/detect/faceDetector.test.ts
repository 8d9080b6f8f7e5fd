import t from 'tap';
import { readFileSync } from 'node:fs';
import jpeg from 'jpeg-js';
import { Rng } from '../../../synth/random.js';
import { sampleBackground } from '../../../synth/background.js';
import { DetectorModel } from '../model/detectorModel.js';
import type { FramePixels } from '../crop.js';
import { BLAZEFACE_ANCHORS, decodeBlazeFace } from './blazeFace.js';
import { cropBoxOf, detectFaces, wholeFrameViews } from './faceDetector.js';

/**
 * Grace Hopper's official US Navy portrait (public domain, a work of the US federal government), which Debian's
 * python-matplotlib-data ships as sample data (scripts/setup.mjs installs it for the tests); read in place.
 * Reference points measured by hand on the picture (pixels): eye centres, the chin, the sides of the jaw.
 */
const HOPPER = '/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg';
const HOPPER_EYES = [[221, 187], [306, 185]];
const HOPPER_FACE_EXTENT = { left: 174, right: 358, top: 150, chin: 331 };

function readJpeg(file: string): FramePixels {
  const img = jpeg.decode(readFileSync(file), { useTArray: true });
  const data = new Uint8Array(img.width * img.height * 3);
  for (let i = 0; i < img.width * img.height; i++) data.set(img.data.subarray(i * 4, i * 4 + 3), i * 3);
  return { format: 'rgb', width: img.width, height: img.height, data };
}

t.test('decodeBlazeFace() decodes an anchor above the threshold and merges its overlapping neighbour', async (t) => {
  const scores = new Float32Array(BLAZEFACE_ANCHORS).fill(-10), regressors = new Float32Array(BLAZEFACE_ANCHORS * 16);
  // anchor 0 sits at (0.5/16, 0.5/16) of the 16x16 grid; anchor 1 shares its cell
  for (const [a, score, dx] of [[0, 3, 10], [1, 1, 12]] as const) {
    scores[a] = score;
    regressors.set([dx, 8, 32, 32, 0, 0, 16, 0, 8, 8, 8, 16, 0, 8, 16, 8], a * 16);
  }
  const found = decodeBlazeFace(scores, regressors);
  t.equal(found.length, 1, 'one face');
  const d = found[0];
  t.ok(Math.abs(d.score - 1 / (1 + Math.exp(-3))) < 1e-6, 'the best score');
  const cx = 0.5 / 16 + (10 * 0.953 + 12 * 0.731) / (0.953 + 0.731) / 128;
  t.ok(Math.abs((d.x0 + d.x1) / 2 - cx) < 1e-3, `box centre ${(d.x0 + d.x1) / 2} is the score-weighted mean ${cx}`);
  t.ok(Math.abs(d.x1 - d.x0 - 0.25) < 1e-6 && Math.abs(d.y1 - d.y0 - 0.25) < 1e-6, 'box size 32/128');
  t.ok(Math.abs(d.keypoints[2] - (0.5 / 16 + 16 / 128)) < 1e-6, 'second keypoint x');
  t.throws(() => decodeBlazeFace(new Float32Array(10), regressors), RangeError);
});

t.test('the detector finds the face in a real photograph and frames the crop around it', async (t) => {
  const model = await DetectorModel.load();
  t.teardown(() => model.close());
  const photo = readJpeg(HOPPER);
  const faces = await detectFaces(photo, wholeFrameViews(photo.width, photo.height), (image) => model.run(image));
  t.ok(faces.length >= 1 && faces[0].score > 0.85, `score ${faces[0]?.score.toFixed(3)}`);
  const d = faces[0];
  for (const [k, [x, y]] of HOPPER_EYES.entries()) {
    const err = Math.hypot(d.keypoints[k * 2] - x, d.keypoints[k * 2 + 1] - y);
    t.ok(err < 10, `eye ${k} keypoint within ${err.toFixed(1)} px of the hand-measured centre`);
  }
  const box = cropBoxOf(d), half = box.side / 2, e = HOPPER_FACE_EXTENT;
  const faceWidth = e.right - e.left;
  // the whole face inside the crop with a margin, and the face about as large in it as in the training renders
  t.ok(box.centerX - half < e.left - 0.1 * faceWidth && box.centerX + half > e.right + 0.1 * faceWidth, 'jaw inside the crop');
  t.ok(box.centerY - half < e.top && box.centerY + half > e.chin + 0.1 * faceWidth, 'brows and chin inside the crop');
  t.ok(box.side > 1.6 * faceWidth && box.side < 2.6 * faceWidth, `crop side ${box.side.toFixed(0)} px for a face ${faceWidth} px wide`);
});

t.test('the detector finds no face in frames without one', async (t) => {
  const model = await DetectorModel.load();
  t.teardown(() => model.close());
  const frames: [string, FramePixels][] = [];
  frames.push(['flat grey', { format: 'rgb', width: 320, height: 240, data: new Uint8Array(320 * 240 * 3).fill(128) }]);
  for (let i = 0; i < 6; i++) {
    const bg = sampleBackground(new Rng(`detector-test:${i}`), 'test', 320, 240, 0);
    frames.push([bg.source, { format: 'rgb', width: 320, height: 240, data: Uint8Array.from(bg.pixels, (v) => Math.round(v * 255)) }]);
  }
  for (const [name, frame] of frames) {
    const faces = await detectFaces(frame, wholeFrameViews(frame.width, frame.height), (image) => model.run(image));
    t.ok(faces.every((d) => d.score < 0.75), `${name}: ${faces.length ? `at most ${Math.max(...faces.map((d) => d.score)).toFixed(2)}` : 'nothing'}`);
  }
});
