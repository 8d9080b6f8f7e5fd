"""For `npm run bench -- model-batch` only: the face model's streaming step exported once more from its checkpoint, with
a dynamic batch axis (image, focal_px, cache_valid: axis 0; cache and cache_out: axis 2), to a file the bench
deletes, and the torch step timed at each batch size. The shipped model keeps its fixed batch of 1.

  /usr/bin/python3 bench/batch/export_dynamic_batch.py --checkpoint CK --out FILE.onnx [--batches 1,2,4,8]
Prints one JSON line: torch's ms per step at each batch size and thread count, and GFLOP per sample.
"""
import argparse
import json
import os
import sys
import time
import warnings

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'models', 'train'))
from export_onnx import EXPRESSION_OUTPUT, INPUTS, OUTPUTS, StreamingStep, load_checkpoint  # noqa: E402

BATCH_AXES = {'image': 0, 'focal_px': 0, 'cache': 2, 'cache_valid': 0, 'depth': 0, 'canonical': 0, 'confidence': 0,
              'parts': 0, 'cache_out': 2, 'cache_valid_out': 0, EXPRESSION_OUTPUT: 0}


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--checkpoint', required=True)
    p.add_argument('--out', required=True)
    p.add_argument('--batches', default='1,2,4,8')
    a = p.parse_args()
    warnings.filterwarnings('ignore')
    net, cfg, _ = load_checkpoint(a.checkpoint)
    step = StreamingStep(net).eval()
    names = OUTPUTS + ([EXPRESSION_OUTPUT] if cfg.expressions else [])
    cache, valid = net.empty_cache(2)
    args = (torch.rand(2, 3, cfg.size, cfg.size), torch.tensor([150.0, 160.0]), cache, valid)
    torch.onnx.export(step, args, a.out, input_names=INPUTS, output_names=names, opset_version=17, do_constant_folding=True,
                      dynamic_axes={k: {v: 'batch'} for k, v in BATCH_AXES.items() if k in INPUTS + names})
    from torch.profiler import ProfilerActivity, profile
    cache, valid = net.empty_cache(1)
    valid[:] = 1
    with torch.no_grad(), profile(activities=[ProfilerActivity.CPU], with_flops=True) as prof:
        step(torch.rand(1, 3, cfg.size, cfg.size), torch.tensor([150.0]), cache, valid)
    gflop = sum(e.flops for e in prof.key_averages() if e.flops) / 1e9

    timings = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for b in [int(x) for x in a.batches.split(',')]:
            cache, valid = net.empty_cache(b)
            valid[:] = 1
            img, focal = torch.rand(b, 3, cfg.size, cfg.size), torch.full((b,), 150.0)
            with torch.no_grad():
                for _ in range(3):
                    step(img, focal, cache, valid)
                runs = []
                for _ in range(5):
                    n = max(2, 16 // b)
                    t0 = time.perf_counter()
                    for _ in range(n):
                        step(img, focal, cache, valid)
                    runs.append((time.perf_counter() - t0) / n * 1000)
            runs.sort()
            timings.append({'threads': threads, 'batch': b, 'msPerStep': round(runs[2], 2), 'msPerSample': round(runs[2] / b, 2)})
    print(json.dumps({'torch': torch.__version__, 'gflopPerSample': round(gflop, 3),
                      'cacheMBPerSession': round(net.empty_cache(1)[0].numel() * 4 / 1e6, 2), 'timings': timings}))


if __name__ == '__main__':
    main()
