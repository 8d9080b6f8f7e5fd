/**
 * Training data for the expression network (train_expression_net.py): renders `facelive synth` sequences and keeps
 * of each frame only what that network reads, a crop around the face framed as the engine frames it (boxFromMask:
 * the face-mask extent at the model's fill), loose enough for the trainer's jitter, with the frame's 57 expression
 * weights. A 320-px render (the expressions bench's size) gives brows to chin 70-150 px, about what the network's
 * 112-px crop keeps, where the 128-px renders of the trunk's training give them 30-60.
 *
 *   npm run build && node build/models/train/expressionCrops.js --out data/expr320/train-0 --sequences 900 \
 *       --frames 16 --size 320 --seed 800 --split train --expressions shuffled
 *
 * Writes crops.u8 ([N, C, C, 3] sRGB, each centred on the engine's box, its side the box's × loose_scale),
 * weights.f32 ([N, 57]) and meta.json. Frames without a face in view are skipped.
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CropPlacement } from '../../shared/cropPlacement.js';
import { cropToModelInput } from '../../server/engine/crop.js';
import { boxFromMask, FACE_REGION_DEFAULTS, wholeFrameBox } from '../../server/engine/faceRegion.js';
import { EXPRESSION_NAMES } from '../../synth/expressionTimeline.js';
import { loadHeadAssets } from '../../synth/headAssets.js';
import { planSequence, SequenceRenderer, type ExpressionMode } from '../../synth/sequence.js';
import type { Split } from '../../synth/splits.js';

/** The loose crop's side over the engine's box: room for the trainer's jitter around its tighter crop. */
export const LOOSE_SCALE = 0.85;
export const LOOSE_SIZE = 168;

function main(): void {
  const { values: v } = parseArgs({
    options: {
      out: { type: 'string' }, sequences: { type: 'string', default: '100' }, frames: { type: 'string', default: '16' },
      size: { type: 'string', default: '320' }, seed: { type: 'string', default: '800' }, split: { type: 'string', default: 'train' },
      expressions: { type: 'string', default: 'shuffled' }, first: { type: 'string', default: '0' },
    },
  });
  if (!v.out) throw new Error('--out DIR is required');
  const sequences = Number(v.sequences), frames = Number(v.frames), size = Number(v.size), seed = Number(v.seed), first = Number(v.first);
  const split = v.split as Split, expressions = v.expressions as ExpressionMode;
  mkdirSync(v.out, { recursive: true });
  const assets = loadHeadAssets();
  const C = LOOSE_SIZE, E = EXPRESSION_NAMES.length;
  const crops = openSync(join(v.out, 'crops.u8'), 'w'), weights = openSync(join(v.out, 'weights.f32'), 'w');
  const whole = new CropPlacement(wholeFrameBox(size, size), size);
  const u8 = new Uint8Array(C * C * 3);
  let n = 0, skipped = 0;
  const started = Date.now();
  for (let s = first; s < first + sequences; s++) {
    const plan = planSequence({ seed, split, index: s, frames, size, fps: 30, expressions });
    const renderer = new SequenceRenderer(plan, assets);
    for (let f = 0; f < frames; f++) {
      const fr = renderer.render(f);
      const box = boxFromMask(fr.mask, whole, FACE_REGION_DEFAULTS);
      if (!box) {
        skipped++;
        continue;
      }
      const loose = new CropPlacement({ ...box, side: box.side * LOOSE_SCALE }, C);
      const rgb = cropToModelInput({ format: 'rgb', width: size, height: size, data: fr.rgb }, loose);
      // channels first 0..1 -> interleaved bytes
      for (let i = 0; i < C * C; i++) for (let k = 0; k < 3; k++) u8[i * 3 + k] = Math.round(Math.min(1, Math.max(0, rgb[k * C * C + i])) * 255);
      writeSync(crops, u8);
      writeSync(weights, new Uint8Array(Float32Array.from(fr.expression.subarray(0, E)).buffer));
      n++;
    }
    if ((s - first + 1) % 50 === 0) process.stderr.write(`${s - first + 1}/${sequences} sequences, ${n} crops, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  }
  for (const fd of [crops, weights]) closeSync(fd);
  writeFileSync(join(v.out, 'meta.json'), JSON.stringify({
    format: 'facelive-expression-crops-1', count: n, skipped, crop_size: C, loose_scale: LOOSE_SCALE, fill: FACE_REGION_DEFAULTS.fill,
    render: { sequences, first, frames, size, seed, split, expressions }, expression_names: EXPRESSION_NAMES,
  }, null, 1));
  process.stderr.write(`${n} crops (${skipped} frames without a face) in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}

main();
