"""Weights imported from an exported ONNX file export again to the same tensors, bit for bit.

  /usr/bin/python3 models/train/tests/check_onnx_import.py models/facestream-small.onnx
Prints one JSON line: {"tensors": n, "max_abs_diff": d}.
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import numpy_helper  # noqa: E402

from export_onnx import export  # noqa: E402
from facelive_model.onnx_import import load_onnx_weights  # noqa: E402


def tensors(path):
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}


def main(path):
    net, cfg, meta = load_onnx_weights(path)
    with tempfile.TemporaryDirectory() as d:
        again = os.path.join(d, 'again.onnx')
        export(net, cfg, again, meta)
        a, b = tensors(again), tensors(path)
    if set(a) != set(b):
        sys.exit(f'tensor names differ: {sorted(set(a) ^ set(b))[:6]}')
    print(json.dumps({'tensors': len(b), 'max_abs_diff': max(float(np.abs(a[k] - b[k]).max()) for k in b)}))


if __name__ == '__main__':
    main(sys.argv[1])
