"""Where the attention goes on a static clip and on a moving one: the mass per window slot (oldest first, current
last) at the last of 8 steps, averaged over heads and tokens (pixels), for each transformer layer and each
window-fused decoder stage. Even mass means the features are averaged over the window.

  /usr/bin/python3 models/train/analysis/window_attention.py models/facestream-small.onnx data/synth128/val
"""
import math
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import numpy as np  # noqa: E402
import torch  # noqa: E402

from facelive_model.data import SynthSequences, static_clip, to_tensors  # noqa: E402
from facelive_model.onnx_import import load_onnx_weights  # noqa: E402


def slot_mass(blk, x, cache_k, bias):
    """The attention of Block.step, summed over the keys of each slot."""
    b, n, c = x.shape
    w1 = cache_k.shape[1]
    q, k, _ = blk.qkv(blk.norm1(x)).chunk(3, dim=-1)
    ages = blk.age[1:w1 + 1].flip(0)
    keys = torch.cat([cache_k + ages[None, :, None, :], (k + blk.age[0])[:, None]], dim=1)
    keys = blk._split(keys.reshape(b, (w1 + 1) * n, c))
    logits = blk._split(q) @ keys.transpose(-1, -2) / math.sqrt(c // blk.heads)
    key_bias = torch.cat([bias, torch.zeros_like(bias[:, :1])], 1)[:, :, None].expand(b, w1 + 1, n).reshape(b, 1, 1, -1)
    attn = torch.softmax(logits + key_bias, -1).reshape(b, blk.heads, n, w1 + 1, n).sum(-1)
    return attn.mean((0, 1, 2)).numpy()


def masses_of(net, cfg, seqs, static, clips, rng):
    masses = []
    for i in range(clips):
        clip = to_tensors(seqs, i % len(seqs.seqs), 0, cfg.window)
        img, focal, segment, depth, canon, mask = static_clip(*clip, rng) if static else clip
        cache, valid = net.empty_cache()
        last = {}
        with torch.no_grad():
            for t in range(cfg.window):
                tokens, _ = net.encode(img[t:t + 1], focal[t:t + 1])
                bias = (1.0 - valid) * -1.0e4
                for li, blk in enumerate(net.blocks):
                    if t == cfg.window - 1:
                        last[li] = slot_mass(blk, tokens, cache[li, 0], bias)
                    tokens, _, _ = blk.step(tokens, cache[li, 0], cache[li, 1], bias)
                _, cache, valid = net.forward_step(img[t:t + 1], focal[t:t + 1], cache, valid)
        masses.append([last[li] for li in sorted(last)] + [f.mass.numpy() for f in net.fuse])
    return np.mean(np.array(masses), 0)


def main(model_path, val_dir, clips=4):
    torch.set_num_threads(1)
    net, cfg, _ = load_onnx_weights(model_path)
    for f in net.fuse:
        f.record = True
    seqs = SynthSequences([val_dir])
    rng = random.Random(3)
    names = [f'layer {i}' for i in range(cfg.layers)] + [f'decoder 1/{2 ** (3 - i)}' for i in range(cfg.fuse)]
    for static in (True, False):
        print('static clips (one frame, fresh noise per copy)' if static else 'moving clips (the sequences as rendered)')
        for name, m in zip(names, masses_of(net, cfg, seqs, static, clips, rng)):
            print(f'  {name}: attention mass per slot, oldest → current: {" ".join(f"{x:.3f}" for x in m)}')


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
