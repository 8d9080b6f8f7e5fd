"""FaceStreamNet weights back out of an exported ONNX file, so that training can go on from a shipped model when
its checkpoint is gone (checkpoints are never committed; the ONNX file is).

The export folds each BatchNorm into the convolution before it and renames or transposes some tensors, so the
names alone do not say which tensor is which. A probe finds out: a model of the same architecture with a distinct
random value in every parameter, and every BatchNorm the identity, is exported by the same code, and each of its
ONNX tensors is matched by value to the parameter (or the transform of it) that produced it. The shipped file's
tensors carry the same names, so they go back into those parameters by the inverse transform. A folded
convolution comes back as its folded weight, with its BatchNorm set to the identity plus the folded bias: exact in
evaluation mode, and training must keep those BatchNorms frozen (train.py does: `frozen_bn` in the checkpoint).
"""
import json
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn

from .model import FaceStreamNet, ModelConfig


def contract_of(onnx_model) -> dict:
    for p in onnx_model.metadata_props:
        if p.key == 'facelive.contract':
            return json.loads(p.value)
    raise ValueError('not a facelive model: no facelive.contract metadata')


def _identity_bn(net: nn.Module) -> list:
    """Every BatchNorm of `net` set to the identity in evaluation mode; returns (conv, bn) pairs in order."""
    pairs = []
    for m in net.modules():
        if isinstance(m, nn.Sequential):
            layers = list(m)
            for a, b in zip(layers, layers[1:]):
                if isinstance(a, nn.Conv2d) and isinstance(b, nn.BatchNorm2d):
                    pairs.append((a, b))
    for _, bn in pairs:
        bn.weight.data.fill_(1.0)
        bn.bias.data.zero_()
        bn.running_mean.zero_()
        bn.running_var.fill_(1.0 - bn.eps)   # sqrt(var + eps) = 1
    return pairs


def _tensors(model) -> dict:
    from onnx import numpy_helper
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


def load_onnx_weights(path: str):
    """(net, cfg, contract): a FaceStreamNet holding the ONNX file's weights, BatchNorms frozen as described."""
    import onnx
    from export_onnx import export  # the same export code that made the file (models/train is on sys.path)

    shipped = onnx.load(path)
    meta = contract_of(shipped)
    arch = meta['architecture']
    cfg = ModelConfig(**{**arch, 'widths': tuple(arch['widths'])})

    probe = FaceStreamNet(cfg).eval()
    gen = torch.Generator().manual_seed(12345)
    bn_params = set()
    pairs = _identity_bn(probe)
    for _, bn in pairs:
        bn_params |= {id(bn.weight), id(bn.bias)}
    params = [(n, p) for n, p in probe.named_parameters() if id(p) not in bn_params]
    with torch.no_grad():
        for _, p in params:
            # distinct values in 0.5..1.5: no two parameters (or transforms of them) can match by accident
            p.copy_(torch.rand(p.shape, generator=gen) + 0.5)
        for _, bn in pairs:
            # distinct folded biases too (the export merges tensors of equal value, all-zero biases among them)
            bn.bias.copy_(torch.rand(bn.bias.shape, generator=gen) + 0.5)
    with tempfile.TemporaryDirectory() as tmp:
        probe_path = os.path.join(tmp, 'probe.onnx')
        export(probe, cfg, probe_path, meta)
        probe_model = onnx.load(probe_path)
    found = _tensors(probe_model)
    weights = _tensors(shipped)
    if set(found) != set(weights):
        raise ValueError(f'{path} was not exported by this export code (tensor names differ: '
                         f'{sorted(set(found) ^ set(weights))[:6]} ...)')

    net = FaceStreamNet(cfg).eval()
    net_pairs = _identity_bn(net)
    state = dict(net.named_parameters())
    assigned = set()

    def take(arr: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.array(arr, dtype=np.float32, copy=True))

    # parameters: the same values, transposed (Linear weights become MatMul operands), with unit axes, or rows of the age
    # embedding (the step graph folds them, flipped, into constants: _import_age)
    for name, p in params:
        value = p.detach().numpy()
        for tname, arr in found.items():
            if tname in assigned:
                continue
            if arr.shape == value.shape and np.array_equal(arr, value):
                state[name].data.copy_(take(weights[tname]))
                assigned.add(tname)
                break
            if value.ndim == 2 and arr.shape == value.T.shape and np.array_equal(arr, value.T):
                state[name].data.copy_(take(weights[tname].T))
                assigned.add(tname)
                break
            # unit axes added for broadcasting (a PReLU's slopes [C] become [C,1,1])
            if arr.shape != value.shape and arr.size == value.size and np.squeeze(arr).shape == np.squeeze(value).shape \
                    and np.array_equal(arr.reshape(value.shape), value):
                state[name].data.copy_(take(weights[tname].reshape(value.shape)))
                assigned.add(tname)
                break
        else:
            if name.endswith('.age'):
                _import_age(name, value, found, weights, state, assigned)
                continue
            raise ValueError(f'{name}: no tensor of the exported graph holds it')

    # folded convolutions: the probe's conv weight is its own (identity BatchNorm), the folded bias is the
    # Conv node's third input
    conv_inputs = {n.input[1]: (n.input[2] if len(n.input) > 2 else None) for n in probe_model.graph.node if n.op_type == 'Conv'}
    for (pc, _), (nc, nbn) in zip(pairs, net_pairs):
        value = pc.weight.detach().numpy()
        match = [t for t, arr in found.items() if t in conv_inputs and arr.shape == value.shape and np.array_equal(arr, value)]
        if len(match) != 1:
            raise ValueError(f'a folded convolution of shape {value.shape}: {len(match)} matches')
        nc.weight.data.copy_(take(weights[match[0]]))
        bias = conv_inputs[match[0]]
        if bias is not None:
            nbn.bias.data.copy_(take(weights[bias]))
            assigned.add(bias)
        assigned.add(match[0])
    # the expression network (export_expression.py) is a graph of its own beside the trunk's: not the trunk's to import
    unused = [t for t in weights if t not in assigned and t != 'center' and not t.startswith('expression_net/')]
    if unused:
        raise ValueError(f'{path}: tensors not placed in the model: {unused[:6]}')
    return net, cfg, meta


def _import_age(name, value, found, weights, state, assigned):
    """age [W,C]: the step graphs hold age[0] ([C] in a Block's, [1,C] in a PixelWindowAttention's) and age[1:W]
    ([W-1,C], flipped by a Slice at run time, or already flipped by constant folding) as separate constants."""
    first = [t for t, a in found.items() if a.size == value[0].size and np.array_equal(a.ravel(), value[0])]
    rest = [(t, False) for t, a in found.items() if a.shape == value[1:].shape and np.array_equal(a, value[1:])]
    rest += [(t, True) for t, a in found.items() if a.shape == value[1:].shape and np.array_equal(a, value[1:][::-1])]
    if len(first) != 1 or len(rest) != 1:
        raise ValueError(f'{name}: age rows not found in the exported graph ({len(first)}, {len(rest)} matches)')
    (tail, flipped), = rest
    rows = weights[tail][::-1] if flipped else weights[tail]
    age = np.concatenate([weights[first[0]].reshape(1, -1), rows], 0)
    state[name].data.copy_(torch.from_numpy(np.array(age, dtype=np.float32, copy=True)))
    assigned.update([first[0], tail])


def freeze_batchnorm(net: nn.Module) -> None:
    """Keep BatchNorms in evaluation mode (fixed statistics) while the rest trains: weights from ONNX need it."""
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()
