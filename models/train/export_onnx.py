"""Export a trained FaceStreamNet checkpoint to ONNX (one streaming step, metric outputs) with its contract in
the model's metadata, and optionally write parity fixtures (inputs and torch outputs) for the Node test.

  /usr/bin/python3 models/train/export_onnx.py --checkpoint models/train/runs/small/checkpoint.pt \
      --out models/facestream-small.onnx [--fixtures models/fixtures/facestream-small-parity --frames DIR/seq_0000]
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from facelive_model.data import CANON_CENTER, CANON_HALF, read_png_folder  # noqa: E402
from facelive_model.model import FaceStreamNet, ModelConfig  # noqa: E402

CONTRACT_FORMAT = 'facelive-model-1'
PART_NAMES = ['background', 'face_skin', 'head_skin', 'eye', 'mouth_interior', 'teeth', 'hair', 'occluder']
INPUTS = ['image', 'focal_px', 'cache', 'cache_valid']
OUTPUTS = ['depth', 'canonical', 'confidence', 'parts', 'cache_out', 'cache_valid_out']
# a model with the expression branch (ModelConfig.expressions) has one more output, after these
EXPRESSION_OUTPUT = 'expression'


def metric_depth(log_depth, focal_px):
    """Metres from the network's log(depth * 1000 / focal): the contract's `depth` output. focal_px [B], one per map."""
    return torch.exp(log_depth) * focal_px.view(-1, 1, 1, 1) / 1000.0


class StreamingStep(nn.Module):
    """The exported graph: one frame in, metric maps and the next cache out."""

    def __init__(self, net: FaceStreamNet):
        super().__init__()
        self.net = net
        self.register_buffer('center', torch.tensor(CANON_CENTER).view(1, 3, 1, 1))

    def forward(self, image, focal_px, cache, cache_valid):
        out, new_cache, new_valid = self.net.forward_step(image, focal_px, cache, cache_valid)
        depth = metric_depth(out['log_depth'], focal_px)
        canonical = out['canonical'] * CANON_HALF + self.center
        confidence = 1.0 + torch.exp(out['conf_raw'].clamp(max=8.0))
        if 'expression_logits' in out:
            return depth, canonical, confidence, out['parts'], new_cache, new_valid, torch.sigmoid(out['expression_logits'])
        return depth, canonical, confidence, out['parts'], new_cache, new_valid


def contract(cfg: ModelConfig, name: str, version: str, training: dict, expression_names=None) -> dict:
    """`expression_names`: the `expression` output's order (facekit's, as the training data named them)."""
    if cfg.expressions and (not expression_names or len(expression_names) != cfg.expressions):
        raise SystemExit(f'a model with {cfg.expressions} expressions needs their names (the checkpoint\'s expression_names)')
    s, w1, K, N, C, P = cfg.size, cfg.window - 1, cfg.cache_layers, cfg.tokens, cfg.dim, cfg.parts
    return {
        'format': CONTRACT_FORMAT,
        'name': name,
        'version': version,
        'crop_size': s,
        'window': cfg.window,
        'architecture': cfg.to_json(),
        'canonical_normalization': {'centerM': [float(x) for x in CANON_CENTER], 'halfExtentM': CANON_HALF},
        'part_names': PART_NAMES,
        'inputs': {
            'image': {'shape': [1, 3, s, s], 'dtype': 'float32', 'meaning': 'RGB crop, channels first, values 0..1'},
            'focal_px': {'shape': [1], 'dtype': 'float32', 'meaning': "the crop's focal length in crop pixels (frame fx * crop_size / crop side in frame pixels)"},
            'cache': {'shape': [K, 2, 1, w1, N, C], 'dtype': 'float32', 'meaning': 'state of the previous window-1 frames, oldest first, opaque to the caller; zeros when empty. Slots 0..layers-1: keys and values of each transformer layer; the rest: what the fused decoder stages cache (keys and values at 1/8 and 1/4, features at 1/2), packed'},
            'cache_valid': {'shape': [1, w1], 'dtype': 'float32', 'meaning': '1 for cache slots holding a frame of the current shot, 0 for empty ones; all 0 after a cut or a lost face'},
        },
        'outputs': {
            'depth': {'shape': [1, 1, s, s], 'dtype': 'float32', 'meaning': 'metres along the camera z axis, for every crop pixel (use the parts mask)'},
            'canonical': {'shape': [1, 3, s, s], 'dtype': 'float32', 'meaning': 'canonical coordinates, metres, template frame (shared/canonical.ts)'},
            'confidence': {'shape': [1, 1, s, s], 'dtype': 'float32', 'meaning': 'confidence of the canonical map, >= 1, higher is better'},
            'parts': {'shape': [1, P, s, s], 'dtype': 'float32', 'meaning': 'part logits in part_names order (argmax gives the mask)'},
            'cache_out': {'shape': [K, 2, 1, w1, N, C], 'dtype': 'float32', 'meaning': 'the cache to pass with the next frame'},
            'cache_valid_out': {'shape': [1, w1], 'dtype': 'float32', 'meaning': 'cache_valid for the next frame'},
            **({EXPRESSION_OUTPUT: {'shape': [1, cfg.expressions], 'dtype': 'float32', 'meaning': 'blendshape weights 0..1 of this frame in expression_names order (facekit\'s)'}} if cfg.expressions else {}),
        },
        **({'expression_names': list(expression_names)} if cfg.expressions else {}),
        'training': training,
        'licence': 'MIT (trained only on renders of ICT-FaceKit Light, MIT, by this project)' if cfg.encoder != 'facemesh' else
                   'MIT for what this project trained (only on renders of ICT-FaceKit Light, MIT); its encoder started from MediaPipe Face Mesh\'s weights (Google, Apache-2.0: the notice in models/third_party/mediapipe-facemesh travels with this file)',
    }


def load_checkpoint(path):
    ck = torch.load(path, map_location='cpu')
    cfg = ModelConfig(**{**ck['config'], 'widths': tuple(ck['config']['widths'])})
    net = FaceStreamNet(cfg)
    net.load_state_dict(ck['model'])
    net.eval()
    return net, cfg, ck


def export(net, cfg, path, meta: dict):
    import onnx
    step = StreamingStep(net).eval()
    cache, valid = net.empty_cache()
    args = (torch.rand(1, 3, cfg.size, cfg.size), torch.tensor([cfg.size * 1.2]), cache, valid)
    outputs = OUTPUTS + ([EXPRESSION_OUTPUT] if cfg.expressions else [])
    torch.onnx.export(step, args, path, input_names=INPUTS, output_names=outputs, opset_version=17, do_constant_folding=True)
    model = onnx.load(path)
    entry = model.metadata_props.add()
    entry.key = 'facelive.contract'
    entry.value = json.dumps(meta)
    model.producer_name = 'facelive'
    onnx.checker.check_model(model)
    onnx.save(model, path)


def write_fixtures(net, cfg, prefix, frames_dir):
    """3 frames of a synth sequence through the torch step: inputs in full, outputs on a 4-pixel grid."""
    cam = json.load(open(os.path.join(frames_dir, 'camera.json')))
    rgb = read_png_folder(os.path.join(frames_dir, 'rgb'), 3)                 # [3,H,W,3] uint8
    if rgb.shape[1] != cfg.size:
        raise SystemExit(f'fixture frames are {rgb.shape[1]}px, the model wants {cfg.size}px')
    step = StreamingStep(net).eval()
    cache, valid = net.empty_cache()
    focal = torch.tensor([float(cam['fx'])])
    arrays = {'images': rgb.astype(np.uint8), 'focal_px': np.array([cam['fx']], np.float32)}
    outs = {k: [] for k in ['depth', 'canonical', 'confidence', 'parts']}
    expressions = []
    with torch.no_grad():
        for f in range(3):
            img = torch.from_numpy(rgb[f]).permute(2, 0, 1)[None].float() / 255.0
            d, c, conf, parts, cache, valid, *expression = step(img, focal, cache, valid)
            for k, v in zip(outs, (d, c, conf, parts)):
                outs[k].append(v[0, :, ::4, ::4].numpy())
            expressions += [e[0].numpy() for e in expression]
    for k, v in outs.items():
        arrays[f'{k}_grid4'] = np.stack(v).astype(np.float32)
    if expressions:
        arrays['expression'] = np.stack(expressions).astype(np.float32)
    arrays['cache_out_sample'] = cache[:, :, :, -3:, ::8, ::8].numpy().astype(np.float32)
    arrays['cache_valid_out'] = valid.numpy().astype(np.float32)
    index, blobs, offset = {}, [], 0
    for k, a in arrays.items():
        b = np.ascontiguousarray(a).tobytes()
        index[k] = {'dtype': {'uint8': 'uint8', 'float32': 'float32'}[str(a.dtype)], 'shape': list(a.shape), 'offset': offset, 'bytes': len(b)}
        blobs.append(b)
        offset += len(b)
    os.makedirs(os.path.dirname(prefix) or '.', exist_ok=True)
    with open(prefix + '.bin', 'wb') as fh:
        fh.write(b''.join(blobs))
    with open(prefix + '.json', 'w') as fh:
        json.dump({'description': 'inputs and torch outputs of 3 streaming steps; outputs on every 4th pixel', 'arrays': index}, fh, indent=1)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--checkpoint', required=True)
    p.add_argument('--out', required=True, help='.onnx path')
    p.add_argument('--name', default=None)
    p.add_argument('--version', default='1.0.0')
    p.add_argument('--training-note', default='{}', help='JSON merged into the contract\'s "training" entry')
    p.add_argument('--fixtures', default=None, help='path prefix for parity fixtures (.json + .bin)')
    p.add_argument('--frames', default=None, help='a facelive synth sequence folder for the fixtures')
    a = p.parse_args(argv)
    net, cfg, ck = load_checkpoint(a.checkpoint)
    name = a.name or os.path.splitext(os.path.basename(a.out))[0]
    training = {'steps': ck['step'], 'minutes': round(ck['seconds'] / 60, 1), 'earlier_phases': ck.get('earlier', []),
                **json.loads(a.training_note)}
    export(net, cfg, a.out, contract(cfg, name, a.version, training, ck.get('expression_names')))
    print(f'wrote {a.out} ({os.path.getsize(a.out) / 1e6:.1f} MB)')
    if a.fixtures:
        if not a.frames:
            p.error('--fixtures needs --frames')
        write_fixtures(net, cfg, a.fixtures, a.frames)
        print(f'wrote {a.fixtures}.json/.bin')


if __name__ == '__main__':
    main()
