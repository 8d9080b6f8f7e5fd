/**
 * Does batching the newest crops of several sessions into one model run pay? The face model's step at batch 1, 2,
 * 4 and 8, on this machine's CPU: a copy of the model exported with a dynamic batch axis from its checkpoint
 * (bench/batch/export_dynamic_batch.py, into a temporary folder; the shipped model keeps its fixed batch of 1),
 * timed in onnxruntime-node with 1 and 2 threads (the batch sizes in turn, 7 rounds, medians) beside the shipped
 * model at batch 1, and in torch. Checks that the copy at batch 1 gives the shipped model's outputs and that each
 * sample of a batch gives what it gives alone. Also: GFLOP per sample and the window cache's size, for the GPU
 * case on paper.
 *
 *   npm run bench -- model-batch [--checkpoint models/train/runs/small-expr/checkpoint.pt]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { parseFlags } from '../server/cli/args.js';
import { DEFAULT_MODEL_PATH } from '../server/engine/model/defaults.js';
import { projectRoot } from '../node/projectRoot.js';
import { round, saveBenchResult } from './benchResult.js';
import { median } from './engineAccuracy.js';

const BATCHES = [1, 2, 4, 8];

export async function benchModelBatch(argv: string[]): Promise<void> {
  const v = parseFlags('bench model-batch', argv, { checkpoint: { type: 'string' } });
  const checkpoint = String(v.checkpoint ?? join(projectRoot(), 'models', 'train', 'runs', 'small-expr', 'checkpoint.pt'));
  const dir = mkdtempSync(join(tmpdir(), 'facelive-batch-'));
  try {
    const dynamicPath = join(dir, 'dynamic-batch.onnx');
    const py = spawnSync('/usr/bin/python3', [join(projectRoot(), 'bench', 'batch', 'export_dynamic_batch.py'), '--checkpoint', checkpoint, '--out', dynamicPath, '--batches', BATCHES.join(',')], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (py.status !== 0) throw new Error(`export_dynamic_batch.py failed:\n${py.stderr}`);
    const torch = JSON.parse(py.stdout.trim().split('\n').pop()!);
    console.log(`torch ${torch.torch}: ${JSON.stringify(torch.timings)}`);
    const open = (path: string, threads: number) => ort.InferenceSession.create(path, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' });
    const shipped1 = await open(DEFAULT_MODEL_PATH, 1), dynamic1 = await open(dynamicPath, 1);
    const parity = await checkParity(shipped1, dynamic1);
    console.log(`parity: ${JSON.stringify(parity)}`);
    const onnx: { threads: number; model: string; batch: number; msPerStep: number; msPerSample: number; rounds: number[] }[] = [];
    for (const threads of [1, 2]) {
      const shipped = threads === 1 ? shipped1 : await open(DEFAULT_MODEL_PATH, threads);
      const dynamic = threads === 1 ? dynamic1 : await open(dynamicPath, threads);
      const cases = [{ model: 'shipped', session: shipped, batch: 1 }, ...BATCHES.map((batch) => ({ model: 'dynamic', session: dynamic, batch }))];
      const times = cases.map(() => [] as number[]);
      for (let round = 0; round < 7; round++) {
        for (const [i, c] of cases.entries()) {
          const f = feeds(c.batch, streamingState(c.batch, 1));
          await c.session.run(f);
          const n = Math.max(3, Math.round(24 / c.batch));
          const t0 = performance.now();
          for (let k = 0; k < n; k++) await c.session.run(f);
          times[i].push((performance.now() - t0) / n);
        }
      }
      for (const [i, c] of cases.entries()) {
        const ms = median(times[i]);
        onnx.push({ threads, model: c.model, batch: c.batch, msPerStep: round(ms, 1), msPerSample: round(ms / c.batch, 1), rounds: times[i].map((x) => round(x, 1)) });
        console.log(`onnxruntime-node, ${threads} thread(s), ${c.model} model, batch ${c.batch}: ${ms.toFixed(1)} ms per step, ${(ms / c.batch).toFixed(1)} ms per sample`);
      }
    }
    console.log(`saved ${saveBenchResult('model-batch', { checkpoint, batches: BATCHES }, { onnxruntimeNode: onnx, torch, parity })}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const S = 128;
/** the shipped model's cache [K,2,1,W-1,N,C] */
const K = 14, W1 = 7, N = 64, C = 128;

/** A batch's inputs: crops of a smooth pattern that differs per sample, a cache per sample (batch axis 2). */
function feeds(B: number, state: { cache: Float32Array; valid: Float32Array }, frame = 0): Record<string, ort.Tensor> {
  const image = new Float32Array(B * 3 * S * S);
  for (let b = 0; b < B; b++) for (let i = 0; i < 3 * S * S; i++) image[b * 3 * S * S + i] = 0.5 + 0.4 * Math.sin(i * 0.013 * (b + 1) + frame);
  return {
    image: new ort.Tensor('float32', image, [B, 3, S, S]),
    focal_px: new ort.Tensor('float32', new Float32Array(B).fill(150), [B]),
    cache: new ort.Tensor('float32', state.cache, [K, 2, B, W1, N, C]),
    cache_valid: new ort.Tensor('float32', state.valid, [B, W1]),
  };
}

/** An empty window (`valid` 0) or, for timing, a full one (1: every cached frame attended to). */
function streamingState(B: number, valid: 0 | 1): { cache: Float32Array; valid: Float32Array } {
  return { cache: new Float32Array(K * 2 * B * W1 * N * C), valid: new Float32Array(B * W1).fill(valid) };
}

/**
 * Three streaming steps (each step's cache into the next): the copy at batch 1 against the shipped model, and a
 * batch of 4 sessions against each session alone; largest absolute differences over every output.
 */
async function checkParity(shipped: ort.InferenceSession, dynamic: ort.InferenceSession) {
  const run = async (s: ort.InferenceSession, B: number, sampleOf?: number) => {
    let state = streamingState(B, 0);
    const outs: Record<string, Float32Array>[] = [];
    for (let f = 0; f < 3; f++) {
      let input = feeds(B, state, f);
      if (sampleOf !== undefined) {
        // sample `sampleOf` of a batch of 4, alone
        const all = feeds(4, streamingState(4, 0), f).image.data as Float32Array;
        input = { ...input, image: new ort.Tensor('float32', all.slice(sampleOf * 3 * S * S, (sampleOf + 1) * 3 * S * S), [1, 3, S, S]) };
      }
      const out = await s.run(input);
      outs.push(Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data as Float32Array])));
      state = { cache: outs[f].cache_out, valid: outs[f].cache_valid_out };
    }
    return outs;
  };
  const a = await run(shipped, 1), b = await run(dynamic, 1);
  let batch1 = 0;
  for (let f = 0; f < 3; f++) for (const k of Object.keys(a[f])) for (let i = 0; i < a[f][k].length; i++) batch1 = Math.max(batch1, Math.abs(a[f][k][i] - b[f][k][i]));
  const batched = await run(dynamic, 4);
  let perSample = 0;
  for (let s = 0; s < 4; s++) {
    const alone = await run(dynamic, 1, s);
    for (let f = 0; f < 3; f++) {
      for (const k of ['depth', 'canonical', 'confidence', 'parts']) {
        const n = alone[f][k].length;
        for (let i = 0; i < n; i++) perSample = Math.max(perSample, Math.abs(alone[f][k][i] - batched[f][k][s * n + i]));
      }
    }
  }
  return { batch1VsShippedMaxAbs: batch1, batch4SampleVsAloneMaxAbs: perSample };
}
