"""Train the expression branch (model.py ExpressionBranch) of a shipped model, every other weight frozen, so that
the model's other outputs stay bit for bit what they were; then save a checkpoint that export_onnx.py exports
with the extra `expression` output.

  /usr/bin/python3 models/train/train_expression.py --init models/facestream-small.onnx \
      --data data/synth128/gaze-train data/synth128/gaze-train2 --test data/synth128/gaze-test \
      --out models/train/runs/small-expr --minutes 40

Samples are single frames (the branch looks at one frame), cropped and coloured like the trunk's training clips
(data.py augment); a mirrored crop swaps the left and right shapes. Loss: binary cross-entropy on the weights
(in [0, 1], mostly 0) plus L1. The test split is scored per shape (Pearson r, mean absolute error against the
all-zero guess) and on still clips (one frame held with fresh sensor noise: how much the weights move).

The branch always starts from scratch (an --init file that has one, 1.7.0 on, gives only its trunk). With
--own-stem the branch reads the image through a stem of its own (ModelConfig.expression_stem), a copy of the
trunk's conv stem trained with the branch at --stem-lr-scale of the rate (its BatchNorms keep the imported,
folded statistics); the trunk's own stem stays frozen, so the other outputs stay bit for bit. --minutes counts the
time the process ran: a pause (SIGSTOP, or the process starved for over 5 s) does not use up the budget.

  /usr/bin/python3 models/train/train_expression.py --init models/facestream-small.onnx --own-stem \
      --data data/synth128/shuffled-1 data/synth128/shuffled-2 data/synth128/gaze-train data/synth128/gaze-train2 \
      --no-gaze data/synth128/train --test data/synth128/gaze-test --out models/train/runs/small-expr-stem --minutes 60
"""
import argparse
import json
import math
import os
import random
import sys
import threading
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from facelive_model.data import SynthSequences, to_gray, to_tensors, with_sensor_noise  # noqa: E402
from facelive_model.model import FaceStreamNet, ModelConfig  # noqa: E402
from facelive_model.onnx_import import freeze_batchnorm, load_onnx_weights  # noqa: E402


def expression_targets(seqs: SynthSequences):
    """Per sequence [T,57] float32 weights from camera.json, and the names."""
    names, out = None, []
    for s in seqs.seqs:
        cam = json.load(open(os.path.join(s['dir'], 'camera.json')))
        names = names or cam['expression_names']
        out.append(np.array([f['expression'] for f in cam['frames']], np.float32))
    return out, names


def mirror_permutation(names):
    """Index map that swaps each _L shape with its _R twin (a mirrored crop shows the other side)."""
    perm = list(range(len(names)))
    for i, n in enumerate(names):
        twin = n[:-2] + ('_R' if n.endswith('_L') else '_L') if n.endswith(('_L', '_R')) else None
        if twin in names:
            perm[i] = names.index(twin)
    return perm


def crop(img, size, rng: random.Random):
    """The trunk's training crops (data.py augment: scale 0.75-1, shift +-12 %, gain, gamma) and a mirror,
    which is returned: a mirrored face shows its left shapes on its right."""
    scale = rng.uniform(0.75, 1.0)
    cx, cy = rng.uniform(-0.12, 0.12), rng.uniform(-0.12, 0.12)
    flip = rng.random() < 0.5
    theta = torch.tensor([[[scale * (-1 if flip else 1), 0.0, cx], [0.0, scale, cy]]])
    grid = F.affine_grid(theta, (1, 3, size, size), align_corners=False)
    img = F.grid_sample(img, grid, mode='bilinear', padding_mode='reflection', align_corners=False)
    gain = torch.tensor([rng.uniform(0.8, 1.2) for _ in range(3)])[None, :, None, None]
    img = (img.clamp(0, 1) ** rng.uniform(0.8, 1.25) * gain * rng.uniform(0.7, 1.3)).clamp(0, 1)
    return img, flip


def batch(seqs, targets, masks, perm, size, n, rng: random.Random, gray=0.1):
    imgs, ws, ms = [], [], []
    for _ in range(n):
        i = rng.randrange(len(seqs.seqs))
        f = rng.randrange(seqs.seqs[i]['frames'])
        img = torch.from_numpy(np.ascontiguousarray(seqs.rgb(i)[f:f + 1])).permute(0, 3, 1, 2).float() / 255.0
        img, flipped = crop(img, size, rng)
        w = targets[i][f][perm] if flipped else targets[i][f]
        if rng.random() < gray:
            img = to_gray(img, rng)
        if rng.random() < 0.5:
            img = with_sensor_noise(img, rng)
        imgs.append(img[0])
        ws.append(torch.from_numpy(np.ascontiguousarray(w)))
        ms.append(masks[i])
    return torch.stack(imgs), torch.stack(ws), torch.stack(ms)


def branch_logits(net, img):
    """The branch on the image through its own stem, or on the frozen trunk's encoder features (no gradient into
    the trunk)."""
    if net.expression.stem is not None:
        return net.expression(None, img)
    with torch.no_grad():
        _, skips = net.encode(img, torch.full((img.shape[0],), float(img.shape[-1])))
    return net.expression([s.detach() for s in skips])


def score(pred: np.ndarray, truth: np.ndarray, names):
    rows, strong = [], 0
    for k, n in enumerate(names):
        t, p = truth[:, k], pred[:, k]
        r = float(np.corrcoef(t, p)[0, 1]) if t.std() > 1e-3 and p.std() > 1e-6 else None
        rows.append({'shape': n, 'r': r, 'mae': float(np.abs(p - t).mean()), 'zero_mae': float(np.abs(t).mean()), 'truth_std': float(t.std())})
        strong += r is not None and r >= 0.8
    varying = sum(1 for r in rows if r['truth_std'] > 1e-3)
    fair = sum(1 for r in rows if r['r'] is not None and r['r'] >= 0.5)
    # a shape that never plays counts as below its all-zero error while its weights stay under 0.01 on average
    below = sum(1 for r in rows if r['mae'] < r['zero_mae'] or r['zero_mae'] == 0 and r['mae'] < 0.01)
    return {'shapes_r_ge_0_8': strong, 'shapes_r_ge_0_5': fair, 'shapes_varying': varying, 'mae': float(np.abs(pred - truth).mean()), 'zero_mae': float(np.abs(truth).mean()),
            'shapes_below_zero_mae': below, 'per_shape': rows}


def predict_test(net, seqs, size):
    preds = []
    with torch.no_grad():
        for i in range(len(seqs.seqs)):
            img, *_ = to_tensors(seqs, i, 0, seqs.seqs[i]['frames'])
            img = F.interpolate(img, size=(size, size), mode='bilinear', align_corners=False) if img.shape[-1] != size else img
            preds.append(torch.sigmoid(branch_logits(net, img)).numpy())
    return np.concatenate(preds)


def still_jitter(net, seqs, size, rng, clips=12, frames=8):
    moves = []
    with torch.no_grad():
        for _ in range(clips):
            i = rng.randrange(len(seqs.seqs))
            f = rng.randrange(seqs.seqs[i]['frames'])
            img, *_ = to_tensors(seqs, i, f, 1)
            held = with_sensor_noise(img.expand(frames, -1, -1, -1).clone(), rng)
            w = torch.sigmoid(branch_logits(net, held)).numpy()
            moves.append(np.abs(np.diff(w, axis=0)).mean())
    return float(np.mean(moves))


class RunClock:
    """Seconds the process ran: wall time less the gaps a ticker thread sees (a stopped process stops it too)."""

    def __init__(self, gap=5.0):
        self.start = self.last = time.monotonic()
        self.paused = 0.0
        self.gap = gap
        threading.Thread(target=self._tick, daemon=True).start()

    def _tick(self):
        while True:
            time.sleep(1.0)
            now = time.monotonic()
            if now - self.last > self.gap:
                self.paused += now - self.last - 1.0
            self.last = now

    def ran(self):
        return time.monotonic() - self.start - self.paused


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--init', required=True, help='the shipped .onnx model whose other weights stay as they are')
    p.add_argument('--data', nargs='+', required=True)
    p.add_argument('--no-gaze', nargs='*', default=[], help='training folders rendered before the generator painted the gaze: their eyeLook weights are not learned from')
    p.add_argument('--test', required=True)
    p.add_argument('--out', required=True)
    p.add_argument('--minutes', type=float, default=30)
    p.add_argument('--batch', type=int, default=48)
    p.add_argument('--lr', type=float, default=2e-3)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--eval-every', type=int, default=500)
    p.add_argument('--own-stem', action='store_true', help='the branch reads the image through a stem of its own, copied from the trunk\'s')
    p.add_argument('--stem-lr-scale', type=float, default=0.3, help='--own-stem: the rate of the branch\'s stem, relative to --lr')
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)

    trunk, cfg, meta = load_onnx_weights(a.init)
    cfg = ModelConfig(**{**cfg.to_json(), 'widths': tuple(cfg.widths), 'expressions': 57, 'expression_stem': a.own_stem})
    net = FaceStreamNet(cfg)
    missing, unexpected = net.load_state_dict({k: v for k, v in trunk.state_dict().items() if not k.startswith('expression.')}, strict=False)
    assert not unexpected and all(k.startswith('expression.') for k in missing), (missing, unexpected)
    if a.own_stem:
        net.expression.stem.load_state_dict(net.stem.state_dict())
    for name, prm in net.named_parameters():
        prm.requires_grad = name.startswith('expression.')
    freeze_batchnorm(net)

    def branch_train():
        net.expression.train()
        if a.own_stem:
            freeze_batchnorm(net.expression.stem)   # the stem's statistics stay the trunk's (folded into identity)

    train = SynthSequences(a.data + a.no_gaze)
    test = SynthSequences([a.test])
    t0 = time.time()
    train.preload()
    test.preload()
    targets, names = expression_targets(train)
    test_targets, _ = expression_targets(test)
    test_truth = np.concatenate(test_targets)
    perm = mirror_permutation(names)
    # per sequence, which shapes the loss sees: all, or all but the eyeLook ones where the iris did not move
    no_gaze_dirs = tuple(os.path.abspath(d) + os.sep for d in a.no_gaze)
    gaze = torch.tensor([0.0 if n.startswith('eyeLook') else 1.0 for n in names])
    masks = [gaze if os.path.abspath(s['dir']).startswith(no_gaze_dirs) else torch.ones(len(names)) for s in train.seqs]
    print(f'{sum(s["frames"] for s in train.seqs)} training frames loaded in {time.time() - t0:.0f} s', flush=True)

    stem = [q for n, q in net.named_parameters() if q.requires_grad and n.startswith('expression.stem.')]
    rest = [q for n, q in net.named_parameters() if q.requires_grad and not n.startswith('expression.stem.')]
    groups = [{'params': rest, 'scale': 1.0}] + ([{'params': stem, 'scale': a.stem_lr_scale}] if stem else [])
    opt = torch.optim.AdamW(groups, lr=a.lr, weight_decay=1e-4)
    rng = random.Random(a.seed)
    log = open(os.path.join(a.out, 'train_log.jsonl'), 'a')
    start, step, best = time.time(), 0, None
    clock = RunClock()
    recent = []
    budget = a.minutes * 60

    def evaluate():
        net.expression.eval()
        s = score(predict_test(net, test, cfg.size), test_truth, names)
        s['still_move_per_frame'] = still_jitter(net, test, cfg.size, random.Random(1))
        branch_train()
        return s

    def save(s):
        torch.save({'model': net.state_dict(), 'config': {**cfg.to_json(), 'expressions': 57}, 'expression_names': names, 'step': step,
                    'seconds': clock.ran(), 'paused_seconds': clock.paused, 'init': os.path.basename(a.init), 'init_contract': meta,
                    'score': {k: v for k, v in s.items() if k != 'per_shape'}}, os.path.join(a.out, 'checkpoint.pt'))
        json.dump(s, open(os.path.join(a.out, 'test_scores.json'), 'w'), indent=1)

    net.train()
    freeze_batchnorm(net)   # the trunk's BatchNorms keep their statistics; the branch's learn theirs
    branch_train()
    while clock.ran() < budget:
        progress = min(1.0, clock.ran() / budget)
        lr = a.lr * min(1.0, (step + 1) / 200) * 0.5 * (1 + math.cos(math.pi * progress))
        for g in opt.param_groups:
            g['lr'] = lr * g['scale']
        x, w, m = batch(train, targets, masks, perm, cfg.size, a.batch, rng)
        logits = branch_logits(net, x)
        per = F.binary_cross_entropy_with_logits(logits, w, reduction='none') + (torch.sigmoid(logits) - w).abs()
        loss = (per * m).sum() / m.sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        recent.append(loss.item())
        if step % 50 == 0:
            log.write(json.dumps({'step': step, 'seconds': round(clock.ran()), 'paused': round(clock.paused), 'loss': round(loss.item(), 5), 'loss_mean50': round(float(np.mean(recent)), 5), 'lr': lr}) + '\n')
            recent.clear()
            log.flush()
        if step % a.eval_every == 0:
            s = evaluate()
            print(f'step {step} ({clock.ran() / 60:.1f} min run, {clock.paused / 60:.1f} paused): loss {loss.item():.4f}; test r>=0.8 {s["shapes_r_ge_0_8"]}, r>=0.5 {s["shapes_r_ge_0_5"]} of {s["shapes_varying"]}, MAE {s["mae"]:.4f} (zero {s["zero_mae"]:.4f}), still {s["still_move_per_frame"]:.4f}', flush=True)
            save(s)
    s = evaluate()
    save(s)
    print(f'done: {step} steps; test r>=0.8 {s["shapes_r_ge_0_8"]} of {s["shapes_varying"]}, MAE {s["mae"]:.4f} (zero {s["zero_mae"]:.4f}), still {s["still_move_per_frame"]:.4f}', flush=True)


if __name__ == '__main__':
    main()
