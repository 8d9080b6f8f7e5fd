"""Convert face-api.js's 68-point landmark network (`faceLandmark68Net`) to ONNX.

The network is the YARDSTICK of the real-image benchmark (bench/reference/faceApiLandmarks.ts): our own landmarks
are measured against it; it never produces the engine's landmarks. This script rebuilds it in PyTorch from the
TF.js weights that face-api ships and exports it, so the bench runs it in onnxruntime-node instead of TF.js.

  /usr/bin/python3 models/train/convert_faceapi_landmarks.py \
      --weights-dir <dir with face_landmark_68_model-weights_manifest.json and face_landmark_68_model.bin> \
      --onnx models/third_party/face-api/face_landmark_68.onnx [--check-fixture models/fixtures/face-api-68-tfjs.json]

The weights come from the npm package @vladmandic/face-api 1.7.15 (`model/`; `npm pack @vladmandic/face-api@1.7.15`
and untar). Only numpy, torch and onnx are needed.

Architecture (face-api's src/faceFeatureExtractor/FaceFeatureExtractor.ts, denseBlock.ts,
src/common/depthwiseSeparableConv.ts, src/faceProcessor/FaceProcessor.ts, fullyConnectedLayer.ts; read, not guessed):

  x = (rgb - [122.782, 117.001, 104.298]) / 255                     # normalize(), then .div(255)
  dense0 = denseBlock4(x, first layer: conv0 is a plain 3x3 conv)   # 112 -> 56, 32 channels
  dense1, dense2, dense3 = denseBlock4(...)                          # -> 28/64, 14/128, 7/256
  avgPool 7x7, stride 2, 'valid'                                     # -> 1x1x256
  landmarks = flatten @ fc/weights [256,136] + fc/bias               # no activation

  denseBlock4(x):  out1 = relu(conv0(x, stride 2))          conv0: conv2d+bias (dense0) or separable conv+bias
                   out2 = sep1(out1)
                   out3 = sep2(relu(out1 + out2))
                   out4 = sep3(relu(out1 + out2 + out3))
                   return relu(out1 + out2 + out3 + out4)
  sepK(x) = tf.separableConv2d(x, depthwise 3x3, pointwise 1x1, stride, 'same') + bias   (no ReLU inside)

TensorFlow's 'same' padding with stride 2 on an even size pads 0 before and 1 after (each spatial axis); with
stride 1 and a 3x3 kernel it pads 1 on both sides. The stride-2 convolutions below pad (0, 1) explicitly
(ONNX: Conv pads [0, 0, 1, 1]).

Weights: each tensor is uint8 in the .bin (in manifest order), dequantized as TF.js does: value = min + q * scale
(float64 arithmetic, stored as float32). Layouts: conv2d filters HWIO -> OIHW, depthwise [3,3,C,1] -> [C,1,3,3],
pointwise [1,1,Cin,Cout] -> [Cout,Cin,1,1]. 356,840 parameters.

THE ONNX CONTRACT (opset 17):
  input  `image`     [1,3,112,112] float32: RGB, channels first, values 0..255 — the face crop exactly as face-api
                     builds it before normalizing: the face box's pixels padded to a square with zeros (face-api
                     centres the image: with d = |width - height|, floor(d/2) columns or rows of zeros before,
                     the rest after), then
                     resized to 112x112 with tf.image.resizeBilinear(alignCorners=false, halfPixelCenters=false).
                     The normalization (x - mean RGB) / 255 happens INSIDE the graph; do not subtract the mean.
  output `landmarks` [1,136] float32: x0, y0, x1, y1, ... of the 68 iBUG points as fractions of the 112x112
                     input square (multiply by the padded square's side to get its pixels; face-api then removes
                     the padding and adds the box's top-left corner).
"""
import argparse
import json
import os
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN_RGB = (122.782, 117.001, 104.298)
MANIFEST = 'face_landmark_68_model-weights_manifest.json'
N_PARAMS = 356840


def read_weights(weights_dir):
    """name -> float32 numpy array in TF.js layout, dequantized as tfjs-core's io.decodeWeights does."""
    with open(os.path.join(weights_dir, MANIFEST)) as f:
        manifest = json.load(f)
    out = {}
    for group in manifest:
        blob = b''.join(open(os.path.join(weights_dir, p), 'rb').read() for p in group['paths'])
        offset = 0
        for w in group['weights']:
            n = int(np.prod(w['shape'])) if w['shape'] else 1
            q = w.get('quantization')
            if q is None:
                if w['dtype'] != 'float32':
                    raise ValueError(f"{w['name']}: unquantized dtype {w['dtype']} not handled")
                vals = np.frombuffer(blob, dtype='<f4', count=n, offset=offset).astype(np.float32)
                offset += 4 * n
            else:
                if q['dtype'] != 'uint8' or 'scale' not in q:
                    raise ValueError(f"{w['name']}: quantization {q} not handled (expected uint8 with min/scale)")
                raw = np.frombuffer(blob, dtype=np.uint8, count=n, offset=offset)
                offset += n
                vals = (q['min'] + raw.astype(np.float64) * q['scale']).astype(np.float32)
            out[w['name']] = vals.reshape(w['shape'])
        if offset != len(blob):
            raise ValueError(f'weights group {group["paths"]}: read {offset} of {len(blob)} bytes')
    return out


class _ConvStride2Same(torch.autograd.Function):
    """A 3x3 stride-2 convolution with TF's 'same' padding on an even size: 0 rows/columns before, 1 after.

    Exported as ONE ONNX Conv with pads [0, 0, 1, 1] (PyTorch's Conv2d cannot pad asymmetrically, and torch.onnx
    turns F.pad into a long chain of shape ops).
    """

    @staticmethod
    def forward(ctx, x, weight, bias, groups):
        if not torch.jit.is_tracing() and (x.shape[-1] % 2 or x.shape[-2] % 2):
            raise ValueError(f'stride-2 TF same padding pads (0, 1) only on even sizes, got {tuple(x.shape)}')
        return F.conv2d(F.pad(x, (0, 1, 0, 1)), weight, bias, stride=2, groups=groups)

    @staticmethod
    def symbolic(g, x, weight, bias, groups):
        args = [x, weight] if bias is None or bias.node().mustBeNone() else [x, weight, bias]
        return g.op('Conv', *args, group_i=groups, strides_i=[2, 2], pads_i=[0, 0, 1, 1], kernel_shape_i=[3, 3],
                    dilations_i=[1, 1])


def conv3x3(x, conv, stride):
    """conv (nn.Conv2d, 3x3, no padding of its own) with TF 'same' padding."""
    if stride == 1:
        return F.conv2d(x, conv.weight, conv.bias, stride=1, padding=1, groups=conv.groups)
    return _ConvStride2Same.apply(x, conv.weight, conv.bias, conv.groups)


class SeparableConv(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.stride = stride
        self.depthwise = nn.Conv2d(cin, cin, 3, stride=stride, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=True)

    def load(self, w, prefix):
        dw = w[f'{prefix}/depthwise_filter']          # [3,3,C,1]
        pw = w[f'{prefix}/pointwise_filter']          # [1,1,Cin,Cout]
        self.depthwise.weight.data = torch.from_numpy(np.ascontiguousarray(dw.transpose(2, 3, 0, 1)))
        self.pointwise.weight.data = torch.from_numpy(np.ascontiguousarray(pw.transpose(3, 2, 0, 1)))
        self.pointwise.bias.data = torch.from_numpy(w[f'{prefix}/bias'].copy())

    def forward(self, x):
        return self.pointwise(conv3x3(x, self.depthwise, self.stride))


class PlainConv(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.stride = stride
        self.conv = nn.Conv2d(cin, cout, 3, stride=stride, bias=True)

    def load(self, w, prefix):
        self.conv.weight.data = torch.from_numpy(np.ascontiguousarray(w[f'{prefix}/filters'].transpose(3, 2, 0, 1)))
        self.conv.bias.data = torch.from_numpy(w[f'{prefix}/bias'].copy())

    def forward(self, x):
        return conv3x3(x, self.conv, self.stride)


class DenseBlock4(nn.Module):
    def __init__(self, cin, cout, first):
        super().__init__()
        self.conv0 = PlainConv(cin, cout, 2) if first else SeparableConv(cin, cout, 2)
        self.conv1 = SeparableConv(cout, cout, 1)
        self.conv2 = SeparableConv(cout, cout, 1)
        self.conv3 = SeparableConv(cout, cout, 1)

    def load(self, w, prefix):
        for k in range(4):
            getattr(self, f'conv{k}').load(w, f'{prefix}/conv{k}')

    def forward(self, x):
        out1 = F.relu(self.conv0(x))
        out2 = self.conv1(out1)
        out3 = self.conv2(F.relu(out1 + out2))
        out4 = self.conv3(F.relu(out1 + (out2 + out3)))
        return F.relu(out1 + (out2 + (out3 + out4)))


class FaceLandmark68Net(nn.Module):
    """face-api.js faceLandmark68Net; input RGB 0..255 NCHW [B,3,112,112], output [B,136] in 0..1 of the square."""

    def __init__(self):
        super().__init__()
        self.register_buffer('mean', torch.tensor(MEAN_RGB, dtype=torch.float32).view(1, 3, 1, 1))
        self.dense0 = DenseBlock4(3, 32, True)
        self.dense1 = DenseBlock4(32, 64, False)
        self.dense2 = DenseBlock4(64, 128, False)
        self.dense3 = DenseBlock4(128, 256, False)
        self.fc = nn.Linear(256, 136)

    def load(self, w):
        for k in range(4):
            getattr(self, f'dense{k}').load(w, f'dense{k}')
        self.fc.weight.data = torch.from_numpy(np.ascontiguousarray(w['fc/weights'].T))
        self.fc.bias.data = torch.from_numpy(w['fc/bias'].copy())
        used = {f'dense{k}/conv{j}/{p}' for k in range(4) for j in range(4)
                for p in (['filters', 'bias'] if k == 0 and j == 0 else ['depthwise_filter', 'pointwise_filter', 'bias'])}
        used |= {'fc/weights', 'fc/bias'}
        if set(w) != used:
            raise ValueError(f'weights do not match the architecture: extra {sorted(set(w) - used)}, missing {sorted(used - set(w))}')
        return self

    def forward(self, image):
        x = (image - self.mean) / 255.0
        x = self.dense3(self.dense2(self.dense1(self.dense0(x))))
        # 'valid': 7x7 -> 1x1 (no padding, so count_include_pad changes nothing; False keeps a no-op Pad out of the ONNX)
        x = F.avg_pool2d(x, 7, stride=2, count_include_pad=False)
        return self.fc(torch.flatten(x, 1))


def check_fixture(net, path):
    """Max |torch - TF.js| over the fixture's cases (the fixture written by models/train/tools/faceapi_tfjs_fixture.mjs)."""
    import base64
    with open(path) as f:
        fx = json.load(f)
    worst = 0.0
    for case in fx['cases']:
        if 'input_uint8_base64' in case:
            hwc = np.frombuffer(base64.b64decode(case['input_uint8_base64']), dtype=np.uint8).reshape(112, 112, 3)
        else:
            y, x, c = np.meshgrid(np.arange(112), np.arange(112), np.arange(3), indexing='ij')
            hwc = synthetic_pattern(x, y, c)
        image = torch.from_numpy(hwc.astype(np.float32).transpose(2, 0, 1)[None].copy())
        with torch.no_grad():
            got = net(image).numpy()[0]
        d = float(np.abs(got - np.array(case['landmarks'], dtype=np.float64)).max())
        print(f"  fixture {case['name']}: max |torch - tfjs| = {d:.3g} of the square ({d * 112:.3g} px of 112)")
        worst = max(worst, d)
    return worst


def synthetic_pattern(x, y, c):
    """The fixture's synthetic input (integers 0..255), same formula as faceapi_tfjs_fixture.mjs and the TS test."""
    return (3 * x + 5 * y + 80 * c + ((x * y * (c + 1)) >> 4)) & 255


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--weights-dir', required=True)
    ap.add_argument('--onnx', required=True)
    ap.add_argument('--check-fixture', help='face-api-68-tfjs.json: compare the torch net with TF.js first')
    a = ap.parse_args()

    torch.set_num_threads(1)
    net = FaceLandmark68Net().load(read_weights(a.weights_dir)).eval()
    n = sum(p.numel() for p in net.parameters())
    if n != N_PARAMS:
        raise SystemExit(f'{n} parameters, expected {N_PARAMS}')
    print(f'faceLandmark68Net: {n} parameters')
    if a.check_fixture:
        worst = check_fixture(net, a.check_fixture)
        if worst > 1e-3:
            raise SystemExit(f'torch differs from TF.js by {worst:.3g}: not converted')

    os.makedirs(os.path.dirname(os.path.abspath(a.onnx)), exist_ok=True)
    dummy = torch.zeros(1, 3, 112, 112)
    warnings.filterwarnings('ignore', category=FutureWarning)      # torch 1.13 on g.op() in symbolic()
    torch.onnx.export(net, (dummy,), a.onnx, input_names=['image'], output_names=['landmarks'], opset_version=17,
                      do_constant_folding=True)
    import onnx
    m = onnx.load(a.onnx)
    onnx.checker.check_model(m)
    m.doc_string = ('face-api.js faceLandmark68Net (@vladmandic/face-api 1.7.15, MIT), converted by '
                    'models/train/convert_faceapi_landmarks.py. image: [1,3,112,112] RGB 0..255 (zero-padded square '
                    'crop, bilinear to 112, normalization inside); landmarks: [1,136] x,y of 68 points in 0..1 of the square.')
    m.producer_name = 'facelive convert_faceapi_landmarks.py'
    onnx.save(m, a.onnx)
    print(f'wrote {a.onnx} ({os.path.getsize(a.onnx)} bytes)')


if __name__ == '__main__':
    main()
