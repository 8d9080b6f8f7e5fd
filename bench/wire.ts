/**
 * What the live server sends per frame, on the engine's output for held-out synthetic 640x480 frames (window 8):
 *   maps        coded bytes per plane at each stride, the ratio to raw float32 maps, the largest error on the face
 *               (depth, canonical, confidence) and encode / decode time
 *   result      bytes of the sparse message (landmarks, points, pose, blendshapes, timings) without the mesh
 *
 *   npm run bench -- wire [--frames 60] [--strides 1,2]
 */
import { intFlag, parseFlags } from '../server/cli/args.js';
import { encodeResult, subsampleMaps } from '../server/egress/resultEncoder.js';
import { FaceEngine } from '../server/engine/engine.js';
import { buildFaceTemplate } from '../server/engine/faceTemplate.js';
import { loadHeadAssets } from '../synth/headAssets.js';
import { planSequence, SequenceRenderer } from '../synth/sequence.js';
import { hasCanonical } from '../shared/parts.js';
import { decodeMaps, encodeMaps, type PlainMaps } from '../shared/wire/mapCodec.js';
import { encodeMessage } from '../shared/wire/schema.js';
import { saveBenchResult } from './benchResult.js';
import { mean, median, widescreenI420 } from './engineAccuracy.js';
import { DEFAULT_MODEL_PATH } from '../server/engine/model/defaults.js';

export async function benchWire(argv: string[]): Promise<void> {
  const v = parseFlags('bench wire', argv, { frames: { type: 'string' }, strides: { type: 'string' } });
  const frames = intFlag('bench wire', v, 'frames', 60, 1, 10000);
  const strides = String(v.strides ?? '1,2').split(',').map(Number);
  if (!strides.every((s) => Number.isInteger(s) && s >= 1 && s <= 4)) throw new Error(`bench wire: --strides: integers 1..4, got ${String(v.strides)}`);
  const assets = loadHeadAssets();
  const engine = await FaceEngine.create({ modelPath: DEFAULT_MODEL_PATH, template: buildFaceTemplate(assets.model) });
  const plan = planSequence({ seed: 77, split: 'test', index: 1, frames, size: 480, fps: 30 });
  const renderer = new SequenceRenderer(plan, assets);
  const session = engine.openSession({ window: 8 });
  const perStride = new Map(strides.map((s) => [s, { depth: [] as number[], canonical: [] as number[], confidence: [] as number[], mask: [] as number[], total: [] as number[], raw: 0, encodeMs: [] as number[], decodeMs: [] as number[], err: { depthMm: 0, canonicalMm: 0, confidence: 0 } }]));
  const resultBytes: number[] = [];
  try {
    for (let f = 0; f < frames; f++) {
      const input = widescreenI420(renderer.render(f), plan.intrinsics);
      const r = await session.process({ frameId: f, pixels: input.pixels, intrinsics: input.K, cut: plan.cuts.includes(f) });
      if (r.kind === 'noFace') continue;
      resultBytes.push(encodeMessage(encodeResult(r, { frameWidth: 640, frameHeight: 480, withMaps: false, withMesh: false, mesh: null }).result).length);
      for (const [stride, acc] of perStride) {
        const plain = subsampleMaps(r.maps, stride);
        let t = performance.now();
        const coded = encodeMaps(plain);
        acc.encodeMs.push(performance.now() - t);
        t = performance.now();
        const back = decodeMaps(coded);
        acc.decodeMs.push(performance.now() - t);
        for (const k of ['depth', 'canonical', 'confidence', 'mask'] as const) acc[k].push(coded[k].length);
        acc.total.push(coded.depth.length + coded.canonical.length + coded.confidence.length + coded.mask.length);
        acc.raw = plain.size * plain.size * (4 + 12 + 4 + 1);
        worstErrors(plain, back, acc.err);
      }
    }
  } finally {
    await engine.close();
  }
  const r1 = (x: number) => Math.round(x * 10) / 10, r2 = (x: number) => Math.round(x * 100) / 100;
  const report = {
    frames: resultBytes.length,
    resultBytesMedian: median(resultBytes),
    maps: Object.fromEntries([...perStride].map(([stride, a]) => [`stride${stride}`, {
      size: 128 / stride,
      bytesMean: { depth: Math.round(mean(a.depth)), canonical: Math.round(mean(a.canonical)), confidence: Math.round(mean(a.confidence)), mask: Math.round(mean(a.mask)), total: Math.round(mean(a.total)) },
      ratioToRawFloat32: r1(a.raw / mean(a.total)),
      worstErrorOnFace: { depthMm: r2(a.err.depthMm), canonicalMm: r2(a.err.canonicalMm), confidence: r2(a.err.confidence) },
      encodeMsMedian: r2(median(a.encodeMs)), decodeMsMedian: r2(median(a.decodeMs)),
    }])),
  };
  console.log(JSON.stringify(report, null, 1));
  console.log(`saved ${saveBenchResult('wire', { frames, strides }, report)}`);
}

function worstErrors(a: PlainMaps, b: PlainMaps, err: { depthMm: number; canonicalMm: number; confidence: number }): void {
  const n = a.size * a.size;
  for (let i = 0; i < n; i++) {
    if (!hasCanonical(a.mask[i])) continue;
    err.depthMm = Math.max(err.depthMm, Math.abs(a.depth[i] - b.depth[i]) * 1000);
    err.confidence = Math.max(err.confidence, Math.abs(Math.min(a.confidence[i], 1 + 255 / 4) - b.confidence[i]));
    for (let k = 0; k < 3; k++) err.canonicalMm = Math.max(err.canonicalMm, Math.abs(a.canonical[k * n + i] - b.canonical[k * n + i]) * 1000);
  }
}
