/**
 * `facelive synth` without the command line: renders N sequences into a folder with a manifest. A sequence is
 * rendered into `.seq_NNNN.partial/` and renamed to `seq_NNNN/` only when complete, so an interrupted run never
 * leaves a folder that looks complete; a second run with the same settings resumes where the first stopped.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CANONICAL_NORMALIZATION } from '../shared/canonical.js';
import { InputError } from '../shared/errors.js';
import { facekitDir } from '../node/facekit/loadFacekit.js';
import { PART_NAMES } from '../shared/parts.js';
import { photoDir } from './background.js';
import { EXPRESSION_NAMES } from './expressionTimeline.js';
import { loadHeadAssets } from './headAssets.js';
import { planSequence, SequenceRenderer, type ExpressionMode } from './sequence.js';
import { writeSequence } from './sequenceWriter.js';
import type { Split } from './splits.js';

export const SYNTH_FORMAT = 'facelive-synth-1';

export interface SynthSettings {
  readonly sequences: number;
  readonly frames: number;
  readonly size: number;
  readonly seed: number;
  readonly split: Split;
  readonly fps: number;
  readonly raster: boolean;
  /** absent in runs made before the choice existed: 'timeline' */
  readonly expressions?: ExpressionMode;
}

export interface SynthRun extends SynthSettings {
  readonly out: string;
  readonly preview: boolean;
}

export interface SynthEvents {
  /** once, before rendering: frames still to render */
  start(totalFrames: number, resumedSequences: number): void;
  frame(): void;
  sequenceDone(name: string): void;
}

export interface SynthResult {
  readonly completed: string[];
  readonly interrupted: boolean;
}

export const sequenceName = (i: number) => `seq_${String(i).padStart(4, '0')}`;

interface ManifestSequence {
  name: string;
  frames: number;
  cuts: readonly number[];
  performance_asset: number;
  identity_assets: number[];
  backgrounds: (string | null)[];
}

function readManifest(path: string): { settings: SynthSettings; sequences: ManifestSequence[] } {
  try {
    const m = JSON.parse(readFileSync(path, 'utf8'));
    if (m.format !== SYNTH_FORMAT) throw new Error(`format is ${JSON.stringify(m.format)}`);
    return m;
  } catch (e) {
    throw new InputError(`${path} is not a facelive synth manifest (${(e as Error).message}); choose another --out`);
  }
}

const sameSettings = (a: SynthSettings, b: SynthSettings) =>
  (['sequences', 'frames', 'size', 'seed', 'split', 'fps', 'raster'] as const).every((k) => a[k] === b[k]) &&
  (a.expressions ?? 'timeline') === (b.expressions ?? 'timeline');

export async function runSynth(run: SynthRun, events: SynthEvents, shouldStop: () => boolean): Promise<SynthResult> {
  const settings: SynthSettings = {
    sequences: run.sequences, frames: run.frames, size: run.size, seed: run.seed, split: run.split, fps: run.fps, raster: run.raster,
    // written only when not the default, so that earlier runs' manifests (and their resumes) stay the same
    ...(run.expressions && run.expressions !== 'timeline' ? { expressions: run.expressions } : {}),
  };
  const manifestPath = join(run.out, 'manifest.json');
  let done: ManifestSequence[] = [];
  if (existsSync(manifestPath)) {
    const old = readManifest(manifestPath);
    if (!sameSettings(old.settings, settings)) {
      throw new InputError(
        `${run.out} already holds sequences made with other settings (${JSON.stringify(old.settings)}); choose another --out or delete it`,
      );
    }
    done = old.sequences.filter((s) => existsSync(join(run.out, s.name)));
  } else if (existsSync(run.out) && readdirSync(run.out).length > 0) {
    throw new InputError(`${run.out} is not empty and has no manifest.json: choose a new or empty folder for --out`);
  }
  // load facekit before creating anything, so a missing facekit leaves no empty output folder behind
  const assets = loadHeadAssets();
  mkdirSync(run.out, { recursive: true });
  const facekitSha256 = (JSON.parse(readFileSync(join(facekitDir(), 'facekit.json'), 'utf8')) as { sha256: string }).sha256;

  const writeManifest = () => {
    const manifest = {
      format: SYNTH_FORMAT,
      settings,
      complete: done.length === settings.sequences,
      facekit: { dir_env: 'FACEKIT_DIR', sha256: facekitSha256 },
      background_photos: photoDir(),
      files: {
        'rgb/NNNNNN.png': 'sRGB frames',
        'depth.npy': '[T,H,W] float32 metres along the camera z axis, 0 = no surface',
        'canonical.npy': '[T,H,W,3] float32 canonical coordinates, metres, template frame; 0 where the mask has none',
        'mask.npy': '[T,H,W] uint8 part ids (part_ids)',
        'landmarks.npy': '[T,68,3] float32 x, y (pixels, centres at integers), visible (0/1)',
        'camera.json': 'intrinsics, per-frame camera-from-head pose, identity and expression weights, cuts',
        'video.y4m': 'the RGB frames as 4:2:0 video (fake camera input)',
        ...(settings.raster ? { 'triangle.npy': '[T,H,W] int32 facekit triangle id, -1 = none', 'barycentric.npy': '[T,H,W,3] float32' } : {}),
      },
      part_ids: Object.fromEntries(PART_NAMES.map((n, i) => [n, i])),
      canonical: {
        units: 'metres',
        frame: 'facekit neutral template: +x subject left, +y up, +z out of the face; origin 13.07 cm behind the nose tip',
        normalization: CANONICAL_NORMALIZATION,
      },
      expression_names: EXPRESSION_NAMES,
      sequences: [...done].sort((a, b) => a.name.localeCompare(b.name)),
    };
    const tmp = `${manifestPath}.tmp`;
    writeFileSync(tmp, JSON.stringify(manifest, null, 1));
    renameSync(tmp, manifestPath);
  };

  const doneNames = new Set(done.map((s) => s.name));
  const todo = Array.from({ length: settings.sequences }, (_, i) => i).filter((i) => !doneNames.has(sequenceName(i)));
  writeManifest();
  events.start(todo.length * settings.frames, done.length);
  const completed: string[] = [];
  for (const i of todo) {
    if (shouldStop()) break;
    const name = sequenceName(i);
    const partial = join(run.out, `.${name}.partial`);
    rmSync(partial, { recursive: true, force: true });
    rmSync(join(run.out, name), { recursive: true, force: true });
    const plan = planSequence({ seed: settings.seed, split: settings.split, index: i, frames: settings.frames, size: settings.size, fps: settings.fps, expressions: settings.expressions });
    const renderer = new SequenceRenderer(plan, assets);
    const ok = await writeSequence(renderer, partial, { raster: settings.raster, preview: run.preview }, () => events.frame(), shouldStop);
    if (!ok) {
      rmSync(partial, { recursive: true, force: true });
      break;
    }
    renameSync(partial, join(run.out, name));
    done.push({
      name,
      frames: settings.frames,
      cuts: plan.cuts,
      performance_asset: plan.performance,
      identity_assets: plan.segments.map((s) => s.identity),
      backgrounds: plan.segments.map((_, s) => renderer.backgroundSource(s) ?? null),
    });
    writeManifest();
    completed.push(name);
    events.sequenceDone(name);
  }
  return { completed, interrupted: done.length < settings.sequences };
}
