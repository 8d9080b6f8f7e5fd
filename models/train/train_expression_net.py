"""Train the expression network: a small CNN of its own that reads the 57 blendshape weights (gaze included) from a
tight crop of the face, framed from the face box the engine already has (no trunk features).

  /usr/bin/python3 models/train/train_expression_net.py --data data/expr320/train-0 data/expr320/train-1 \
      --test data/expr320/test --out models/train/runs/expr-net --minutes 50     # data: expressionCrops.ts

Why: the branch on the trunk's features (train_expression.py) fitted neither held-out nor its own training frames
(r >= 0.5 for 11 of 57 shapes on frames it was trained on): its 128-px crop gives brows to chin 30-60 px, and the
trunk's features are made for the canonical maps, which by design ignore the expression. This network sees only the
face, at a framing and resolution of its own.

Samples are single frames. The crop is the engine's face box (boxFromMask framing, server/engine/faceRegion.ts)
scaled by CROP_SCALE, jittered in place, size and angle like a tracked box; a mirrored crop swaps left and right
shapes. Loss: binary cross-entropy plus L1 on the weights in [0, 1]. Scores on --test: Pearson r and mean absolute
error per shape against the all-zero guess.
"""
import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from facelive_model.data import to_gray, with_sensor_noise  # noqa: E402
from train_expression import mirror_permutation, score  # noqa: E402  (the branch's trainer: the same naming and scores)

CROP_SCALE = 0.62             # the expression crop: the engine's box, tighter: brows to chin (the 68 landmarks span
                              # 0.43 x 0.50 of the box, median; 0.49 x 0.57 at the 95th percentile) with a margin
SIZE = 112


class ExpressionNet(nn.Module):
    """Conv stages halving the crop to 7x7, then an MLP over the whole grid (where a change is says which shape)."""

    def __init__(self, outputs=57, size=SIZE, widths=(24, 48, 96, 128)):
        super().__init__()
        w = widths

        def block(cin, cout, stride, convs=2):
            layers = []
            for k in range(convs):
                layers += [nn.Conv2d(cin if k == 0 else cout, cout, 3, stride if k == 0 else 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
            return nn.Sequential(*layers)

        self.features = nn.Sequential(block(3, w[0], 2, 1), block(w[0], w[1], 2), block(w[1], w[2], 2), block(w[2], w[3], 2))
        g = size // 16
        self.head = nn.Sequential(nn.Conv2d(w[3], 32, 1), nn.ReLU(inplace=True), nn.Flatten(), nn.Dropout(0.1),
                                  nn.Linear(32 * g * g, 256), nn.ReLU(inplace=True), nn.Linear(256, outputs))

    def forward(self, x):
        return self.head(self.features((x - 0.45) / 0.25))


def crop_thetas(boxes, W, rng: random.Random | None):
    """[B,4] boxes -> [B,2,3] affine grids for grid_sample (align_corners=False), jittered when rng is given;
    and which were mirrored."""
    th, flips = [], []
    for cx, cy, side in boxes.tolist():
        s, a, f, dx, dy = CROP_SCALE * side, 0.0, False, 0.0, 0.0
        if rng is not None:
            # a tracked box's wander: the loose crop (expressionCrops.ts, 0.85 of the box) holds the worst of it
            s *= rng.uniform(0.92, 1.08)
            a = math.radians(rng.uniform(-6, 6))
            dx, dy = rng.uniform(-0.04, 0.04) * side, rng.uniform(-0.04, 0.04) * side
            f = rng.random() < 0.5
        k = s / W
        c, sn = math.cos(a) * k, math.sin(a) * k
        fx = -1.0 if f else 1.0
        th.append([[c * fx, -sn, (2 * (cx + dx) + 1) / W - 1], [sn * fx, c, (2 * (cy + dy) + 1) / W - 1]])
        flips.append(f)
    return torch.tensor(th, dtype=torch.float32), flips


class Frames:
    """Crops written by expressionCrops.ts (one or more folders): loose crops in memory, the engine's box in each
    (the same for all: their centre, their side / loose_scale), weights."""

    def __init__(self, roots):
        crops, boxes, weights = [], [], []
        self.names = None
        for root in roots:
            meta = json.load(open(os.path.join(root, 'meta.json')))
            C, n = meta['crop_size'], meta['count']
            self.names = self.names or meta['expression_names']
            if meta['expression_names'] != self.names:
                raise SystemExit(f'{root}: its expression names differ from the first folder\'s')
            crops.append(np.fromfile(os.path.join(root, 'crops.u8'), np.uint8).reshape(n, C, C, 3))
            # every crop is centred on the engine's box, its side the box's x loose_scale
            boxes.append(np.tile(np.float32([(C - 1) / 2, (C - 1) / 2, C / meta['loose_scale']]), (n, 1)))
            weights.append(np.fromfile(os.path.join(root, 'weights.f32'), np.float32).reshape(n, len(self.names)))
        self.imgs = np.concatenate(crops)
        self.boxes = np.concatenate(boxes)
        self.weights = np.concatenate(weights)

    def __len__(self):
        return len(self.imgs)


def crops(frames: Frames, idx, rng: random.Random | None, perm=None):
    img = torch.from_numpy(frames.imgs[idx]).permute(0, 3, 1, 2).float() / 255.0
    theta, flips = crop_thetas(frames.boxes[idx], img.shape[-1], rng)
    grid = F.affine_grid(theta, (len(idx), 3, SIZE, SIZE), align_corners=False)
    x = F.grid_sample(img, grid, mode='bilinear', padding_mode='border', align_corners=False)
    w = frames.weights[idx].copy()
    if perm is not None:
        for k, f in enumerate(flips):
            if f:
                w[k] = w[k][perm]
    return x, torch.from_numpy(w)


def chroma_subsampled(img):
    """The colour at half resolution, as a 4:2:0 video frame (what the engine gets from a camera over VP8) has it."""
    y = 0.299 * img[:, 0:1] + 0.587 * img[:, 1:2] + 0.114 * img[:, 2:3]
    c = img - y
    c = F.interpolate(F.avg_pool2d(c, 2), scale_factor=2, mode='bilinear', align_corners=False)
    return (y + c).clamp(0, 1)


def augment_photometric(x, rng: random.Random):
    out = []
    for k in range(x.shape[0]):
        img = x[k:k + 1]
        gain = torch.tensor([rng.uniform(0.8, 1.2) for _ in range(3)])[None, :, None, None]
        img = (img.clamp(0, 1) ** rng.uniform(0.8, 1.25) * gain * rng.uniform(0.7, 1.3)).clamp(0, 1)
        if rng.random() < 0.6:
            img = chroma_subsampled(img)
        if rng.random() < 0.1:
            img = to_gray(img, rng)
        if rng.random() < 0.5:
            img = with_sensor_noise(img, rng)
        if rng.random() < 0.2:
            img = F.avg_pool2d(F.pad(img, (1, 1, 1, 1), mode='replicate'), 3, 1) if rng.random() < 0.5 else img
        out.append(img)
    return torch.cat(out)


def predict(net, frames: Frames, batch=256, device='cpu'):
    net.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(frames), batch):
            x, _ = crops(frames, np.arange(i, min(len(frames), i + batch)), None)
            out.append(torch.sigmoid(net(x.to(device))).cpu().numpy())
    net.train()
    return np.concatenate(out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', nargs='+', required=True)
    p.add_argument('--test', required=True)
    p.add_argument('--out', required=True)
    p.add_argument('--minutes', type=float, default=30)
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--lr', type=float, default=2e-3)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--eval-every', type=int, default=1000)
    p.add_argument('--init', help='a checkpoint.pt of this script to go on from')
    p.add_argument('--device', default='cpu', help='torch device: cpu, or cuda on a GPU machine (--batch can grow there)')
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    t0 = time.time()
    train = Frames(a.data)
    test = Frames([a.test])
    print(f'{len(train)} training frames, {len(test)} test frames loaded in {time.time() - t0:.0f} s', flush=True)
    names = train.names
    perm = mirror_permutation(names)
    net = ExpressionNet(len(names))
    if a.init:
        net.load_state_dict(torch.load(a.init, map_location='cpu', weights_only=False)['model'])
    net.to(a.device)
    opt = torch.optim.AdamW(net.parameters(), lr=a.lr, weight_decay=1e-4)
    rng = random.Random(a.seed)
    log = open(os.path.join(a.out, 'train_log.jsonl'), 'a')
    start, step, recent = time.time(), 0, []
    budget = a.minutes * 60

    def evaluate():
        s = score(predict(net, test, device=a.device), test.weights, names)
        torch.save({'model': {k: v.cpu() for k, v in net.state_dict().items()}, 'names': names, 'size': SIZE, 'crop_scale': CROP_SCALE, 'step': step,
                    'seconds': time.time() - start, 'score': {k: v for k, v in s.items() if k != 'per_shape'}}, os.path.join(a.out, 'checkpoint.pt'))
        json.dump(s, open(os.path.join(a.out, 'test_scores.json'), 'w'), indent=1)
        return s

    net.train()
    while time.time() - start < budget:
        progress = min(1.0, (time.time() - start) / budget)
        lr = a.lr * min(1.0, (step + 1) / 300) * 0.5 * (1 + math.cos(math.pi * progress))
        for g in opt.param_groups:
            g['lr'] = lr
        idx = np.array([rng.randrange(len(train)) for _ in range(a.batch)])
        x, w = crops(train, idx, rng, perm)
        x = augment_photometric(x, rng).to(a.device)
        w = w.to(a.device)
        logits = net(x)
        loss = (F.binary_cross_entropy_with_logits(logits, w, reduction='none') + (torch.sigmoid(logits) - w).abs()).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        recent.append(loss.item())
        if step % 50 == 0:
            log.write(json.dumps({'step': step, 'seconds': round(time.time() - start), 'loss_mean50': round(float(np.mean(recent)), 5), 'lr': lr}) + '\n')
            log.flush()
            recent.clear()
        if step % a.eval_every == 0:
            s = evaluate()
            print(f'step {step} ({(time.time() - start) / 60:.1f} min): test r>=0.8 {s["shapes_r_ge_0_8"]}, r>=0.5 {s["shapes_r_ge_0_5"]} of {s["shapes_varying"]}, MAE {s["mae"]:.4f} (zero {s["zero_mae"]:.4f}), below zero {s["shapes_below_zero_mae"]}', flush=True)
    s = evaluate()
    print(f'done: {step} steps; test r>=0.8 {s["shapes_r_ge_0_8"]}, r>=0.5 {s["shapes_r_ge_0_5"]} of {s["shapes_varying"]}, MAE {s["mae"]:.4f} (zero {s["zero_mae"]:.4f}), below zero {s["shapes_below_zero_mae"]}', flush=True)


if __name__ == '__main__':
    main()
