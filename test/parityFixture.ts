/**
 * Parity fixtures written by models/train/export_onnx.py --fixtures: 3 frames and the PyTorch outputs of 3
 * streaming steps (maps on every 4th pixel), and the check that an ONNX model reproduces them.
 */
import { readFileSync } from 'node:fs';
import { imageToModelInput } from '../server/engine/crop.js';
import { FaceModel } from '../server/engine/model/faceModel.js';

interface ArrayEntry {
  dtype: 'uint8' | 'float32';
  shape: number[];
  offset: number;
  bytes: number;
}

export function readParityFixture(prefix: string): Record<string, { shape: number[]; data: Float32Array | Uint8Array }> {
  const index = JSON.parse(readFileSync(`${prefix}.json`, 'utf8')) as { arrays: Record<string, ArrayEntry> };
  const bin = readFileSync(`${prefix}.bin`);
  const out: Record<string, { shape: number[]; data: Float32Array | Uint8Array }> = {};
  for (const [name, e] of Object.entries(index.arrays)) {
    const copy = new Uint8Array(bin.subarray(e.offset, e.offset + e.bytes)).buffer;
    out[name] = { shape: e.shape, data: e.dtype === 'uint8' ? new Uint8Array(copy) : new Float32Array(copy) };
  }
  return out;
}

/** Runs the fixture's frames through `model`; returns the largest absolute difference per output. */
export async function parityErrors(model: FaceModel, prefix: string): Promise<Record<string, number>> {
  const fx = readParityFixture(prefix);
  const [T, S] = fx.images.shape;
  const images = fx.images.data as Uint8Array;
  const focal = (fx.focal_px.data as Float32Array)[0];
  const state = model.createState();
  const worst: Record<string, number> = { depth: 0, canonical: 0, confidence: 0, parts: 0, cache_out: 0 };
  const channels: Record<'depth' | 'canonical' | 'confidence' | 'parts', number> = { depth: 1, canonical: 3, confidence: 1, parts: model.contract.partNames.length };
  const g = Math.ceil(S / 4);
  for (let t = 0; t < T; t++) {
    // a model with an expression crop of its own: the fixture's crops of it
    const X = fx.expression_images?.shape[1] ?? 0;
    const expressionImage = X ? imageToModelInput((fx.expression_images.data as Uint8Array).subarray(t * X * X * 3, (t + 1) * X * X * 3), X) : undefined;
    const out = await model.step(imageToModelInput(images.subarray(t * S * S * 3, (t + 1) * S * S * 3), S), focal, state, expressionImage);
    // a model with the expression output: its weights of each frame, in full
    if (fx.expression) {
      const want = fx.expression.data as Float32Array, E = fx.expression.shape[1];
      for (let e = 0; e < E; e++) worst.expression = Math.max(worst.expression ?? 0, Math.abs(out.expression![e] - want[t * E + e]));
    }
    for (const key of Object.keys(channels) as (keyof typeof channels)[]) {
      const want = fx[`${key}_grid4`].data as Float32Array;
      const C = channels[key];
      for (let c = 0; c < C; c++) {
        for (let y = 0; y < g; y++) {
          for (let x = 0; x < g; x++) {
            const got = out[key][c * S * S + y * 4 * S + x * 4];
            const exp = want[((t * C + c) * g + y) * g + x];
            worst[key] = Math.max(worst[key], Math.abs(got - exp));
          }
        }
      }
    }
  }
  // cache after the last step, sampled like the fixture: [L, 2, 1, last 3 slots, every 8th token, every 8th channel]
  const [L, , , W1, N, C] = model.contract.cacheShape;
  const want = fx.cache_out_sample.data as Float32Array;
  const [, , , s3, sN, sC] = fx.cache_out_sample.shape;
  let k = 0;
  for (let l = 0; l < L; l++) for (let kv = 0; kv < 2; kv++) for (let s = W1 - s3; s < W1; s++) for (let n = 0; n < sN; n++) for (let c = 0; c < sC; c++) {
    const got = state.cache[((((l * 2 + kv) * W1 + s) * N + n * 8) * C) + c * 8];
    worst.cache_out = Math.max(worst.cache_out, Math.abs(got - want[k++]));
  }
  return worst;
}
