"""Can the decoder's 1/2 blend tell motion from sensor noise, and how sharp must its distance term be to do it?

1. Motion cue: on val clips (moving as rendered, and one frame held still with fresh noise per copy), how well the
   squared difference between a pixel's features now and s frames before separates pixels whose true canonical
   coordinate moved more than 2 mm from pixels that moved less than 0.5 mm (area under the ROC curve; 0.5 = no
   signal). For the features entering each window-fused decoder stage and for the image itself, box-filtered.
2. Sharpness: the blend as the plain weighted window mean (mix = identity) with its keys K scaled by each factor
   (distances |K(x_s - x)|^2 grow with its square): static-head jitter on val frames, window 8 over window 1 (the
   bench's measure, sigma 0.03), and the validation loss on 8-frame val clips. With --export DIR each variant is
   also written as DIR/k<F>.onnx, for `npm run bench -- model --model DIR/k<F>.onnx --only stability|accuracy`.

  /usr/bin/python3 models/train/analysis/blend_sharpness.py models/facestream-small.onnx data/synth128/val \
      [--scales 1 3 6 10] [--export DIR]
"""
import argparse
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from facelive_model.data import CANON_HALF, SURFACE_WITH_CANONICAL, SynthSequences, static_clip, to_tensors  # noqa: E402
from facelive_model.model import PixelWindowBlend  # noqa: E402
from facelive_model.onnx_import import load_onnx_weights  # noqa: E402
from export_onnx import contract, export  # noqa: E402
from jitter_sources import window_jitter  # noqa: E402
import train as T  # noqa: E402

FRAMES = 16
AGES = (1, 3, 7)


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (Mann-Whitney)."""
    ranks = np.concatenate([pos, neg]).argsort().argsort() + 1
    return float((ranks[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def stage_inputs(net, img, focal):
    """Per frame, the features entering each window-fused decoder stage ([1,C,H,W]) and the image."""
    seen = {}
    saved = [m.step for m in net.fuse]

    def keep(i, step):
        def wrapped(x, *rest):
            seen[i] = x.detach().clone()
            return step(x, *rest)
        return wrapped

    for i, m in enumerate(net.fuse):
        m.step = keep(i, saved[i])
    try:
        cache, valid = net.empty_cache()
        frames = []
        with torch.no_grad():
            for t in range(img.shape[0]):
                _, cache, valid = net.forward_step(img[t:t + 1], focal[t:t + 1], cache, valid)
                frames.append({**{f'decoder stage {i} input': seen[i] for i in seen}, 'image': img[t:t + 1]})
    finally:
        for m, step in zip(net.fuse, saved):
            m.step = step
    return frames


def cues(a: dict, b: dict, size: int, blend, blend_input: str) -> dict:
    up = lambda d: F.interpolate(d, size=(size, size), mode='nearest')[0, 0]  # noqa: E731
    out = {k: up(((a[k] - b[k]) ** 2).sum(1, keepdim=True)) for k in a if k != 'image'}
    # what the blend itself sees: its 4-dim projection of the same difference
    with torch.no_grad():
        out['1/2 blend |K(x_s - x)|^2'] = (blend.k((a[blend_input] - b[blend_input]).permute(0, 2, 3, 1)) ** 2).sum(-1)[0]
    for p in (2, 4, 8):
        out[f'image, {p}x{p} box'] = up(((F.avg_pool2d(a['image'], p) - F.avg_pool2d(b['image'], p)) ** 2).sum(1, keepdim=True))
    return out


def motion_cue(net, seqs, clips: int):
    half = net.cfg.size // 2
    index, blend = next((i, m) for i, m in enumerate(net.fuse) if isinstance(m, PixelWindowBlend))
    pos, neg = {}, {}
    rng = random.Random(5)
    for i in range(clips):
        img, focal, seg, depth, canon, mask = to_tensors(seqs, i % len(seqs.seqs), 0, FRAMES)
        c = canon[:, :, ::2, ::2]
        has = torch.from_numpy(np.isin(mask[:, ::2, ::2].numpy(), SURFACE_WITH_CANONICAL))
        w = net.cfg.window
        held = static_clip(img[:w], focal[:w], seg[:w], depth[:w], canon[:w], mask[:w], rng)
        for still, (im, fo) in ((False, (img, focal)), (True, (held[0], held[1]))):
            frames = stage_inputs(net, im, fo)
            for t in range(w - 1, im.shape[0]):
                for s in AGES:
                    if still:
                        sel, moved = has[0], torch.zeros(half, half)
                    else:
                        sel = has[t] & has[t - s]
                        moved = (c[t] - c[t - s]).norm(dim=0) * CANON_HALF * 1000
                    for k, v in cues(frames[t], frames[t - s], half, blend, f'decoder stage {index} input').items():
                        pos.setdefault((k, s), []).append(v[sel & (moved > 2.0)].numpy())
                        neg.setdefault((k, s), []).append(v[sel & (moved < 0.5)].numpy())
    print(f'motion cue: AUC of the squared difference to the frame s back, pixels whose canonical coordinate moved '
          f'> 2 mm against < 0.5 mm ({clips} val clips, moving and held still)')
    for k in sorted({k for k, _ in pos}):
        row = '  '.join(f's={s}: {auc(np.concatenate(pos[(k, s)]), np.concatenate(neg[(k, s)])):.2f}' for s in AGES)
        print(f'  {k:26s} {row}')


def sharpness(net, cfg, seqs, scales, export_dir):
    blend = next(m for m in net.fuse if isinstance(m, PixelWindowBlend))
    mix0, k0 = blend.mix.weight.data.clone(), blend.k.weight.data.clone()
    val = T.val_batches(seqs, cfg, cfg.window, 16)
    print('sharpness: the 1/2 blend as the weighted window mean (mix = identity), keys scaled by F; static-head '
          'jitter on 4 val frames (window 8 / window 1) and validation loss (8-frame clips)')
    variants = [('as trained', None)] + [(f'mix = I, K x {f:g}', f) for f in scales]
    for name, f in variants:
        with torch.no_grad():
            blend.mix.weight.copy_(mix0 if f is None else torch.eye(mix0.shape[0]))
            blend.k.weight.copy_(k0 * (1.0 if f is None else f))
        rows = window_jitter(net, cfg, seqs)
        r1, rw = rows[1], rows[cfg.window]
        ev = T.evaluate(net, val, cfg.window)
        net.eval()
        print(f'  {name:16s} jitter depth {rw[0] / r1[0]:.0%}, canonical {rw[1] / r1[1]:.0%} | validation total '
              f'{ev["total"]:.4f}, canonical {ev["canonical"]:.4f}, depth {ev["depth"]:.4f}, temporal {ev["temporal"]:.4f}', flush=True)
        if export_dir and f is not None:
            os.makedirs(export_dir, exist_ok=True)
            export(net, cfg, os.path.join(export_dir, f'k{f:g}.onnx'), contract(cfg, 'facestream-small', f'sharpness-k{f:g}', {}))
    with torch.no_grad():
        blend.mix.weight.copy_(mix0)
        blend.k.weight.copy_(k0)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('model', help='an exported .onnx file')
    p.add_argument('val', help='a facelive synth val folder')
    p.add_argument('--scales', type=float, nargs='*', default=[1, 3, 6, 10])
    p.add_argument('--clips', type=int, default=8)
    p.add_argument('--export', default=None, help='write each sharpness variant here as k<F>.onnx')
    a = p.parse_args(argv)
    torch.set_num_threads(2)
    net, cfg, _ = load_onnx_weights(a.model)
    net.eval()
    seqs = SynthSequences([a.val])
    motion_cue(net, seqs, a.clips)
    sharpness(net, cfg, seqs, a.scales, a.export)


if __name__ == '__main__':
    main()
