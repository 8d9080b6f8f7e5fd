/** `facelive reconstruct`: any image sequence in, 4D face out (see server/offline/reconstruct.ts). */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../../shared/errors.js';
import { openFrameSource } from '../offline/frameSource.js';
import { EXPORTS, runReconstruct, type ExportName } from '../offline/reconstruct.js';
import { choiceFlag, intFlag, numberFlag, parseFlags } from './args.js';
import { Progress, stopOnSignal } from './progress.js';
import { DEFAULT_MODEL_PATH, MODEL_DEVICES } from '../engine/model/defaults.js';

export const RECONSTRUCT_USAGE = `Usage: facelive reconstruct --input <video|folder|image> --out DIR [--model FILE] [--fov DEG]
                            [--window W] [--face-box X,Y,SIDE] [--export ${EXPORTS.join(',')}] [--device D] [--quiet]

Runs every frame through the engine (face region → crop → model with its window → canonical lookup) and writes:
crops.json (where each frame's maps lie in the frame) and, per --export:
  depth      depth/NNNNNN.png (16-bit, millimetres, crop grid) and depth.npy [T,S,S] float32 metres
  canonical  canonical.npy [T,S,S,3] metres, confidence.npy [T,S,S], mask.npy [T,S,S] part ids
  tracks     tracks.json/.csv (points seeded on the first face frame) and landmarks.json/.csv (68 points)
  mesh       mesh/NNNNNN.obj the tracked facekit mesh per frame (camera frame, metres; same topology in every
             frame) and mesh.glb: the sequence as one glTF, expressions as morph targets animated by the
             fitted weights and the head pose
  ply        ply/NNNNNN.ply point clouds with normals and colours (camera frame, metres)
  blendshapes  pose.json: head pose and the 57 blendshape weights per frame; identity.json: the fitted identity
  preview    preview.png: every 10th frame, crop | depth | canonical | parts | landmarks

  --input     a video ffmpeg can read, a folder of .png/.jpg images (name order) or one image
  --model     ONNX model (default models/facestream-small.onnx)
  --fov       horizontal field of view of the camera, degrees, 20..120 (default 60)
  --window    frames the model attends to, 1..the model's window (default: the whole window)
  --face-box  where the face is, for photos where detection finds none: the square's top-left corner X,Y
              and its SIDE, in pixels of the input (used when the face is not detected)
  --export    comma-separated list (default: all)
  --device    where onnxruntime runs the face model: cpu (default), webgpu (a GPU with a Vulkan driver), cuda
              (onnxruntime's CUDA provider libraries, not in its npm package); one it cannot open: exit 1, the reason`;

export function parseReconstructArgs(argv: string[]) {
  const v = parseFlags('reconstruct', argv, {
    input: { type: 'string' }, out: { type: 'string' }, model: { type: 'string' }, fov: { type: 'string' },
    window: { type: 'string' }, export: { type: 'string' }, quiet: { type: 'boolean' }, 'face-box': { type: 'string' }, device: { type: 'string' },
  });
  if (typeof v.input !== 'string' || !v.input) throw new UsageError('reconstruct: --input is required (a video, a folder of images or an image)');
  if (typeof v.out !== 'string' || !v.out) throw new UsageError('reconstruct: --out DIR is required');
  const exports = new Set<ExportName>();
  for (const e of String(v.export ?? EXPORTS.join(',')).split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(EXPORTS as readonly string[]).includes(e)) throw new UsageError(`reconstruct: --export: unknown "${e}" (choose from ${EXPORTS.join(', ')})`);
    exports.add(e as ExportName);
  }
  const model = resolve(typeof v.model === 'string' ? v.model : DEFAULT_MODEL_PATH);
  if (!existsSync(model)) throw new UsageError(`reconstruct: --model: ${model} not found`);
  return {
    input: resolve(v.input),
    out: resolve(v.out),
    model,
    fovDeg: numberFlag('reconstruct', v, 'fov', 60, 20, 120),
    window: v.window === undefined ? undefined : intFlag('reconstruct', v, 'window', 8, 1, 64),
    exports,
    faceBox: v['face-box'] === undefined ? undefined : parseFaceBox(String(v['face-box'])),
    quiet: v.quiet === true,
    device: choiceFlag('reconstruct', v, 'device', 'cpu', MODEL_DEVICES),
  };
}

function parseFaceBox(text: string) {
  const fields = text.split(',').map((x) => x.trim());
  const parts = fields.map(Number);
  if (parts.length !== 3 || !fields.every((x) => /^-?(\d+\.?\d*|\.\d+)$/.test(x)) || parts[2] < 8) {
    throw new UsageError(`reconstruct: --face-box: expected X,Y,SIDE in pixels (SIDE at least 8), got "${text}"`);
  }
  const [x, y, side] = parts;
  return { centerX: x + side / 2 - 0.5, centerY: y + side / 2 - 0.5, side };
}

export async function reconstructCommand(argv: string[]): Promise<number> {
  const a = parseReconstructArgs(argv);
  const source = openFrameSource(a.input);
  if (a.faceBox && !(a.faceBox.centerX >= 0 && a.faceBox.centerX < source.width && a.faceBox.centerY >= 0 && a.faceBox.centerY < source.height)) {
    throw new UsageError(`reconstruct: --face-box: the square's centre (${a.faceBox.centerX + 0.5}, ${a.faceBox.centerY + 0.5}) lies outside the ${source.width}x${source.height} frame`);
  }
  const progress = new Progress('reconstruct', process.stderr, a.quiet);
  const stop = stopOnSignal(progress);
  try {
    progress.start(source.frameCount);
    const r = await runReconstruct(
      { source, out: a.out, modelPath: a.model, fovDeg: a.fovDeg, window: a.window, faceBox: a.faceBox, exports: a.exports, device: a.device },
      { frame: () => progress.tick() },
      stop.requested,
    );
    progress.finish();
    if (!a.quiet) process.stdout.write(`done: ${r.faces} of ${r.frames} frames with a face, written to ${a.out}\n`);
    // a damaged input is not a success even when every frame it held was written
    return r.stopped ? 130 : source.warnings.length ? 1 : 0;
  } finally {
    stop.dispose();
    for (const w of source.warnings) process.stderr.write(`facelive: warning: ${w}\n`);
  }
}
