"""Put a trained expression network (train_expression_net.py) into a shipped face model: one ONNX file, one
contract. The model's graph is kept node for node (every other output stays bit for bit what it was); its old
`expression` output and the nodes only it used are dropped; the network's graph is added beside it with its own
input, `expression_image`, and gives the `expression` output. The contract gains that input and `expression_crop`
(how the engine cuts it: its face box, scaled, resampled to `size`).

  /usr/bin/python3 models/train/export_expression.py --model models/facestream-small.onnx \
      --checkpoint models/train/runs/expr-net/checkpoint.pt --out models/facestream-small.onnx --version 1.8.0 \
      --calibrate data/expr320/test --fixtures models/fixtures/facestream-small-parity --crops data/expr320/test
"""
import argparse
import copy
import json
import os
import sys
import tempfile

import numpy as np
import onnx
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_expression_net import ExpressionNet, CROP_SCALE, mirror_permutation  # noqa: E402

CONTRACT_KEY = 'facelive.contract'
INPUT = 'expression_image'
OUTPUT = 'expression'


class WeightsFromCrop(nn.Module):
    """The network's weights, each less its floor (calibrate_floors) and stretched back to 0..1."""

    def __init__(self, net, floors=None, mirror=None):
        """mirror: the left/right permutation of the names (train_expression_net.mirror_permutation): the weights
        are then the mean of the crop's and its mirror image's, the mirror's sides swapped back."""
        super().__init__()
        self.net = net
        n = net.head[-1].out_features
        self.register_buffer('floor', torch.zeros(1, n) if floors is None else torch.tensor(floors, dtype=torch.float32).view(1, n))
        self.mirror = mirror is not None
        self.register_buffer('swap', torch.eye(n)[mirror] if mirror is not None else torch.eye(n))

    def forward(self, image):
        w = torch.sigmoid(self.net(image))
        if self.mirror:
            # one batch of two: the crop and its mirror; swap[i] picks the mirror's twin of shape i
            both = torch.sigmoid(self.net(torch.cat([image, torch.flip(image, [3])], 0)))
            w = 0.5 * (both[0:1] + both[1:2] @ self.swap.t())
        return ((w - self.floor).clamp(min=0) / (1 - self.floor))


def calibrate_floors(pred: np.ndarray, truth: np.ndarray, most=0.2):
    """Per shape, the floor (0 to `most`) under which a weight is read as 0 that gives the least mean absolute error
    on held-out crops: a shape the network is unsure of otherwise hovers above 0 on every frame, which costs more
    error than the all-zero guess and moves on a still face. Capped: a higher floor also hides what a shape does
    read (a blink needs its weight above 0.5 + floor / 2 to count)."""
    grid = np.round(np.arange(0, most + 1e-9, 0.02), 2)
    floors = []
    for k in range(pred.shape[1]):
        errs = [np.abs(np.clip(pred[:, k] - f, 0, None) / (1 - f) - truth[:, k]).mean() for f in grid]
        floors.append(float(grid[int(np.argmin(errs))]))
    return floors


def load_net(path):
    ck = torch.load(path, map_location='cpu', weights_only=False)
    net = ExpressionNet(len(ck['names']), ck['size'])
    net.load_state_dict(ck['model'])
    return net.eval(), ck


def drop_output(model: onnx.ModelProto, name: str) -> None:
    """Removes a graph output and every node that then feeds no output."""
    g = model.graph
    keep_outputs = [o for o in g.output if o.name != name]
    del g.output[:]
    g.output.extend(keep_outputs)
    needed = {o.name for o in g.output}
    kept = []
    for node in reversed(list(g.node)):
        if any(o in needed for o in node.output):
            kept.append(node)
            needed.update(i for i in node.input if i)
    kept.reverse()
    del g.node[:]
    g.node.extend(kept)
    inits = [i for i in g.initializer if i.name in needed]
    del g.initializer[:]
    g.initializer.extend(inits)
    infos = [v for v in g.value_info if v.name in needed]
    del g.value_info[:]
    g.value_info.extend(infos)


def add_graph(model: onnx.ModelProto, part: onnx.ModelProto, prefix: str) -> None:
    """Adds `part`'s graph to `model`'s, its inner names prefixed; its inputs and outputs keep their names."""
    keep = {i.name for i in part.graph.input} | {o.name for o in part.graph.output}
    rename = lambda n: n if (not n or n in keep) else prefix + n  # noqa: E731
    g = model.graph
    for node in part.graph.node:
        n = copy.deepcopy(node)
        n.name = prefix + n.name
        n.input[:] = [rename(i) for i in n.input]
        n.output[:] = [rename(o) for o in n.output]
        g.node.append(n)
    for init in part.graph.initializer:
        i = copy.deepcopy(init)
        i.name = rename(i.name)
        g.initializer.append(i)
    g.input.extend(part.graph.input)
    g.output.extend(part.graph.output)


def export_part(net, size, opset, floors=None, mirror=None):
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, 'expression.onnx')
        torch.onnx.export(WeightsFromCrop(net, floors, mirror).eval(), (torch.rand(1, 3, size, size),), p, input_names=[INPUT], output_names=[OUTPUT],
                          opset_version=opset, do_constant_folding=True)
        return onnx.load(p)


def write_fixtures(net, size, prefix, crops_dir, floors=None, mirror=None):
    """Adds to the model's parity fixture 3 expression crops (centre crops of a held-out render) and the network's
    weights for them; the trunk's arrays stay."""
    import torch.nn.functional as F
    meta = json.load(open(os.path.join(crops_dir, 'meta.json')))
    C = meta['crop_size']
    loose = np.fromfile(os.path.join(crops_dir, 'crops.u8'), np.uint8, count=3 * C * C * 3).reshape(3, C, C, 3)
    img = torch.from_numpy(loose).permute(0, 3, 1, 2).float() / 255.0
    side = CROP_SCALE / meta['loose_scale']
    theta = torch.tensor([[[side, 0.0, 0.0], [0.0, side, 0.0]]] * 3)
    x = F.grid_sample(img, F.affine_grid(theta, (3, 3, size, size), align_corners=False), mode='bilinear', align_corners=False)
    images = (x.clamp(0, 1) * 255).round().to(torch.uint8)                       # what the fixture stores
    with torch.no_grad():
        reader = WeightsFromCrop(net, floors, mirror).eval()
        w = np.concatenate([reader(images[k:k + 1].float() / 255.0).numpy() for k in range(len(images))]).astype(np.float32)
    index = json.load(open(prefix + '.json'))
    blob = open(prefix + '.bin', 'rb').read()
    arrays = {k: np.frombuffer(blob[e['offset']:e['offset'] + e['bytes']], dtype=e['dtype']).reshape(e['shape'])
              for k, e in index['arrays'].items() if k not in ('expression', 'expression_images')}
    arrays['expression_images'] = images.permute(0, 2, 3, 1).numpy()              # [3,E,E,3] uint8
    arrays['expression'] = w
    out, blobs, offset = {}, [], 0
    for k, a in arrays.items():
        b = np.ascontiguousarray(a).tobytes()
        out[k] = {'dtype': str(a.dtype), 'shape': list(a.shape), 'offset': offset, 'bytes': len(b)}
        blobs.append(b)
        offset += len(b)
    open(prefix + '.bin', 'wb').write(b''.join(blobs))
    json.dump({'description': index['description'] + '; expression_images: the expression network\'s crops, expression: its weights',
               'arrays': out}, open(prefix + '.json', 'w'), indent=1)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--model', required=True, help='the shipped .onnx whose trunk is kept')
    p.add_argument('--checkpoint', required=True, help='train_expression_net.py checkpoint.pt')
    p.add_argument('--out', required=True)
    p.add_argument('--version', required=True)
    p.add_argument('--training-note', default='{}', help='JSON merged into the contract\'s training.expression entry')
    p.add_argument('--fixtures', help='the model\'s parity fixture prefix: its expression arrays are rewritten')
    p.add_argument('--crops', help='expressionCrops.ts folder for the fixture\'s crops')
    p.add_argument('--mirror-average', action='store_true', help='read the crop and its mirror image and average (sides swapped back)')
    p.add_argument('--max-floor', type=float, default=0.2, help='--calibrate: the highest floor a shape may get')
    p.add_argument('--calibrate', help='expressionCrops.ts folder of held-out crops to choose each shape\'s floor on (none: no floors)')
    a = p.parse_args(argv)
    model = onnx.load(a.model)
    meta = {e.key: e.value for e in model.metadata_props}
    contract = json.loads(meta[CONTRACT_KEY])
    net, ck = load_net(a.checkpoint)
    names, size = ck['names'], ck['size']
    if contract.get('expression_names') not in (None, names):
        raise SystemExit('the network\'s expression names differ from the model\'s')
    # the old expression reader goes: phase 12's branch, or an earlier expression network with its input
    if any(o.name == OUTPUT for o in model.graph.output):
        drop_output(model, OUTPUT)
    kept_inputs = [i for i in model.graph.input if i.name != INPUT]
    del model.graph.input[:]
    model.graph.input.extend(kept_inputs)
    floors = None
    mirror = mirror_permutation(names) if a.mirror_average else None
    if a.calibrate:
        from train_expression_net import Frames, crops
        held = Frames([a.calibrate])
        reader = WeightsFromCrop(net, None, mirror).eval()
        with torch.no_grad():
            pred = np.concatenate([reader(crops(held, np.array([i]), None)[0]).numpy() for i in range(len(held))])
        floors = calibrate_floors(pred, held.weights, a.max_floor)
        print('floors: ' + ', '.join(f'{n} {f:.2f}' for n, f in zip(names, floors) if f > 0))
    opset = next(o.version for o in model.opset_import if o.domain in ('', 'ai.onnx'))
    add_graph(model, export_part(net, size, opset, floors, mirror), 'expression_net/')
    contract['version'] = a.version
    contract['inputs'][INPUT] = {'shape': [1, 3, size, size], 'dtype': 'float32',
                                 'meaning': 'RGB crop for the expression network, channels first, values 0..1: see expression_crop'}
    contract['outputs'][OUTPUT] = {'shape': [1, len(names)], 'dtype': 'float32',
                                   'meaning': 'blendshape weights 0..1 of this frame in expression_names order (facekit\'s), read from expression_image'}
    contract['expression_names'] = list(names)
    contract['expression_crop'] = {'size': size, 'scale': ck['crop_scale'],
                                   'meaning': 'expression_image is the engine\'s face box (the image crop\'s box) with its side times scale, same centre and angle, resampled to size'}
    contract.setdefault('training', {})['expression'] = {'network': 'ExpressionNet (models/train/train_expression_net.py)', 'steps': ck['step'],
                                                         'minutes': round(ck['seconds'] / 60, 1), 'test': ck.get('score'),
                                                         'mirror_average': bool(mirror), **({'floors': dict(zip(names, floors))} if floors else {}),
                                                         **json.loads(a.training_note)}
    contract['architecture'] = {**contract.get('architecture', {}), 'expressions': 0}   # the trunk's branch is gone
    for e in model.metadata_props:
        if e.key == CONTRACT_KEY:
            e.value = json.dumps(contract)
    onnx.checker.check_model(model)
    onnx.save(model, a.out)
    print(f'wrote {a.out} ({os.path.getsize(a.out) / 1e6:.1f} MB)')
    if a.fixtures:
        if not a.crops:
            p.error('--fixtures needs --crops')
        write_fixtures(net, size, a.fixtures, a.crops, floors, mirror)
        print(f'wrote {a.fixtures}.json/.bin')


if __name__ == '__main__':
    main()
