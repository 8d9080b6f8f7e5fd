import t from 'tap';
import { CANONICAL_NORMALIZATION } from '../canonical.js';
import { PART_NAMES } from '../parts.js';
import { parseModelContract } from './modelContract.js';
import { readOnnxMetadata } from './onnxMetadata.js';

function contract(): Record<string, any> {
  const S = 128, cache = [4, 2, 1, 7, 64, 128];
  const spec = (shape: number[]) => ({ shape, dtype: 'float32', meaning: '' });
  return {
    format: 'facelive-model-1', name: 'm', version: '1', crop_size: S, window: 8,
    canonical_normalization: { ...CANONICAL_NORMALIZATION }, part_names: [...PART_NAMES],
    inputs: { image: spec([1, 3, S, S]), focal_px: spec([1]), cache: spec(cache), cache_valid: spec([1, 7]) },
    outputs: {
      depth: spec([1, 1, S, S]), canonical: spec([1, 3, S, S]), confidence: spec([1, 1, S, S]), parts: spec([1, 8, S, S]),
      cache_out: spec(cache), cache_valid_out: spec([1, 7]),
    },
  };
}

t.test('parseModelContract() accepts a contract that fits', async (t) => {
  const c = parseModelContract(contract());
  t.equal(c.cropSize, 128);
  t.same(c.cacheShape, [4, 2, 1, 7, 64, 128]);
});

t.test('parseModelContract() lists every mismatch in one ModelContractError', async (t) => {
  const bad = contract();
  bad.canonical_normalization = { centerM: [0, 0, 0], halfExtentM: 1 };
  delete bad.outputs.confidence;
  bad.outputs.depth.shape = [1, 1, 64, 64];
  bad.inputs.extra = { shape: [1], dtype: 'float32' };
  const e = t.throws(() => parseModelContract(bad, 'x.onnx')) as Error;
  t.equal(e.name, 'ModelContractError');
  t.match(e.message, /canonical_normalization/);
  t.match(e.message, /outputs\.confidence: missing/);
  t.match(e.message, /outputs\.depth\.shape: expected \[1, 1, 128, 128\]/);
  t.match(e.message, /inputs\.extra: not part of the contract/);
});

t.test('readOnnxMetadata() of bytes that are not ONNX throws ModelContractError', async (t) => {
  t.throws(() => readOnnxMetadata(new TextEncoder().encode('{"not": "onnx"}')), { name: 'ModelContractError' });
  t.throws(() => readOnnxMetadata(Uint8Array.of(0x0a, 0xff, 0xff, 0xff)), { name: 'ModelContractError' });
});

t.test('parseModelContract(): an expression read from a crop of its own needs the input, the output and expression_crop', async (t) => {
  const spec = (shape: number[]) => ({ shape, dtype: 'float32', meaning: '' });
  const names = Array.from({ length: 57 }, (_, i) => `shape${i}`);
  const withCrop = () => {
    const c = contract();
    c.inputs.expression_image = spec([1, 3, 112, 112]);
    c.outputs.expression = spec([1, 57]);
    c.expression_names = names;
    c.expression_crop = { size: 112, scale: 0.8 };
    return c;
  };
  const ok = parseModelContract(withCrop());
  t.same(ok.expressionCrop, { size: 112, scale: 0.8 });
  t.equal(ok.expressionNames?.length, 57);
  t.equal(parseModelContract(contract()).expressionCrop, null, 'none without one');

  const noCrop = withCrop();
  delete noCrop.expression_crop;
  t.throws(() => parseModelContract(noCrop), /expression_crop: expected/);
  const badScale = withCrop();
  badScale.expression_crop.scale = -1;
  t.throws(() => parseModelContract(badScale), /expression_crop: expected/);
  const wrongShape = withCrop();
  wrongShape.inputs.expression_image = spec([1, 3, 96, 96]);
  t.throws(() => parseModelContract(wrongShape), /inputs\.expression_image\.shape: expected \[1, 3, 112, 112\]/);
  const noInput = withCrop();
  delete noInput.inputs.expression_image;
  t.throws(() => parseModelContract(noInput), /inputs\.expression_image: missing/);
  const noOutput = withCrop();
  delete noOutput.outputs.expression;
  delete noOutput.expression_names;
  t.throws(() => parseModelContract(noOutput), /outputs\.expression: missing/);
});
