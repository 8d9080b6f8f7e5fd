/** `facelive synth`: render synthetic face sequences with exact ground truth (see synth/). */
import { resolve } from 'node:path';
import { UsageError } from '../../shared/errors.js';
import { runSynth, type SynthRun } from '../../synth/dataset.js';
import { SPLITS } from '../../synth/splits.js';
import { EXPRESSION_MODES } from '../../synth/sequence.js';
import { choiceFlag, intFlag, parseFlags } from './args.js';
import { Progress, stopOnSignal } from './progress.js';

export const SYNTH_USAGE = `Usage: facelive synth --out DIR [--sequences N] [--frames T] [--size S] [--seed K]
                      [--split train|val|test] [--fps F] [--expressions timeline|shuffled] [--raster] [--preview] [--quiet]

Renders N sequences of T frames (S x S pixels) of synthetic faces with exact ground truth into DIR:
DIR/seq_NNNN/{rgb/*.png, depth.npy, canonical.npy, mask.npy, landmarks.npy, camera.json, video.y4m}
and DIR/manifest.json. Same settings give the same bytes; rerunning resumes an interrupted run.

  --out DIR        output folder (new, empty, or an earlier run with the same settings)
  --sequences N    number of sequences (default 1)
  --frames T       frames per sequence (default 60)
  --size S         image side in pixels, even, 32..1024 (default 128)
  --seed K         seed, 0..2147483647 (default 0)
  --split NAME     train, val or test: disjoint identities, appearances, lighting, backgrounds (default train)
  --fps F          frame rate of the motion and of video.y4m, 1..120 (default 30)
  --expressions M  timeline: expressions that play over time (talking, blinks, gaze, every shape in turn; default);
                   shuffled: each frame its own expression (training data for per-frame expression reading)
  --raster         also write triangle.npy and barycentric.npy (visible triangle per pixel)
  --preview        also write preview.png per sequence (RGB | depth | canonical | mask | landmarks)
  --quiet          no progress output`;

export function parseSynthArgs(argv: string[]): SynthRun {
  const v = parseFlags('synth', argv, {
    out: { type: 'string' },
    sequences: { type: 'string' },
    frames: { type: 'string' },
    size: { type: 'string' },
    seed: { type: 'string' },
    split: { type: 'string' },
    fps: { type: 'string' },
    raster: { type: 'boolean' },
    expressions: { type: 'string' },
    preview: { type: 'boolean' },
    quiet: { type: 'boolean' },
  });
  if (typeof v.out !== 'string' || v.out.trim() === '') throw new UsageError('synth: --out DIR is required');
  const size = intFlag('synth', v, 'size', 128, 32, 1024);
  if (size % 2) throw new UsageError(`synth: --size: must be even (4:2:0 video), got ${size}`);
  return {
    out: resolve(v.out),
    sequences: intFlag('synth', v, 'sequences', 1, 1, 1_000_000),
    frames: intFlag('synth', v, 'frames', 60, 1, 100_000),
    size,
    seed: intFlag('synth', v, 'seed', 0, 0, 2_147_483_647),
    split: choiceFlag('synth', v, 'split', 'train', SPLITS),
    fps: intFlag('synth', v, 'fps', 30, 1, 120),
    raster: v.raster === true,
    expressions: choiceFlag('synth', v, 'expressions', 'timeline', EXPRESSION_MODES),
    preview: v.preview === true,
  };
}

export async function synthCommand(argv: string[], quietDefault = false): Promise<number> {
  const run = parseSynthArgs(argv);
  const quiet = quietDefault || argv.includes('--quiet');
  const progress = new Progress('synth', process.stderr, quiet);
  const stop = stopOnSignal(progress);
  try {
    const result = await runSynth(
      run,
      {
        start: (total, resumed) => {
          if (resumed) progress.log(`resuming: ${resumed} sequences already complete in ${run.out}`);
          progress.start(total);
        },
        frame: () => progress.tick(),
        sequenceDone: (name) => progress.log(`wrote ${name}`),
      },
      stop.requested,
    );
    progress.finish();
    if (result.interrupted) {
      process.stderr.write(`interrupted: ${run.out} holds the complete sequences only; run the same command again to resume\n`);
      return 130;
    }
    if (!quiet) {
      process.stdout.write(`done: ${run.sequences} sequences in ${run.out}${run.preview ? ' (see seq_*/preview.png)' : ''}\n`);
    }
    return 0;
  } finally {
    stop.dispose();
  }
}
