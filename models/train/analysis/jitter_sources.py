"""Where the static-head jitter enters the network: the bench's stability measure (frame-to-frame change of depth and
canonical maps on one frame held still with fresh sensor noise per copy), on the model as it is and with one path of
the noise replaced by an oracle:

  clean head image   the full-resolution head sees the noise-free image (its only direct view of the pixels)
  1/2 averaged       the decoder's 1/2 stage features are the mean of the window's (what the window at 1/2
                     could do at best on a still head; the 1/2 stage's own blend then acts on that mean)
  both               the two together

A path whose oracle removes most of the jitter is where the window does not reach and should.

  /usr/bin/python3 models/train/analysis/jitter_sources.py models/facestream-small.onnx data/synth128/val
"""
import collections
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

from export_onnx import StreamingStep  # noqa: E402
from facelive_model.data import SURFACE_WITH_CANONICAL, SynthSequences, to_tensors  # noqa: E402
from facelive_model.onnx_import import load_onnx_weights  # noqa: E402

FRAMES = 30
SIGMA = 0.03  # sensor noise, the middle of training's static clips


class CleanImage(nn.Module):
    """The head with its image channels (the last 3 of its input) swapped for the noise-free image's."""

    def __init__(self, head):
        super().__init__()
        self.inner, self.clean = head, None

    def forward(self, x):
        return self.inner(torch.cat([x[:, :-3], (self.clean - 0.45) / 0.25], 1))


class WindowMean(nn.Module):
    """A decoder stage whose output is the mean of its outputs over the window's frames."""

    def __init__(self, stage, window):
        super().__init__()
        self.inner, self.kept = stage, collections.deque(maxlen=window)

    def forward(self, x):
        self.kept.append(self.inner(x))
        return torch.stack(list(self.kept)).mean(0)


def jitter(net, cfg, clean, focal, has, window, seed, clean_head, mean_half):
    g = torch.Generator().manual_seed(seed)
    head, half = net.head, net.up[2]
    if clean_head:
        net.head = CleanImage(head)
        net.head.clean = clean
    if mean_half:
        net.up[2] = WindowMean(half, window)
    try:
        step = StreamingStep(net).eval()   # metric maps, as the exported graph gives them
        cache, valid = net.empty_cache()
        depth, canon = [], []
        with torch.no_grad():
            for _ in range(FRAMES):
                if window == 1:
                    cache, valid = net.empty_cache()
                img = (clean + SIGMA * torch.randn(clean.shape, generator=g)).clamp(0, 1)
                d, c, _, _, cache, valid = step(img, focal, cache, valid)
                depth.append(d[0, 0])
                canon.append(c[0])
    finally:
        net.head, net.up[2] = head, half
    dj = [((depth[t] - depth[t - 1]).abs()[has].mean() * 1000).item() for t in range(cfg.window, FRAMES)]
    cj = [((canon[t] - canon[t - 1]).norm(dim=0)[has].mean() * 1000).item() for t in range(cfg.window, FRAMES)]
    return np.mean(dj), np.mean(cj)


def window_jitter(net, cfg, seqs, clips=4, clean_head=False, mean_half=False) -> dict:
    """{window: (depth, canonical) jitter in mm} at window 1 and the model's window, averaged over the first
    `clips` val frames, each held still with its own noise seed."""
    rows = {1: [], cfg.window: []}
    for i in range(clips):
        img, focal, _, _, _, mask = to_tensors(seqs, i, 0, 1)
        has = torch.from_numpy(np.isin(mask[0].numpy(), SURFACE_WITH_CANONICAL))
        for window in rows:
            rows[window].append(jitter(net, cfg, img, focal, has, window, 17 + i, clean_head, mean_half))
    return {window: np.mean(r, 0) for window, r in rows.items()}


def main(model_path, val_dir, clips=4):
    torch.set_num_threads(1)
    net, cfg, _ = load_onnx_weights(model_path)
    seqs = SynthSequences([val_dir])
    print(f'static head, sensor noise sigma {SIGMA}, {clips} val frames, jitter in mm (depth / canonical)')
    base = None
    for name, ch, mh in (('as it is', False, False), ('clean head image', True, False),
                         ('1/2 averaged', False, True), ('both', True, True)):
        for window, (d, c) in window_jitter(net, cfg, seqs, clips, ch, mh).items():
            base = (d, c) if base is None else base   # window 1 as it is, the first row
            print(f'  {name:18s} W{window}: depth {d:.2f}  canonical {c:.2f}   (of W1 as it is: {d / base[0]:.0%} / {c / base[1]:.0%})')


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
