"""What the depth error is made of: each frame's predicted depth, divided by its median ratio to the truth, leaves
the error of the face's shape; the ratio itself is the error of its distance. A crop with a known focal length tells
a face's distance only through its size in pixels, and a monocular network knows a head's size only from the
population of heads it was trained on, so a distance error that stays the same through a sequence (the same
person) and varies between sequences points to that person's head size rather than to noise. This prints, per sequence, the
mean log distance ratio and its spread within the sequence, and how the ratio follows a proxy of the head's true
size (the 3D distance between the outer eye corners, landmarks 36 and 45, from the true depth; a proxy, since the
identity modes change proportions as well as size).

  /usr/bin/python3 models/train/analysis/depth_scale.py models/facestream-small.onnx data/synth128/val
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import numpy as np  # noqa: E402
import torch  # noqa: E402

from facelive_model.data import SURFACE_WITH_CANONICAL, SynthSequences, to_tensors  # noqa: E402
from facelive_model.onnx_import import load_onnx_weights  # noqa: E402
from export_onnx import metric_depth  # noqa: E402

OUTER_EYE_CORNERS = (36, 45)


def eye_corner_distance(landmarks, depth, fx, c):
    """Metres between the outer eye corners in 3D, from their pixels and the true depth; None if one is hidden."""
    points = []
    for l in OUTER_EYE_CORNERS:
        x, y, visible = landmarks[l]
        xi, yi = int(round(x)), int(round(y))
        if not visible or not (0 <= xi < depth.shape[1] and 0 <= yi < depth.shape[0]) or depth[yi, xi] <= 0:
            return None
        z = depth[yi, xi]
        points.append(np.array([(x - c) * z / fx, (y - c) * z / fx, z]))
    return float(np.linalg.norm(points[0] - points[1]))


def main(model_path, folder):
    torch.set_num_threads(2)
    net, cfg, _ = load_onnx_weights(model_path)
    net.eval()
    seqs = SynthSequences([folder])
    rows, shape_rel, metric_rel = [], [], []
    for i, s in enumerate(seqs.seqs):
        img, focal, segment, depth, _, mask = to_tensors(seqs, i, 0, s['frames'])
        with torch.no_grad():
            out = net.forward_clip(img[None], focal[None], segment[None])
        pred = metric_depth(out['log_depth'], focal)[:, 0].numpy()
        truth, m, lm = depth[:, 0].numpy(), mask.numpy(), np.array(s['landmarks'])
        log_ratio, size = [], []
        for t in range(s['frames']):
            face = np.isin(m[t], SURFACE_WITH_CANONICAL)
            if face.sum() < 50:
                continue
            g, p = truth[t][face], pred[t][face]
            ratio = np.median(g / p)
            log_ratio.append(np.log(ratio))
            metric_rel.append(np.mean(np.abs(p - g) / g))
            shape_rel.append(np.mean(np.abs(p * ratio - g) / g))
            d = eye_corner_distance(lm[t], truth[t], s['fx'], (cfg.size - 1) / 2)
            if d is not None:
                size.append(d)
        if log_ratio and size:
            rows.append((np.mean(log_ratio), np.std(log_ratio), np.median(size)))
    r = np.array(rows)
    print(f'{len(seqs.seqs)} sequences of {folder}: depth AbsRel {np.mean(metric_rel):.2%} as predicted, '
          f'{np.mean(shape_rel):.2%} once each frame is scaled by its median ratio to the truth (the shape)')
    print(f'distance (log median ratio): per sequence mean |.| {np.abs(r[:, 0]).mean():.2%}, spread between sequences '
          f'{r[:, 0].std():.2%}, within a sequence {r[:, 1].mean():.2%} (mean of the sequences\' standard deviations)')
    log_size = np.log(r[:, 2])
    slope, _ = np.polyfit(log_size - log_size.mean(), r[:, 0], 1)
    print(f'outer eye corners {np.median(r[:, 2]) * 1000:.1f} mm apart (median), log spread {log_size.std():.2%}; '
          f'distance error against log size: slope {slope:.2f}, correlation {np.corrcoef(log_size, r[:, 0])[0, 1]:.2f} '
          f'(slope 1: one head size assumed for everyone; 0: each head\'s size seen)')


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
