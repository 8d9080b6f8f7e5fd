/**
 * Generator throughput on one core (Node runs the renderer on one thread): frames/s with every output
 * (RGB with camera effects, depth, canonical, mask, landmarks, triangle ids and barycentrics) at each size,
 * the one-off cost per shot (texture bake, identity mesh, background), and end to end with files written.
 *
 *   npm run bench -- synth [--sequences 6] [--frames 30]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFlags, intFlag } from '../server/cli/args.js';
import { runSynth } from '../synth/dataset.js';
import { loadHeadAssets } from '../synth/headAssets.js';
import { planSequence, SequenceRenderer } from '../synth/sequence.js';
import { saveBenchResult } from './benchResult.js';

export async function benchSynth(argv: string[]): Promise<void> {
  const v = parseFlags('bench synth', argv, { sequences: { type: 'string' }, frames: { type: 'string' } });
  const sequences = intFlag('bench synth', v, 'sequences', 6, 1, 1000);
  const frames = intFlag('bench synth', v, 'frames', 30, 2, 10000);
  const assets = loadHeadAssets();
  const rows = [];
  for (const size of [128, 256]) {
    let renderMs = 0, setupMs = 0, rendered = 0, shots = 0;
    for (let s = 0; s < sequences; s++) {
      const plan = planSequence({ seed: 1000 + s, split: 'train', index: 0, frames, size, fps: 30 });
      const r = new SequenceRenderer(plan, assets);
      for (let f = 0; f < frames; f++) {
        const seg = r.segmentIndexOf(f);
        let t0 = performance.now();
        r.segment(seg);
        const setup = performance.now() - t0;
        if (setup > 1) (setupMs += setup), shots++;
        t0 = performance.now();
        r.render(f);
        renderMs += performance.now() - t0;
        rendered++;
      }
    }
    const out = mkdtempSync(join(tmpdir(), 'bench-synth-'));
    const t0 = performance.now();
    await runSynth(
      { out, sequences, frames, size, seed: 2000, split: 'train', fps: 30, raster: false, preview: false },
      { start() {}, frame() {}, sequenceDone() {} },
      () => false,
    );
    const e2eMs = performance.now() - t0;
    rmSync(out, { recursive: true, force: true });
    const row = {
      size,
      renderFps: +(rendered / (renderMs / 1000)).toFixed(1),
      renderMsPerFrame: +(renderMs / rendered).toFixed(2),
      setupMsPerShot: +(setupMs / Math.max(1, shots)).toFixed(0),
      endToEndFps: +((sequences * frames) / (e2eMs / 1000)).toFixed(1),
    };
    rows.push(row);
    console.log(
      `${size}x${size}: render ${row.renderFps} frames/s (${row.renderMsPerFrame} ms/frame), ` +
        `setup ${row.setupMsPerShot} ms/shot, end to end with files ${row.endToEndFps} frames/s`,
    );
  }
  console.log(`saved ${saveBenchResult('synth', { sequences, frames }, rows)}`);
}
