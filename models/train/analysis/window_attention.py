"""Where the attention goes on a static clip and on a moving one: the mass per window slot (oldest first, current
last) at the last of 8 steps, averaged over heads and tokens (pixels), for each transformer layer and each
window-fused decoder stage (the 1/2 stage's blend weights a_s). Even mass means the features are averaged over the
window.

  /usr/bin/python3 models/train/analysis/window_attention.py models/facestream-small.onnx data/synth128/val
"""
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import numpy as np  # noqa: E402
import torch  # noqa: E402

from facelive_model.data import SynthSequences, static_clip, to_tensors  # noqa: E402
from facelive_model.onnx_import import load_onnx_weights  # noqa: E402


def masses_of(net, cfg, seqs, static, clips, rng):
    masses = []
    for i in range(clips):
        clip = to_tensors(seqs, i % len(seqs.seqs), 0, cfg.window)
        img, focal, segment, depth, canon, mask = static_clip(*clip, rng) if static else clip
        cache, valid = net.empty_cache()
        with torch.no_grad():
            for t in range(cfg.window):
                _, cache, valid = net.forward_step(img[t:t + 1], focal[t:t + 1], cache, valid)
        # each module kept the attention of its last step, the window's last frame
        masses.append([m.mass.numpy() for m in [*net.blocks, *net.fuse]])
    return np.mean(np.array(masses), 0)


def main(model_path, val_dir, clips=4):
    torch.set_num_threads(1)
    net, cfg, _ = load_onnx_weights(model_path)
    for m in [*net.blocks, *net.fuse]:
        m.record = True
    seqs = SynthSequences([val_dir])
    rng = random.Random(3)
    names = [f'layer {i}' for i in range(cfg.layers)] + [f'decoder 1/{2 ** (3 - i)}' for i in range(cfg.fuse)]
    for static in (True, False):
        print('static clips (one frame, fresh noise per copy)' if static else 'moving clips (the sequences as rendered)')
        for name, m in zip(names, masses_of(net, cfg, seqs, static, clips, rng)):
            print(f'  {name}: attention mass per slot, oldest → current: {" ".join(f"{x:.3f}" for x in m)}')


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
