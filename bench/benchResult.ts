/** Where bench results go: bench/results/<name>.json with the commit, the machine and the arguments. */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { basename, join } from 'node:path';
import { projectRoot } from '../node/projectRoot.js';
import { DEFAULT_MODEL_PATH } from '../server/engine/model/defaults.js';

export function machine(): { cpu: string; cores: number; memoryGiB: number; node: string } {
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
}

function commit(): string {
  try {
    const sha = execSync('git rev-parse --short HEAD', { cwd: projectRoot(), encoding: 'utf8' }).trim();
    const dirty = execSync('git status --porcelain', { cwd: projectRoot(), encoding: 'utf8' }).trim() ? '+dirty' : '';
    return sha + dirty;
  } catch {
    return 'unknown';
  }
}

export function saveBenchResult(name: string, args: unknown, results: unknown): string {
  // paths inside the project are recorded relative to it: the results are committed and read elsewhere
  const root = projectRoot();
  const portableArgs = JSON.parse(JSON.stringify(args ?? null).split(`${root}/`).join(''));
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify({ name, date: new Date().toISOString(), commit: commit(), machine: machine(), args: portableArgs, results }, null, 1) + '\n');
  return path;
}

/** A bench's result name: `bench` for the shipped model, `bench-<file name>` for another, so both are kept. */
export function resultNameFor(bench: string, modelPath: string): string {
  return modelPath === DEFAULT_MODEL_PATH ? bench : `${bench}-${basename(modelPath, '.onnx')}`;
}

/** A number rounded to `digits` decimals, as results are written. */
export function round(x: number, digits = 3): number {
  return Math.round(x * 10 ** digits) / 10 ** digits;
}
