"""Streaming W steps with the cache (keys/values and the fused decoder features) equals one joint pass over the same frames (and a cut resets the
window in both). Prints one JSON line; exits 1 when the paths disagree by more than the tolerance."""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from facelive_model.model import CONFIGS, FaceStreamNet  # noqa: E402

TOLERANCE = 2e-4


def compare(name, frames, cut_at=None, seed=0):
    torch.manual_seed(seed)
    cfg = CONFIGS[name]
    net = FaceStreamNet(cfg).eval()
    # non-trivial weights everywhere, BatchNorm statistics included
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    images = torch.rand(1, frames, 3, cfg.size, cfg.size)
    focal = torch.full((1, frames), cfg.size * 1.3)
    segment = torch.zeros(1, frames, dtype=torch.long)
    if cut_at is not None:
        segment[:, cut_at:] = 1
    with torch.no_grad():
        joint = net.forward_clip(images, focal, segment)
        cache, valid = net.empty_cache()
        worst = 0.0
        for t in range(frames):
            if cut_at is not None and t == cut_at:
                valid = torch.zeros_like(valid)
            if t == frames - 1:
                before, before_valid = cache, valid
            out, cache, valid = net.forward_step(images[:, t], focal[:, t], cache, valid)
            for k in out:
                worst = max(worst, float((out[k][0] - joint[k][t]).abs().max()))
        # the window matters: with the cache disabled the outputs change
        cache2, valid2 = net.empty_cache()
        lone, _, _ = net.forward_step(images[:, frames - 1], focal[:, frames - 1], cache2, valid2)
        effect = float((lone['canonical'][0] - joint['canonical'][frames - 1]).abs().max())
        # the fused decoder stages read their part of the cache: blanking it (keys and values kept) changes the output
        blanked = before.clone()
        blanked[cfg.layers:] = 0
        kept, _, _ = net.forward_step(images[:, frames - 1], focal[:, frames - 1], before, before_valid)
        lost, _, _ = net.forward_step(images[:, frames - 1], focal[:, frames - 1], blanked, before_valid)
        fuse_effect = float((kept['canonical'] - lost['canonical']).abs().max())
    return {'config': name, 'frames': frames, 'cut_at': cut_at, 'max_abs_diff': worst, 'window_effect': effect,
            'fuse_effect': fuse_effect}


if __name__ == '__main__':
    rows = [compare('small', 8), compare('small', 12), compare('small', 8, cut_at=5), compare('tiny', 6, cut_at=2),
            # the expression branch with a stem of its own: its output too is the same on both paths
            compare('small-expr-stem', 8)]
    # the cache must matter: dropping it changes the output far more than the two paths differ
    ok = all(r['max_abs_diff'] < TOLERANCE for r in rows) and all(
        min(r['window_effect'], r['fuse_effect']) > 20 * max(r['max_abs_diff'], 1e-7) for r in rows if r['cut_at'] is None)
    print(json.dumps({'ok': ok, 'tolerance': TOLERANCE, 'rows': rows}))
    sys.exit(0 if ok else 1)
