/**
 * The face detector's network: MediaPipe BlazeFace (short range, 128² input) as ONNX, trained on real faces
 * (models/third_party/blazeface). Loads it, checks its tensors, runs it on one square view. Like faceModel.ts it
 * runs on the calling thread and is called from the inference worker.
 */
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { InputError, ModelContractError } from '../../../shared/errors.js';
import { openOnnxSession } from './onnxSession.js';
import { projectRoot } from '../../../node/projectRoot.js';
import { BLAZEFACE_ANCHORS, BLAZEFACE_INPUT } from '../detect/blazeFace.js';

export const DEFAULT_DETECTOR_PATH = join(projectRoot(), 'models', 'third_party', 'blazeface', 'face_detection_front_128.onnx');

/** The raw outputs for one view: score logits [896] and regressors [896*16], the 16×16 grid's anchors first. */
export interface DetectorOutputs {
  readonly scores: Float32Array;
  readonly regressors: Float32Array;
}

const INPUT = 'input:0';
/** score and regressor outputs of the 16×16 grid (512 anchors), then of the 8×8 grid (384) */
const OUTPUTS = ['Identity:0', 'Identity_1:0', 'Identity_2:0', 'Identity_3:0'] as const;

export class DetectorModel {
  private readonly nhwc = new Float32Array(BLAZEFACE_INPUT * BLAZEFACE_INPUT * 3);

  private constructor(
    readonly path: string,
    private readonly session: ort.InferenceSession,
  ) {}

  static async load(path = DEFAULT_DETECTOR_PATH): Promise<DetectorModel> {
    const session = await openOnnxSession(path, 'face detector (MediaPipe BlazeFace, front, 128²)', { inputs: [INPUT], outputs: OUTPUTS });
    const model = new DetectorModel(path, session);
    const probe = await model.run(new Float32Array(3 * BLAZEFACE_INPUT * BLAZEFACE_INPUT));
    if (probe.scores.length !== BLAZEFACE_ANCHORS) {
      await session.release();
      throw new ModelContractError(`face detector ${path}: ${probe.scores.length} anchors, expected ${BLAZEFACE_ANCHORS}`);
    }
    return model;
  }

  /** One square view: `image` [3*128*128] RGB channels first in 0..1 (the engine's crop format). */
  async run(image: Float32Array): Promise<DetectorOutputs> {
    const S = BLAZEFACE_INPUT, n = S * S;
    if (image.length !== 3 * n) throw new InputError(`face detector: image has ${image.length} values, expected 3*${S}*${S}`);
    // the network takes NHWC in -1..1
    for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) this.nhwc[i * 3 + k] = image[k * n + i] * 2 - 1;
    const out = await this.session.run({ [INPUT]: new ort.Tensor('float32', this.nhwc, [1, S, S, 3]) });
    const part = (name: string) => out[name].data as Float32Array;
    const scores = new Float32Array(BLAZEFACE_ANCHORS), regressors = new Float32Array(BLAZEFACE_ANCHORS * 16);
    const s16 = part(OUTPUTS[0]), s8 = part(OUTPUTS[1]), r16 = part(OUTPUTS[2]), r8 = part(OUTPUTS[3]);
    scores.set(s16, 0);
    scores.set(s8, s16.length);
    regressors.set(r16, 0);
    regressors.set(r8, r16.length);
    return { scores, regressors };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
