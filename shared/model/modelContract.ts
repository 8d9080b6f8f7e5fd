/**
 * The model contract: what the engine needs to know about any face model (ours, or a larger one on a GPU
 * server) to use it without code changes. It travels inside the ONNX file as metadata "facelive.contract" (JSON).
 *
 * One step: image [1,3,S,S] RGB 0..1 + focal_px [1] + cache [K,2,1,W-1,N,C] + cache_valid [1,W-1]
 *        → depth [1,1,S,S] metres, canonical [1,3,S,S] metres (shared/canonical.ts), confidence [1,1,S,S] (≥ 1),
 *          parts [1,P,S,S] logits (shared/parts.ts order), cache_out, cache_valid_out.
 * The cache is the model's state for the window's earlier frames, opaque to the engine: it passes cache_out back
 * in, and only cache_valid says which frames count (the engine clears it on a cut or a shorter window).
 * A model that reads the expression has an `expression` output [1,E] (weights in `expression_names` order), read
 * either from the image crop, or from an input of its own, `expression_image` [1,3,X,X]: the engine's face box
 * with its side times `expression_crop.scale` (same centre and angle), resampled to `expression_crop.size`.
 */
import { CANONICAL_NORMALIZATION } from '../canonical.js';
import { ModelContractError } from '../errors.js';
import { PART_NAMES } from '../parts.js';

export const CONTRACT_FORMAT = 'facelive-model-1';
export const CONTRACT_METADATA_KEY = 'facelive.contract';
export const INPUT_NAMES = ['image', 'focal_px', 'cache', 'cache_valid'] as const;
export const OUTPUT_NAMES = ['depth', 'canonical', 'confidence', 'parts', 'cache_out', 'cache_valid_out'] as const;
export type InputName = (typeof INPUT_NAMES)[number];
export type OutputName = (typeof OUTPUT_NAMES)[number];
/** An optional output: blendshape weights read from the crop, in the contract's `expression_names` order. */
export const EXPRESSION_OUTPUT = 'expression';
/** An optional input: the crop the expression is read from, where it is not the image crop (`expression_crop`). */
export const EXPRESSION_INPUT = 'expression_image';

/** How the engine cuts `expression_image`: its face box, the side times `scale`, resampled to `size` square. */
export interface ExpressionCrop {
  readonly size: number;
  readonly scale: number;
}

export interface TensorSpec {
  readonly shape: readonly number[];
  readonly dtype: 'float32';
  readonly meaning: string;
}

export interface ModelContract {
  readonly name: string;
  readonly version: string;
  /** side of the square crop, pixels */
  readonly cropSize: number;
  /** frames attended: the current one + window-1 cached */
  readonly window: number;
  /** [K, 2, 1, W-1, N, C]: K slots of [2, N, C] per cached frame (ours: keys/values per layer, then decoder features) */
  readonly cacheShape: readonly number[];
  readonly partNames: readonly string[];
  readonly inputs: Readonly<Record<InputName, TensorSpec>>;
  readonly outputs: Readonly<Record<OutputName, TensorSpec>>;
  /** the model's blendshape output: its names (facekit's 57, shared/blendshapeNames.ts); null when it has none */
  readonly expressionNames: readonly string[] | null;
  /** the expression's own input crop; null where the expression (if any) is read from the image crop */
  readonly expressionCrop: ExpressionCrop | null;
  /** free-form: steps, minutes, data */
  readonly training: Readonly<Record<string, unknown>>;
  readonly licence: string;
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isDims = (x: unknown): x is number[] => Array.isArray(x) && x.length > 0 && x.every((d) => Number.isInteger(d) && d > 0);

/** Validates the contract JSON; collects every problem into one ModelContractError. */
export function parseModelContract(raw: unknown, source = 'model'): ModelContract {
  const problems: string[] = [];
  const need = <T>(ok: boolean, value: T, message: string): T => {
    if (!ok) problems.push(message);
    return value;
  };
  if (!isRecord(raw)) throw new ModelContractError(`${source}: contract: expected a JSON object`);
  need(raw.format === CONTRACT_FORMAT, null, `format: expected "${CONTRACT_FORMAT}", got ${JSON.stringify(raw.format)}`);
  const cropSize = need(Number.isInteger(raw.crop_size) && (raw.crop_size as number) >= 16, raw.crop_size as number, `crop_size: expected an integer >= 16, got ${JSON.stringify(raw.crop_size)}`);
  const window = need(Number.isInteger(raw.window) && (raw.window as number) >= 1, raw.window as number, `window: expected an integer >= 1, got ${JSON.stringify(raw.window)}`);
  const norm = raw.canonical_normalization;
  const sameNorm =
    isRecord(norm) && Array.isArray(norm.centerM) && norm.centerM.length === 3 &&
    norm.centerM.every((v, i) => Math.abs((v as number) - CANONICAL_NORMALIZATION.centerM[i]) < 1e-9) &&
    Math.abs((norm.halfExtentM as number) - CANONICAL_NORMALIZATION.halfExtentM) < 1e-9;
  need(sameNorm, null, `canonical_normalization: the model was trained for ${JSON.stringify(norm)}, this build uses ${JSON.stringify(CANONICAL_NORMALIZATION)}`);
  const partNames = raw.part_names;
  need(Array.isArray(partNames) && partNames.join(',') === PART_NAMES.join(','), null, `part_names: expected [${PART_NAMES.join(', ')}], got ${JSON.stringify(partNames)}`);

  const tensors = (kind: 'inputs' | 'outputs', names: readonly string[], optional: readonly string[] = []) => {
    const section = raw[kind];
    const out: Record<string, TensorSpec> = {};
    if (!isRecord(section)) {
      problems.push(`${kind}: expected an object`);
      return out;
    }
    for (const n of names) {
      const t = section[n];
      if (!isRecord(t)) {
        problems.push(`${kind}.${n}: missing`);
        continue;
      }
      if (!isDims(t.shape)) problems.push(`${kind}.${n}.shape: expected positive integers, got ${JSON.stringify(t.shape)}`);
      if (t.dtype !== 'float32') problems.push(`${kind}.${n}.dtype: expected float32, got ${JSON.stringify(t.dtype)}`);
      out[n] = { shape: (t.shape as number[]) ?? [], dtype: 'float32', meaning: String(t.meaning ?? '') };
    }
    for (const n of optional) {
      const t = section[n];
      if (t === undefined) continue;
      if (!isRecord(t) || !isDims(t.shape) || t.dtype !== 'float32') problems.push(`${kind}.${n}: expected a float32 tensor with its shape, got ${JSON.stringify(t).slice(0, 80)}`);
      else out[n] = { shape: t.shape, dtype: 'float32', meaning: String(t.meaning ?? '') };
    }
    for (const extra of Object.keys(section)) if (!names.includes(extra) && !optional.includes(extra)) problems.push(`${kind}.${extra}: not part of the contract`);
    return out;
  };
  const inputs = tensors('inputs', INPUT_NAMES, [EXPRESSION_INPUT]);
  const outputs = tensors('outputs', OUTPUT_NAMES, [EXPRESSION_OUTPUT]);
  const expressionSpec = outputs[EXPRESSION_OUTPUT];
  const expressionNames = raw.expression_names;
  if (expressionSpec || expressionNames !== undefined) {
    const ok = Array.isArray(expressionNames) && expressionNames.every((n) => typeof n === 'string') && expressionSpec?.shape.join(',') === `1,${expressionNames.length}`;
    need(ok, null, `outputs.expression and expression_names: expected both, the output [1, N] for N names, got ${JSON.stringify(expressionSpec?.shape)} and ${JSON.stringify(expressionNames)?.slice(0, 80)}`);
  }
  const crop = raw.expression_crop;
  let expressionCrop: ExpressionCrop | null = null;
  if (inputs[EXPRESSION_INPUT] || crop !== undefined) {
    const X = isRecord(crop) ? crop.size : undefined, scale = isRecord(crop) ? crop.scale : undefined;
    const ok = Number.isInteger(X) && (X as number) >= 16 && typeof scale === 'number' && scale > 0 && scale <= 4;
    need(ok, null, `expression_crop: expected { size: an integer >= 16, scale: a number in (0, 4] }, got ${JSON.stringify(crop)?.slice(0, 80)}`);
    need(!!inputs[EXPRESSION_INPUT], null, `inputs.${EXPRESSION_INPUT}: missing (the contract has expression_crop)`);
    need(!!expressionSpec, null, `outputs.${EXPRESSION_OUTPUT}: missing (the contract has inputs.${EXPRESSION_INPUT})`);
    if (ok) {
      expressionCrop = { size: X as number, scale: scale as number };
      const spec = inputs[EXPRESSION_INPUT];
      if (spec && spec.shape.join(',') !== `1,3,${X},${X}`) problems.push(`inputs.${EXPRESSION_INPUT}.shape: expected [1, 3, ${X}, ${X}], got [${spec.shape.join(', ')}]`);
    }
  }
  const S = cropSize, P = PART_NAMES.length;
  const expectShape = (kind: string, name: string, spec: TensorSpec | undefined, want: number[]) => {
    if (spec && spec.shape.join(',') !== want.join(',')) problems.push(`${kind}.${name}.shape: expected [${want.join(', ')}], got [${spec.shape.join(', ')}]`);
  };
  const cacheShape = inputs.cache?.shape ?? [];
  if (Number.isInteger(S)) {
    expectShape('inputs', 'image', inputs.image, [1, 3, S, S]);
    expectShape('inputs', 'focal_px', inputs.focal_px, [1]);
    expectShape('outputs', 'depth', outputs.depth, [1, 1, S, S]);
    expectShape('outputs', 'canonical', outputs.canonical, [1, 3, S, S]);
    expectShape('outputs', 'confidence', outputs.confidence, [1, 1, S, S]);
    expectShape('outputs', 'parts', outputs.parts, [1, P, S, S]);
  }
  if (Number.isInteger(window)) {
    if (cacheShape.length !== 6 || cacheShape[2] !== 1 || cacheShape[1] !== 2 || cacheShape[3] !== window - 1) {
      problems.push(`inputs.cache.shape: expected [slots, 2, 1, ${window - 1}, tokens, dim], got [${cacheShape.join(', ')}]`);
    }
    expectShape('outputs', 'cache_out', outputs.cache_out, [...cacheShape]);
    expectShape('inputs', 'cache_valid', inputs.cache_valid, [1, window - 1]);
    expectShape('outputs', 'cache_valid_out', outputs.cache_valid_out, [1, window - 1]);
  }
  if (problems.length) throw new ModelContractError(`${source} does not fit the facelive model contract:\n  - ${problems.join('\n  - ')}`);
  return {
    name: String(raw.name ?? 'unnamed'),
    version: String(raw.version ?? '0'),
    cropSize: S,
    window,
    cacheShape,
    partNames: partNames as string[],
    inputs: inputs as Record<InputName, TensorSpec>,
    outputs: outputs as Record<OutputName, TensorSpec>,
    expressionNames: expressionSpec ? (expressionNames as string[]) : null,
    expressionCrop,
    training: isRecord(raw.training) ? raw.training : {},
    licence: String(raw.licence ?? ''),
  };
}
