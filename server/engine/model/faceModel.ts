/**
 * The only module that imports onnxruntime. Loads a face model, checks it against the contract (metadata and
 * the session's own input/output names), and runs one streaming step. Runs on the calling thread: the engine
 * calls it from a worker_threads worker, because a run blocks the event loop.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { InputError, ModelContractError } from '../../../shared/errors.js';
import { CONTRACT_METADATA_KEY, EXPRESSION_INPUT, EXPRESSION_OUTPUT, INPUT_NAMES, OUTPUT_NAMES, parseModelContract, type ModelContract } from '../../../shared/model/modelContract.js';
import { readOnnxMetadata } from '../../../shared/model/onnxMetadata.js';
import { OFFLINE_MODEL_THREADS, type ModelDevice } from './defaults.js';

export interface ModelOptions {
  /** threads for one inference (default 2: this machine's cores) */
  readonly threads?: number;
  /** onnxruntime's execution provider (default cpu); nodes it cannot run fall back to the CPU */
  readonly device?: ModelDevice;
}

/** What each device is called where it fails, and what it needs. */
const DEVICE_NEEDS: Record<ModelDevice, string> = {
  cpu: 'the CPU',
  webgpu: 'WebGPU (a GPU with a Vulkan driver on Linux)',
  cuda: "CUDA (onnxruntime's CUDA provider libraries, which onnxruntime-node's npm package does not ship, CUDA 12 and cuDNN 9)",
};

/** The sliding window's state between frames. */
export interface StreamState {
  cache: Float32Array;
  cacheValid: Float32Array;
}

export interface StepOutputs {
  /** [S*S] metres */
  readonly depth: Float32Array;
  /** [3*S*S] channels first, metres, canonical frame */
  readonly canonical: Float32Array;
  /** [S*S] >= 1 */
  readonly confidence: Float32Array;
  /** [P*S*S] channels first, logits */
  readonly parts: Float32Array;
  /** [E] blendshape weights 0..1 in the contract's expressionNames order; only from a model with that output */
  readonly expression?: Float32Array;
}

export class FaceModel {
  private constructor(
    readonly path: string,
    readonly contract: ModelContract,
    private readonly session: ort.InferenceSession,
    /** where it runs */
    readonly device: ModelDevice = 'cpu',
  ) {}

  static async load(path: string, options: ModelOptions = {}): Promise<FaceModel> {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      throw new InputError(`model ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    let meta: Record<string, string>;
    try {
      meta = readOnnxMetadata(bytes);
    } catch (e) {
      throw new ModelContractError(`model ${path}: ${(e as Error).message}`);
    }
    const text = meta[CONTRACT_METADATA_KEY];
    if (text === undefined) throw new ModelContractError(`${path}: no "${CONTRACT_METADATA_KEY}" metadata: not a facelive model (export it with models/train/export_onnx.py)`);
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new ModelContractError(`${path}: "${CONTRACT_METADATA_KEY}" metadata is not JSON`);
    }
    const contract = parseModelContract(raw, path);
    const device = options.device ?? 'cpu';
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        executionProviders: [device],
        intraOpNumThreads: options.threads ?? OFFLINE_MODEL_THREADS,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
      });
    } catch (e) {
      if (device === 'cpu') throw e;
      // onnxruntime's own words, on one line: "Failed to get a WebGPU adapter: No supported adapters",
      // "OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library"
      const why = String((e as Error)?.message ?? e).split('\n').map((l) => l.replace(/^.*?\.cc:\d+ .*? was false\. /, '').trim()).filter(Boolean).join(' ');
      throw new InputError(`--device ${device}: onnxruntime could not run the model on ${DEVICE_NEEDS[device]}: ${why}`);
    }
    const problems: string[] = [];
    for (const n of INPUT_NAMES) if (!session.inputNames.includes(n)) problems.push(`graph input "${n}" missing`);
    for (const n of OUTPUT_NAMES) if (!session.outputNames.includes(n)) problems.push(`graph output "${n}" missing`);
    if (contract.expressionNames && !session.outputNames.includes(EXPRESSION_OUTPUT)) problems.push(`graph output "${EXPRESSION_OUTPUT}" missing (the contract names ${contract.expressionNames.length} expressions)`);
    const inputs: readonly string[] = contract.expressionCrop ? [...INPUT_NAMES, EXPRESSION_INPUT] : INPUT_NAMES;
    if (contract.expressionCrop && !session.inputNames.includes(EXPRESSION_INPUT)) problems.push(`graph input "${EXPRESSION_INPUT}" missing (the contract has expression_crop)`);
    for (const n of session.inputNames) if (!inputs.includes(n)) problems.push(`graph input "${n}" is not part of the contract`);
    if (problems.length) {
      await session.release();
      throw new ModelContractError(`${path}: the graph does not match its contract:\n  - ${problems.join('\n  - ')}`);
    }
    return new FaceModel(path, contract, session, device);
  }

  /** An empty window: no earlier frames. */
  createState(): StreamState {
    const n = this.contract.cacheShape.reduce((a, b) => a * b, 1);
    return { cache: new Float32Array(n), cacheValid: new Float32Array(this.contract.window - 1) };
  }

  /** Forget earlier frames (a cut, a lost face): the next step sees only its own frame. */
  static reset(state: StreamState): void {
    state.cacheValid.fill(0);
  }

  /**
   * One frame: `image` [3*S*S] RGB channels first in 0..1, `focalPx` the crop's focal length in crop pixels,
   * `expressionImage` [3*X*X] the contract's expression crop, for a model that has one (without it the graph reads a
   * grey crop, which costs the same, and the result has no expression). Updates `state` in place for the next frame.
   */
  async step(image: Float32Array, focalPx: number, state: StreamState, expressionImage?: Float32Array): Promise<StepOutputs> {
    const S = this.contract.cropSize, X = this.contract.expressionCrop?.size;
    if (image.length !== 3 * S * S) throw new InputError(`model step: image has ${image.length} values, expected 3*${S}*${S}`);
    if (!(focalPx > 0) || !Number.isFinite(focalPx)) throw new InputError(`model step: focalPx must be a positive number, got ${focalPx}`);
    if (X !== undefined && expressionImage && expressionImage.length !== 3 * X * X) throw new InputError(`model step: expression image has ${expressionImage.length} values, expected 3*${X}*${X}`);
    const feeds: Record<string, ort.Tensor> = {
      image: new ort.Tensor('float32', image, [1, 3, S, S]),
      focal_px: new ort.Tensor('float32', Float32Array.of(focalPx), [1]),
      cache: new ort.Tensor('float32', state.cache, [...this.contract.cacheShape]),
      cache_valid: new ort.Tensor('float32', state.cacheValid, [1, this.contract.window - 1]),
    };
    if (X !== undefined) feeds[EXPRESSION_INPUT] = new ort.Tensor('float32', expressionImage ?? new Float32Array(3 * X * X).fill(0.5), [1, 3, X, X]);
    const out = await this.session.run(feeds);
    const data = (name: string) => out[name].data as Float32Array;
    state.cache = data('cache_out');
    state.cacheValid = data('cache_valid_out');
    const maps = { depth: data('depth'), canonical: data('canonical'), confidence: data('confidence'), parts: data('parts') };
    const read = this.contract.expressionNames && (X === undefined || expressionImage);
    return read ? { ...maps, expression: data(EXPRESSION_OUTPUT) } : maps;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
