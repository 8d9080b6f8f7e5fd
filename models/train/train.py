"""Train FaceStreamNet on `facelive synth` output. Resumable; writes a log, a loss-curve PNG and checkpoints.

  /usr/bin/python3 models/train/train.py --data data/synth128/train --val data/synth128/val \
      --config small --out models/train/runs/small --minutes 60

Run it again with the same --out to resume from the last checkpoint.
"""
import argparse
import dataclasses
import json
import math
import os
import random
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from facelive_model.data import ClipSampler, SynthSequences, augment, to_tensors  # noqa: E402
from facelive_model.losses import losses  # noqa: E402
from facelive_model.model import CONFIGS, FaceStreamNet, ModelConfig  # noqa: E402
from facelive_model.onnx_import import freeze_batchnorm, load_onnx_weights  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', nargs='+', required=True, help='facelive synth output folders (train split)')
    p.add_argument('--val', nargs='*', default=[], help='facelive synth output folders (val split)')
    p.add_argument('--config', choices=sorted(CONFIGS), default='small')
    p.add_argument('--fuse', type=int, default=None,
                   help='decoder stages, coarsest first, whose pixels attend over the window (default: the config\'s; '
                        'at most 3); --init grows a model with fewer')
    p.add_argument('--out', required=True, help='run folder: checkpoint.pt, train_log.jsonl, loss_curve.png')
    p.add_argument('--clip', type=int, default=4, help='frames per training clip')
    p.add_argument('--batch', type=int, default=4, help='clips per step')
    p.add_argument('--steps', type=int, default=100000, help='stop after this many steps')
    p.add_argument('--minutes', type=float, default=0, help='stop after this much wall time (0: no limit)')
    p.add_argument('--lr', type=float, default=2e-3)
    p.add_argument('--init', help='start from this checkpoint\'s (or exported .onnx file\'s) weights with a fresh '
                                  'schedule (a fine-tuning phase)')
    p.add_argument('--lr-kept', type=float, default=1.0,
                   help='multiplier on --lr for the weights --init provides (stages it lacks train at --lr): a fresh '
                        'schedule at full rate shakes weights that have converged')
    p.add_argument('--face-free', type=float, default=0.08, help='share of clips with no face in them')
    p.add_argument('--static', type=float, default=0.0,
                   help='share of clips that hold one frame still with fresh sensor noise per copy (temporal stability)')
    p.add_argument('--hold-move', type=float, default=0.0,
                   help='share of clips whose first frame rests for a few frames (fresh noise per copy) before the '
                        'motion goes on: the window must learn to drop frames that stop matching')
    p.add_argument('--retrain', nargs='+', default=[], metavar='PREFIX',
                   help='weights (name prefixes, e.g. fuse.2.) that train at --lr although --init provides them')
    p.add_argument('--as-built', nargs='+', default=[], metavar='PREFIX',
                   help='weights (name prefixes, e.g. fuse.2.mix) that keep their values as built, neither loaded '
                        'from --init nor trained')
    p.add_argument('--scale', nargs='+', default=[], metavar='PREFIX=F',
                   help='multiply weights --init provides (name prefixes) by F, e.g. fuse.2.k=6: the 1/2 blend\'s '
                        'distance term, 36x larger, then tells motion from noise (see the model card)')
    p.add_argument('--facemesh', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'third_party', 'mediapipe-facemesh', 'facemesh.json'),
                   help='TF.js graph of MediaPipe Face Mesh: the pretrained weights of a facemesh encoder (--config '
                        'small-fm) when a run starts')
    p.add_argument('--lr-scale', nargs='+', default=[], metavar='PREFIX=F',
                   help='weights (name prefixes) that train at F x --lr whatever else says, e.g. backbone.=0.2: a '
                        'pretrained encoder that should keep what it learned from real faces')
    p.add_argument('--gray', type=float, default=0.0,
                   help='share of clips turned to grey or sepia (old photographs, monochrome cameras)')
    p.add_argument('--temporal', type=float, default=0.5,
                   help='weight of the temporal term in the training loss (validation totals always use 0.5)')
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--checkpoint-every', type=int, default=200)
    p.add_argument('--val-clips', type=int, default=16)
    a = p.parse_args(argv)
    if a.clip < 1 or a.batch < 1 or a.steps < 1:
        p.error('--clip, --batch and --steps must be positive')
    if not 0 <= a.static < 1 or not 0 <= a.hold_move < 1 or a.static + a.hold_move >= 1:
        p.error('--static and --hold-move must be in [0, 1) and leave some moving clips')
    if a.hold_move > 0 and a.clip < 4:
        p.error('--hold-move needs --clip 4 or more (2 frames of rest, then at least 2 of motion)')
    if (a.retrain or a.as_built or a.scale) and not a.init:
        p.error('--retrain, --as-built and --scale name weights of --init: give --init')
    try:
        a.scale = [(prefix, float(f)) for prefix, f in (x.split('=') for x in a.scale)]
    except ValueError:
        p.error(f'--scale takes PREFIX=FACTOR items, got {a.scale}')
    try:
        a.lr_scale = [(prefix, float(f)) for prefix, f in (x.split('=') for x in a.lr_scale)]
    except ValueError:
        p.error(f'--lr-scale takes PREFIX=FACTOR items, got {a.lr_scale}')
    if any(not 0 < f <= 10 for _, f in a.lr_scale):
        p.error('--lr-scale factors must be in (0, 10]')
    if not 0 <= a.gray < 1:
        p.error('--gray must be in [0, 1)')
    if a.fuse is not None and not 0 <= a.fuse <= 3:
        p.error('--fuse must be 0 to 3 (the decoder has 3 stages before full resolution)')
    if not 0 <= a.face_free < 1:
        p.error('--face-free must be in [0, 1)')
    if a.temporal < 0:
        p.error('--temporal must be >= 0')
    if not 0 < a.lr_kept <= 1:
        p.error('--lr-kept must be in (0, 1]')
    if a.init and not os.path.isfile(a.init):
        p.error(f'--init {a.init}: no such checkpoint')
    for d in a.data + a.val:
        if not os.path.isfile(os.path.join(d, 'manifest.json')):
            p.error(f'{d} is not a facelive synth folder (no manifest.json)')
    return a


def lr_at(progress, step, base, warmup=200):
    """Linear warm-up over `warmup` steps, then a cosine to zero over `progress` in [0, 1]."""
    if step < warmup:
        return base * (step + 1) / warmup
    return base * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def batch_of(it, n):
    items = [next(it) for _ in range(n)]
    return [torch.stack([x[k] for x in items]) for k in range(len(items[0]))]


def val_batches(seqs, cfg, clip, count):
    rng = random.Random(1234)
    out = []
    for j in range(count):
        i = j % len(seqs.seqs)
        n = seqs.seqs[i]['frames']
        start = rng.randrange(max(1, n - clip + 1))
        img, focal, segment, depth, canon, mask = to_tensors(seqs, i, start, clip)
        img, focal, depth, canon, mask = augment(img, focal, depth, canon, mask, cfg.size, rng, jitter=False)
        out.append((img[None], focal[None], segment[None], depth[None], canon[None], mask[None]))
    return out


def evaluate(model, batches, clip):
    model.eval()
    sums = {}
    with torch.no_grad():
        for img, focal, segment, depth, canon, mask in batches:
            pred = model.forward_clip(img, focal, segment)
            ls = losses(pred, depth.flatten(0, 1), canon.flatten(0, 1), mask.flatten(0, 1), focal.flatten(), clip)
            for k, v in ls.items():
                sums[k] = sums.get(k, 0.0) + float(v) / len(batches)
    model.train()
    return sums


def plot(log_path, png_path):
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        return
    rows = [json.loads(line) for line in open(log_path)]
    train = [r for r in rows if r['kind'] == 'train']
    val = [r for r in rows if r['kind'] == 'val']
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, key in zip(axes, ['total', 'depth', 'canonical']):
        ax.plot([r['step'] for r in train], [r[key] for r in train], label='train', lw=0.8)
        if val:
            ax.plot([r['step'] for r in val], [r[key] for r in val], 'o-', label='val', ms=3)
        ax.set_title(key)
        ax.set_xlabel('step')
        # the total can be negative (the confidence term's -log c): a log axis would drop those steps
        ax.set_yscale('symlog', linthresh=0.05) if key == 'total' else ax.set_yscale('log')
        ax.legend()
    fig.tight_layout()
    fig.savefig(png_path, dpi=90)
    plt.close(fig)


def grow(model, state: dict, config: dict, cfg: ModelConfig, a) -> list:
    """Load --init weights into `model`. The earlier model may lack window-fused decoder stages (a model from
    before they existed, or with fewer), or hold a stage in an earlier form (1.3.0's 1/2 stage attended with
    projected keys and values; today's blends the features): such stages start as they are built (attention
    with its output at zero, a blend as the window mean), so at window 1 the grown model computes what the
    earlier one did."""
    ours = {'encoder': 'conv', **cfg.to_json()}
    theirs = {'encoder': 'conv', **config, 'fuse': config.get('fuse', 0)}
    same = lambda d: {k: v for k, v in d.items() if k not in ('fuse', 'encoder')}  # noqa: E731
    if same(theirs) != same(ours) or theirs['fuse'] > ours['fuse']:
        sys.exit(f'{a.init} holds a {config} model, not --config {a.config}')
    encoder_keys = ('stem.', 'to_tokens.', 'backbone.')
    if theirs['encoder'] != ours['encoder']:
        # another encoder: everything after it is kept (same token and skip widths), the encoder is new
        state = {k: v for k, v in state.items() if not k.startswith(encoder_keys)}
        print(f'encoder {theirs["encoder"]} -> {ours["encoder"]}: the rest of the model kept', flush=True)
    mine = model.state_dict()
    replaced = []
    for i in range(theirs['fuse']):
        prefix = f'fuse.{i}.'
        old = {k: v.shape for k, v in state.items() if k.startswith(prefix)}
        new = {k: v.shape for k, v in mine.items() if k.startswith(prefix)}
        if old != new:
            state = {k: v for k, v in state.items() if not k.startswith(prefix)}
            replaced.append(str(i))
    missing, unexpected = model.load_state_dict(state, strict=False)
    new = [k for k in missing if not k.startswith('fuse.') and not (theirs['encoder'] != ours['encoder'] and k.startswith(encoder_keys))]
    if new or unexpected:
        sys.exit(f'{a.init}: weights do not fit --config {a.config} (missing {new[:4]}, unexpected {unexpected[:4]})')
    if replaced:
        print(f'window-fused decoder stages {", ".join(replaced)} changed form: they start again as built', flush=True)
    added = sorted({k.split('.')[1] for k in missing if k.startswith('fuse.')} - set(replaced))
    if added:
        print(f'window-fused decoder stages {", ".join(added)} added, as built', flush=True)
    return sorted(missing)


def chosen(model, built: dict, fresh: list, a) -> tuple:
    """Apply --as-built, --scale and --retrain to a model just loaded from --init: returns the names that train at
    the full rate (`fresh` and the --retrain names) and those held at their as-built values (--as-built names)."""
    names = [n for n, _ in model.named_parameters()]

    def matching(prefixes, flag):
        out = []
        for prefix in prefixes:
            hit = [n for n in names if n.startswith(prefix)]
            if not hit:
                sys.exit(f'{flag} {prefix}: no weight of --config {a.config} starts so (e.g. {names[-1]})')
            out += hit
        return sorted(set(out))

    held = matching(a.as_built, '--as-built')
    with torch.no_grad():
        params = dict(model.named_parameters())
        for n in held:
            params[n].copy_(built[n])
        for prefix, factor in a.scale:
            scaled = matching([prefix], '--scale')
            for n in scaled:
                params[n].mul_(factor)
            print(f'scaled by {factor}: {", ".join(scaled)}', flush=True)
    retrained = matching(a.retrain, '--retrain')
    if held or retrained:
        print(f'as built, not trained: {", ".join(held) or "none"}; at the full rate although loaded: '
              f'{", ".join(n for n in retrained if n not in held) or "none"}', flush=True)
    return sorted((set(fresh) | set(retrained)) - set(held)), held


def optimizer(model, lr: float, fresh, lr_kept: float, lr_scale=()):
    """AdamW over the weights that train (requires_grad): those named by an --lr-scale prefix at its factor of the
    schedule's rate, those not in `fresh` (names; None: all are) at lr_kept, the rest at the full rate. Groups are
    made in a fixed order (by factor), so a resumed run rebuilds the same ones."""
    scales = {}
    for n, p in model.named_parameters():
        if not p.requires_grad:
            continue
        f = next((f for prefix, f in lr_scale if n.startswith(prefix)), None)
        if f is None:
            f = 1.0 if fresh is None or n in fresh else lr_kept
        scales.setdefault(f, []).append(p)
    groups = [{'params': scales[f], 'lr_scale': f} for f in sorted(scales, reverse=True)]
    return torch.optim.AdamW(groups, lr=lr, weight_decay=0.01)


def main(argv=None):
    a = parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    ckpt_path = os.path.join(a.out, 'checkpoint.pt')
    log_path = os.path.join(a.out, 'train_log.jsonl')
    cfg = CONFIGS[a.config]
    if a.fuse is not None:
        cfg = dataclasses.replace(cfg, fuse=a.fuse)
    model = FaceStreamNet(cfg)
    built = {k: v.clone() for k, v in model.state_dict().items()}
    fresh, lr_kept = None, 1.0   # parameters --init did not provide, and the rate of the others
    held = []                    # parameters kept as built (--as-built)
    step, seconds = 0, 0.0
    frozen_bn = False
    opt_state = None  # a resumed run's optimizer state, loaded once the optimizer is built
    earlier = []  # phases this run was initialized from: [{'steps', 'minutes'}], for the model card
    resumed = os.path.exists(ckpt_path)
    if resumed:
        ck = torch.load(ckpt_path, map_location='cpu')
        if ck['config'] != cfg.to_json():
            sys.exit(f'{ckpt_path} holds a {ck["config"]} model, not --config {a.config}: use another --out')
        model.load_state_dict(ck['model'])
        fresh, lr_kept, opt_state = ck.get('fresh'), ck.get('lr_kept', 1.0), ck['opt']
        step, seconds = ck['step'], ck['seconds']
        frozen_bn = ck.get('frozen_bn', False)
        earlier = ck.get('earlier', [])
        held = ck.get('held', [])
        print(f'resumed at step {step} ({seconds / 60:.1f} min trained)', flush=True)
    elif a.init and a.init.endswith('.onnx'):
        net, onnx_cfg, meta = load_onnx_weights(a.init)
        fresh, lr_kept = grow(model, net.state_dict(), onnx_cfg.to_json(), cfg, a), a.lr_kept
        # its BatchNorms are folded into the convolutions: they stay frozen from here on, in every later phase
        frozen_bn = True
        t = meta.get('training', {})
        earlier = t.get('earlier_phases', []) + [{'steps': t.get('steps'), 'minutes': t.get('minutes'), 'from': os.path.basename(a.init)}]
        print(f'initialized from {a.init} ({meta["name"]} {meta["version"]})', flush=True)
    elif a.init:
        ck = torch.load(a.init, map_location='cpu')
        fresh, lr_kept = grow(model, ck['model'], ck['config'], cfg, a), a.lr_kept
        frozen_bn = ck.get('frozen_bn', False)
        earlier = ck.get('earlier', []) + [{'steps': ck['step'], 'minutes': round(ck['seconds'] / 60, 1)}]
        print(f'initialized from {a.init} (step {ck["step"]}, {ck["seconds"] / 60:.1f} min trained)', flush=True)
    # a phase that starts from a Face Mesh encoder already trained here keeps it; only a new one is read from TF.js
    init_encoder = (onnx_cfg.encoder if a.init and a.init.endswith('.onnx') else ck['config'].get('encoder')) if a.init and not resumed else None
    if cfg.encoder == 'facemesh' and not resumed and init_encoder != 'facemesh':
        from facelive_model.mediapipe_facemesh import FaceMeshBackbone
        model.backbone.load_state_dict(FaceMeshBackbone.from_tfjs(a.facemesh).state_dict())
        print(f'encoder: MediaPipe Face Mesh stages from {a.facemesh}', flush=True)
    if resumed:
        a.lr_scale = ck.get('lr_scale', [])
    if a.init and not resumed:
        fresh, held = chosen(model, built, fresh, a)
    for n, p in model.named_parameters():
        p.requires_grad_(n not in held)

    opt = optimizer(model, a.lr, fresh, lr_kept, a.lr_scale)
    if opt_state is not None:
        opt.load_state_dict(opt_state)
    train = SynthSequences(a.data)
    train.preload()
    frames = sum(s['frames'] for s in train.seqs)
    print(f'{len(train.seqs)} train sequences, {frames} frames; model {sum(p.numel() for p in model.parameters())} parameters', flush=True)
    val = val_batches(SynthSequences(a.val), cfg, a.clip, a.val_clips) if a.val else []
    it = iter(ClipSampler(train, a.clip, cfg.size, a.seed * 100003 + step, face_free=a.face_free,
                           static=a.static, hold_move=a.hold_move, gray=a.gray))

    def save():
        torch.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'step': step, 'seconds': seconds,
                    'config': cfg.to_json(), 'name': a.config, 'earlier': earlier, 'frozen_bn': frozen_bn,
                    'fresh': fresh, 'lr_kept': lr_kept, 'held': held, 'lr_scale': a.lr_scale}, ckpt_path + '.tmp')
        os.replace(ckpt_path + '.tmp', ckpt_path)
        plot(log_path, os.path.join(a.out, 'loss_curve.png'))

    log = open(log_path, 'a')
    started = time.time() - seconds

    def train_mode():
        model.train()
        if frozen_bn:
            freeze_batchnorm(model)

    train_mode()
    while step < a.steps and (a.minutes <= 0 or time.time() - started < a.minutes * 60):
        img, focal, segment, depth, canon, mask = batch_of(it, a.batch)
        for g in opt.param_groups:
            # the schedule follows whichever budget (steps or minutes) runs out first, so it always anneals
            progress = max(step / a.steps, seconds / (a.minutes * 60) if a.minutes > 0 else 0.0)
            g['lr'] = lr_at(progress, step, a.lr) * g.get('lr_scale', 1.0)  # (checkpoints from before --lr-kept: one group)
        pred = model.forward_clip(img, focal, segment)
        ls = losses(pred, depth.flatten(0, 1), canon.flatten(0, 1), mask.flatten(0, 1), focal.flatten(), a.clip, a.temporal)
        opt.zero_grad()
        ls['total'].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        seconds = time.time() - started
        if step % 20 == 0 or step == 1:
            row = {'kind': 'train', 'step': step, 'minutes': round(seconds / 60, 2), **{k: round(float(v), 5) for k, v in ls.items()}}
            log.write(json.dumps(row) + '\n')
            log.flush()
            print(' '.join(f'{k}={v}' for k, v in row.items() if k != 'kind'), flush=True)
        if step % a.checkpoint_every == 0:
            if val:
                row = {'kind': 'val', 'step': step, 'minutes': round(seconds / 60, 2), **{k: round(v, 5) for k, v in evaluate(model, val, a.clip).items()}}
                train_mode()
                log.write(json.dumps(row) + '\n')
                log.flush()
                print('val', ' '.join(f'{k}={v}' for k, v in row.items() if k != 'kind'), flush=True)
            save()
    if val:
        row = {'kind': 'val', 'step': step, 'minutes': round(seconds / 60, 2), **{k: round(v, 5) for k, v in evaluate(model, val, a.clip).items()}}
        log.write(json.dumps(row) + '\n')
        print('val', ' '.join(f'{k}={v}' for k, v in row.items() if k != 'kind'), flush=True)
    log.close()
    save()
    print(f'done: step {step}, {seconds / 60:.1f} min; checkpoint {ckpt_path}', flush=True)


if __name__ == '__main__':
    main()
