"""Train and evaluate the expression head (expression_head.py) on FaceStreamNet's frozen features.

On 2 CPU cores the trunk is the cost, so its features are computed once and saved (float16), then the head
trains on them for many epochs in minutes:

  # 1. features: whole 24-frame sequences through forward_clip (window 8, block-causal: what streaming sees)
  /usr/bin/python3 models/train/analysis/expression_head_study.py extract --data data/synth128/train \
      --out models/train/runs/expression-features/train --jitter
  /usr/bin/python3 models/train/analysis/expression_head_study.py extract --data data/synth128/test \
      --out models/train/runs/expression-features/test
  /usr/bin/python3 models/train/analysis/expression_head_study.py extract --data data/synth128/test --still \
      --out models/train/runs/expression-features/test-still
  # 2. the head, then its scores on the test split and the still clips
  /usr/bin/python3 models/train/analysis/expression_head_study.py fit --train models/train/runs/expression-features/train \
      --test models/train/runs/expression-features/test --still models/train/runs/expression-features/test-still \
      --out models/train/runs/expression-head

Crops are data.py's: `--jitter` the training crop (one crop per sequence, scale 0.75-1, shift, mirror, +-1.5 %
per frame, gain/gamma/colour), without it the validation crop (the whole frame, no photometric change).
`--still` holds one frame of each sequence for the whole clip with fresh sensor noise per copy (data.static_clip,
in a still crop): the head's frame-to-frame change there is pure jitter.
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from expression_head import ExpressionHead, FeatureTap, mirror_permutation  # noqa: E402
from facelive_model.data import SynthSequences, augment, to_tensors, with_sensor_noise  # noqa: E402
from facelive_model.onnx_import import load_onnx_weights  # noqa: E402

FEATURES = ('tokens', 'dec8', 'dec4', 'canon')


def expression_names(seq_dir: str) -> list:
    """facekit's expression order, as the generator named it in the sequence's camera.json."""
    return json.load(open(os.path.join(seq_dir, 'camera.json')))['expression_names']


def expressions_of(seq_dir: str) -> np.ndarray:
    cam = json.load(open(os.path.join(seq_dir, 'camera.json')))
    return np.array([f['expression'] for f in cam['frames']], dtype=np.float32)


def will_flip(rng: random.Random) -> bool:
    """Whether data.augment(jitter=True) with this rng will mirror the crop: it draws scale, shift x, shift y, then
    flip. Read from a copy of the rng so that the crop itself is data.py's, untouched."""
    peek = random.Random()
    peek.setstate(rng.getstate())
    peek.uniform(0, 1), peek.uniform(0, 1), peek.uniform(0, 1)
    return peek.random() < 0.5


def window_features(net, img, focal, segment, chunk):
    """The head's inputs for every frame of a sequence, exactly as streaming computes them. A frame's window is 8
    frames, but what it reads from them (each layer's cached keys and values) was computed when they were the
    current frame, from their own windows: the reach compounds over the layers, so cutting a sequence into
    overlapping clips is not exact. Up to `chunk` frames go through forward_clip in one pass (its attention costs
    T^2); longer sequences frame by frame through forward_step and its cache, the engine's path (a cut clears the
    window, as the engine does)."""
    t = len(img)
    with torch.no_grad(), FeatureTap(net, stages=(0, 1, 2)) as tap:
        if t <= chunk:
            return tap.features(net.forward_clip(img[None], focal[None], segment[None]))
        cache, valid = net.empty_cache(1)
        got = []
        for f in range(t):
            if f > 0 and segment[f] != segment[f - 1]:
                valid = torch.zeros_like(valid)
            out, cache, valid = net.forward_step(img[f:f + 1], focal[f:f + 1], cache, valid)
            got.append(tap.features(out))
        return {k: torch.cat([g[k] for g in got]) for k in FEATURES}


def extract(a):
    torch.set_num_threads(a.threads)
    net, cfg, meta = load_onnx_weights(a.model)
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    seqs = SynthSequences(a.data)
    mirror = mirror_permutation(expression_names(seqs.seqs[0]['dir']))
    rng = random.Random(a.seed)
    out = {k: [] for k in FEATURES}
    targets, index = [], []
    t0 = time.time()
    if a.limit:
        seqs.seqs = seqs.seqs[:a.limit]
    for i, s in enumerate(seqs.seqs):
        for p in range(a.passes):
            img, focal, segment, depth, canon, mask = to_tensors(seqs, i, 0, s['frames'])
            expr = expressions_of(s['dir'])
            if a.still:
                k = rng.randrange(s['frames'])
                expr = np.repeat(expr[k:k + 1], s['frames'], 0)
                # as data.static_clip (one frame held, fresh sensor noise per copy), the held frame's index kept
                img, focal, segment = img[k:k + 1].repeat(s['frames'], 1, 1, 1), focal[k:k + 1].repeat(s['frames']), segment[k:k + 1].repeat(s['frames'])
                img = with_sensor_noise(img, rng)
            flip = a.jitter and will_flip(rng)
            img, focal, depth, canon, mask = augment(img, focal, depth, canon, mask, cfg.size, rng, a.jitter, a.still)
            if flip:
                expr = expr[:, mirror]
            f = window_features(net, img, focal, segment, a.chunk)
            for k in FEATURES:
                out[k].append(f[k].half().numpy())
            targets.append(expr)
            index.append(np.stack([np.full(s['frames'], i), np.arange(s['frames']), np.full(s['frames'], int(flip))], 1))
        s['rgb'] = None          # free the decoded frames
        if (i + 1) % 50 == 0:
            print(f'{i + 1}/{len(seqs.seqs)} sequences, {time.time() - t0:.0f} s', flush=True)
    os.makedirs(a.out, exist_ok=True)
    for k in FEATURES:
        np.save(os.path.join(a.out, f'{k}.npy'), np.concatenate(out[k]))
    np.save(os.path.join(a.out, 'targets.npy'), np.concatenate(targets))
    np.save(os.path.join(a.out, 'index.npy'), np.concatenate(index))     # sequence, frame, mirrored
    json.dump({'expression_names': expression_names(seqs.seqs[0]['dir']), 'data': a.data, 'model': os.path.basename(a.model), 'version': meta.get('version'), 'jitter': a.jitter,
               'still': a.still, 'passes': a.passes, 'seed': a.seed, 'seconds': round(time.time() - t0)},
              open(os.path.join(a.out, 'info.json'), 'w'), indent=1)
    print(f'done: {sum(len(t) for t in targets)} frames in {time.time() - t0:.0f} s -> {a.out}', flush=True)


def load_features(folders):
    parts = [{k: np.load(os.path.join(d, f'{k}.npy')) for k in FEATURES + ('targets', 'index')} for d in folders]
    out = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    out['names'] = json.load(open(os.path.join(folders[0], 'info.json')))['expression_names']
    return out


def predict(head, feats, batch=1024):
    head.eval()
    out = []
    with torch.no_grad():
        for s in range(0, len(feats['targets']), batch):
            out.append(head(*(torch.from_numpy(feats[k][s:s + batch]) for k in FEATURES)).numpy())
    return np.concatenate(out)


def scores(pred, truth, names, vary=1e-3):
    """Per shape: Pearson r (None where the shape does not vary in this split), MAE, all-zero MAE."""
    rows = []
    for j, n in enumerate(names):
        t, p = truth[:, j], pred[:, j]
        r = float(np.corrcoef(t, p)[0, 1]) if t.std() > vary and p.std() > 0 else None
        rows.append({'shape': n, 'r': r, 'mae': float(np.abs(p - t).mean()), 'zero': float(np.abs(t).mean()),
                     'std': float(t.std())})
    return rows


def still_jitter(pred, index):
    """Mean |w_t - w_{t-1}| over consecutive frames of the same still clip, all shapes."""
    same = (index[1:, 0] == index[:-1, 0]) & (index[1:, 1] == index[:-1, 1] + 1)
    return float(np.abs(pred[1:] - pred[:-1])[same].mean())


def fit(a):
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    train = load_features(a.train)
    tests = {os.path.basename(os.path.normpath(d)): load_features([d]) for d in a.test}
    test = next(iter(tests.values()))      # the first one is printed during training
    still = load_features([a.still]) if a.still else None
    # hold out whole sequences (each is one identity) to pick the epoch: the head overfits identities quickly
    seq_id = train['index'][:, 0] + 100000 * np.cumsum(np.r_[0, np.diff(train['index'][:, 0]) < 0])
    held = (np.unique(seq_id, return_inverse=True)[1] % max(2, round(1 / a.val_seqs)) == 0) if a.val_seqs > 0 else np.zeros(len(seq_id), bool)
    val = {k: v if k == 'names' else v[held] for k, v in train.items()}
    train = {k: v if k == 'names' else v[~held] for k, v in train.items()}
    n = len(train['targets'])
    head = ExpressionHead(inputs=a.inputs.split(','), proj=a.proj, hidden=a.hidden, dropout=a.dropout)
    params = sum(p.numel() for p in head.parameters())
    print(f'{n} training frames; head {params} parameters (inputs: {a.inputs})', flush=True)
    # sparse targets: most shapes are 0 most of the time. Weight each shape by 1/its mean (capped), so that rare
    # shapes (cheekPuff, noseSneer) count as much as frequent ones, and frames where a shape is active by
    # 1 + active_boost, so that the loss is not won by predicting 0 everywhere.
    y = torch.from_numpy(train['targets'])
    shape_w = (y.mean(0).mean() / y.mean(0).clamp_min(1e-4)).clamp(0.25, 4.0) ** a.shape_weight
    opt = torch.optim.AdamW(head.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    steps = a.epochs * math.ceil(n / a.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, a.lr, total_steps=steps, pct_start=0.05)
    t0 = time.time()
    tensors = {k: torch.from_numpy(train[k]) for k in FEATURES}
    best = (float('inf'), 0, None)
    for epoch in range(a.epochs):
        head.train()
        order = torch.randperm(n)
        total = 0.0
        for s in range(0, n, a.batch):
            b = order[s:s + a.batch]
            feats = [tensors[k][b].float() for k in FEATURES]
            if a.noise > 0:
                # feature noise: a crude stand-in for sensor noise, keeps the readout smooth
                feats = [f + a.noise * f.std() * torch.randn_like(f) for f in feats]
            p = head(*feats)
            t = y[b]
            err = (p - t).abs() if a.loss == 'l1' else (p - t) ** 2 + a.l1 * (p - t).abs()
            w = shape_w[None] * (1.0 + a.active_boost * (t > 0.05).float())
            loss = (err * w).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss) * len(b)
        if len(val['targets']):
            vp = predict(head, val)
            vloss = float(((vp - val['targets']) ** 2).mean())
            if vloss < best[0]:
                best = (vloss, epoch + 1, {k: v.clone() for k, v in head.state_dict().items()})
        rows = scores(predict(head, test), test['targets'], test['names'])
        rs = [r['r'] for r in rows if r['r'] is not None]
        print(f'epoch {epoch + 1} loss {total / n:.5f} held-out train seqs MSE {vloss if len(val["targets"]) else 0:.5f} '
              f'test MAE {np.mean([r["mae"] for r in rows]):.4f} r>=0.8 {sum(r >= 0.8 for r in rs)}/{len(rs)} '
              f'median r {np.median(rs):.3f} ({time.time() - t0:.0f} s)', flush=True)
    if best[2] is not None:
        head.load_state_dict(best[2])
        print(f'kept epoch {best[1]} (lowest MSE on the held-out training sequences)', flush=True)
    os.makedirs(a.out, exist_ok=True)
    torch.save({'head': head.state_dict(), 'args': vars(a), 'params': params}, os.path.join(a.out, 'head.pt'))
    summaries, lines = {}, []
    for name, t in tests.items():
        summaries[name], rows = report(head, t, still if name == next(iter(tests)) else None, params, a)
        lines += markdown(name, summaries[name], rows)
    json.dump(summaries, open(os.path.join(a.out, 'summary.json'), 'w'), indent=1)
    open(os.path.join(a.out, 'scores.md'), 'w').write('\n'.join(lines) + '\n')


def markdown(name, summary, rows):
    out = [f'### {name} ({summary["test_frames"]} frames)', '',
           f'r >= 0.8: {summary["r_ge_0.8"]} of {summary["shapes_varying"]} shapes that vary (r >= 0.5: '
           f'{summary["r_ge_0.5"]}; median r {summary["median_r"]:.2f}); MAE {summary["mae"]:.4f} against '
           f'{summary["mae_all_zero"]:.4f} for all-zero weights (on the shapes that do not vary: '
           f'{summary["mae_shapes_not_varying"]:.4f}); shapes that vary but are not below the all-zero MAE: '
           f'{", ".join(summary["shapes_worse_than_zero"]) or "none"}', '']
    if 'still_jitter' in summary:
        out += [f'still clips: mean |w_t - w_(t-1)| {summary["still_jitter"]:.4f} (largest shape '
                f'{summary["still_jitter_max_shape"]:.4f}); on the moving test video the truth changes '
                f'{summary["test_truth_change"]:.4f} per frame, the prediction {summary["test_pred_change"]:.4f}', '']
    out += ['| shape | r | MAE | all-zero MAE | truth std |', '|---|---|---|---|---|']
    for r in rows:
        corr = 'n/a' if r['r'] is None else f'{r["r"]:.2f}'
        out.append(f'| {r["shape"]} | {corr} | {r["mae"]:.4f} | {r["zero"]:.4f} | {r["std"]:.3f} |')
    return out + ['']


def report(head, test, still, params, a):
    pred = predict(head, test)
    rows = scores(pred, test['targets'], test['names'])
    rs = [r['r'] for r in rows if r['r'] is not None]
    summary = {
        'params': params, 'inputs': a.inputs, 'test_frames': len(pred),
        'shapes_varying': len(rs), 'r_ge_0.8': sum(r >= 0.8 for r in rs), 'r_ge_0.5': sum(r >= 0.5 for r in rs),
        'median_r': float(np.median(rs)), 'mae': float(np.mean([r['mae'] for r in rows])),
        'mae_all_zero': float(np.mean([r['zero'] for r in rows])),
        # among the shapes that vary: one that never occurs has an all-zero MAE of 0, which nothing can beat
        'shapes_worse_than_zero': [r['shape'] for r in rows if r['r'] is not None and r['mae'] >= r['zero']],
        'mae_shapes_not_varying': float(np.mean([r['mae'] for r in rows if r['r'] is None] or [0.0])),
        'shapes_r_below_0.8': [r['shape'] for r in rows if r['r'] is not None and r['r'] < 0.8],
    }
    if still is not None:
        sp = predict(head, still)
        summary['still_jitter'] = still_jitter(sp, still['index'])
        summary['still_jitter_max_shape'] = float(np.abs(np.diff(sp, axis=0)).mean(0).max())
        # the moving test video's own frame-to-frame change, for scale
        summary['test_truth_change'] = still_jitter(test['targets'], test['index'])
        summary['test_pred_change'] = still_jitter(pred, test['index'])
    print(json.dumps(summary), flush=True)
    return summary, rows


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = p.add_subparsers(dest='cmd', required=True)
    e = sub.add_parser('extract', help='frozen features of whole sequences, saved as float16 .npy')
    e.add_argument('--data', nargs='+', required=True, help='facelive synth folders')
    e.add_argument('--out', required=True)
    e.add_argument('--model', default='models/facestream-small.onnx')
    e.add_argument('--jitter', action='store_true', help='the training crop and photometric augmentation')
    e.add_argument('--still', action='store_true', help='one frame per sequence held, fresh sensor noise per copy')
    e.add_argument('--chunk', type=int, default=24, help='longest sequence that goes through forward_clip in one pass; longer ones stream through forward_step')
    e.add_argument('--limit', type=int, default=0, help='first N sequences only (0: all)')
    e.add_argument('--passes', type=int, default=1, help='crops per sequence')
    f = sub.add_parser('fit', help='train the head on saved features, score it on the test features')
    f.add_argument('--train', nargs='+', required=True)
    f.add_argument('--test', nargs='+', required=True, help='feature folders to score on (the first is printed while training)')
    f.add_argument('--still', help='features of still clips (jitter of the weights)')
    f.add_argument('--out', required=True)
    f.add_argument('--inputs', default='tokens,dec', help='features the head reads: tokens, dec, canon (comma-separated)')
    f.add_argument('--proj', type=int, default=16)
    f.add_argument('--hidden', type=int, default=256)
    f.add_argument('--dropout', type=float, default=0.1)
    f.add_argument('--epochs', type=int, default=30)
    f.add_argument('--batch', type=int, default=256)
    f.add_argument('--lr', type=float, default=2e-3)
    f.add_argument('--weight-decay', type=float, default=0.05)
    f.add_argument('--loss', choices=('l1', 'mse'), default='mse', help='l1 collapses to all-zero weights on these sparse targets (the median of most shapes is 0)')
    f.add_argument('--shape-weight', type=float, default=0.5, help='exponent of the per-shape weight (0: none)')
    f.add_argument('--active-boost', type=float, default=1.0)
    f.add_argument('--l1', type=float, default=0.0, help='with --loss mse: add this times the L1 error (pulls unsure shapes to 0, the MAE)')
    f.add_argument('--val-seqs', type=float, default=0.1, help='share of the training sequences held out to pick the epoch')
    f.add_argument('--noise', type=float, default=0.0)
    for q in (e, f):
        q.add_argument('--threads', type=int, default=2)
        q.add_argument('--seed', type=int, default=0)
    return p.parse_args(argv)


if __name__ == '__main__':
    args = parse_args()
    extract(args) if args.cmd == 'extract' else fit(args)
