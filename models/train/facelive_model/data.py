"""Clips of consecutive frames from `facelive synth` folders, with crop jitter and photometric augmentation.

A sample is T consecutive frames of one sequence: images [T,3,S,S] in [0,1], focal [T] (pixels of the crop),
segment [T] (a cut starts a new segment: attention must not cross it), and targets: depth [T,1,S,S] metres,
canonical [T,3,S,S] normalized (shared/canonical.ts), mask [T,S,S] part ids.
"""
import json
import math
import os
import random

import numpy as np
import torch
import torch.nn.functional as F

# shared/canonical.ts CANONICAL_NORMALIZATION
CANON_CENTER = np.array([0.0, -0.025, 0.02], dtype=np.float32)
CANON_HALF = 0.17
SURFACE_WITH_CANONICAL = (1, 2, 3, 4, 5)


def read_png_folder(folder: str, count: int) -> np.ndarray:
    """[T,H,W,3] uint8 from rgb/NNNNNN.png, via the png reader that ships with torchvision if present, else PIL."""
    from PIL import Image  # python3-pil, a dependency of python3-matplotlib
    return np.stack([np.asarray(Image.open(os.path.join(folder, f'{i:06d}.png')).convert('RGB')) for i in range(count)])


class SynthSequences:
    """All sequences under one or more `facelive synth --out` folders, memory-mapped."""

    def __init__(self, roots):
        self.seqs = []
        for root in roots:
            manifest = json.load(open(os.path.join(root, 'manifest.json')))
            for s in manifest['sequences']:
                d = os.path.join(root, s['name'])
                cam = json.load(open(os.path.join(d, 'camera.json')))
                seg = np.array([f['segment'] for f in cam['frames']], dtype=np.int64)
                self.seqs.append({
                    'dir': d,
                    'frames': s['frames'],
                    'fx': float(cam['fx']),
                    'segment': seg,
                    'depth': np.load(os.path.join(d, 'depth.npy'), mmap_mode='r'),
                    'canonical': np.load(os.path.join(d, 'canonical.npy'), mmap_mode='r'),
                    'mask': np.load(os.path.join(d, 'mask.npy'), mmap_mode='r'),
                    'landmarks': np.load(os.path.join(d, 'landmarks.npy'), mmap_mode='r'),
                    'rgb': None,
                })
        if not self.seqs:
            raise ValueError(f'no sequences found under {roots}')

    def rgb(self, i):
        s = self.seqs[i]
        if s['rgb'] is None:
            s['rgb'] = read_png_folder(os.path.join(s['dir'], 'rgb'), s['frames'])
        return s['rgb']

    def preload(self):
        for i in range(len(self.seqs)):
            self.rgb(i)


def to_tensors(seqs: SynthSequences, i: int, start: int, t: int):
    s = seqs.seqs[i]
    sl = slice(start, start + t)
    img = torch.from_numpy(np.ascontiguousarray(seqs.rgb(i)[sl])).permute(0, 3, 1, 2).float() / 255.0
    depth = torch.from_numpy(np.array(s['depth'][sl]))[:, None]
    canon = np.ascontiguousarray(s['canonical'][sl])
    mask = torch.from_numpy(np.array(s['mask'][sl])).long()
    has = np.isin(mask.numpy(), SURFACE_WITH_CANONICAL)[..., None]
    canon_n = np.where(has, (canon - CANON_CENTER) / CANON_HALF, 0.0).astype(np.float32)
    canon_t = torch.from_numpy(canon_n).permute(0, 3, 1, 2)
    focal = torch.full((t,), s['fx'])
    segment = torch.from_numpy(s['segment'][sl].copy())
    return img, focal, segment, depth, canon_t, mask


def to_gray(img, rng: random.Random):
    """The clip in grey or a warm sepia tone (old photographs, monochrome and infrared cameras), one tone for all
    its frames."""
    luma = (0.299 * img[:, 0] + 0.587 * img[:, 1] + 0.114 * img[:, 2])[:, None]
    tint = torch.tensor([1.0, 1.0, 1.0]) if rng.random() < 0.5 else torch.tensor([1.0 + rng.uniform(0.05, 0.2), 1.0, 1.0 - rng.uniform(0.1, 0.3)])
    return (luma * tint[None, :, None, None]).clamp(0, 1)


def augment(img, focal, depth, canon, mask, size, rng: random.Random, jitter=True, still=False):
    """Same crop (scale, shift, flip) for every frame of the clip plus a little per-frame jitter, like the
    engine's tracked crop (none for a `still` clip: a static head in a still crop); photometric gain/gamma/colour
    per clip."""
    t, _, h, w = img.shape
    if jitter:
        scale = rng.uniform(0.75, 1.0)
        cx, cy = rng.uniform(-0.12, 0.12), rng.uniform(-0.12, 0.12)
        flip = rng.random() < 0.5
    else:
        scale, cx, cy, flip = 1.0, 0.0, 0.0, False
    theta = torch.zeros(t, 2, 3)
    for k in range(t):
        j = (rng.uniform(-0.015, 0.015), rng.uniform(-0.015, 0.015)) if jitter and not still else (0.0, 0.0)
        theta[k, 0, 0] = scale * (-1 if flip else 1)
        theta[k, 1, 1] = scale
        theta[k, 0, 2] = cx + j[0]
        theta[k, 1, 2] = cy + j[1]
    grid = F.affine_grid(theta, (t, 3, size, size), align_corners=False)
    img = F.grid_sample(img, grid, mode='bilinear', padding_mode='reflection', align_corners=False)
    depth = F.grid_sample(depth, grid, mode='nearest', padding_mode='zeros', align_corners=False)
    canon = F.grid_sample(canon, grid, mode='nearest', padding_mode='zeros', align_corners=False)
    mask = F.grid_sample(mask[:, None].float(), grid, mode='nearest', padding_mode='zeros', align_corners=False)[:, 0].long()
    if flip:
        # mirrored image of a symmetric template: canonical x changes sign (the normalization centre has x = 0)
        canon = canon * torch.tensor([-1.0, 1.0, 1.0])[None, :, None, None]
    # the crop covers `scale` of the frame and is resampled to `size`: its focal length in crop pixels
    focal = focal * (size / (scale * w))
    if jitter:
        gain = torch.tensor([rng.uniform(0.8, 1.2) for _ in range(3)])[None, :, None, None]
        gamma = rng.uniform(0.8, 1.25)
        img = (img.clamp(0, 1) ** gamma * gain * rng.uniform(0.7, 1.3)).clamp(0, 1)
    return img, focal, depth, canon, mask


def face_free_clip(t: int, size: int, focal: float, rng: random.Random):
    """A clip with no face: a smooth colour field, stripes or a flat wall, with sensor noise per frame. Every
    training frame had a face, so the model found faces in grey frames; these teach it the empty answer."""
    g = torch.Generator().manual_seed(rng.randrange(1 << 30))
    kind = rng.randrange(3)
    if kind == 0:    # smooth random field, like an out-of-focus room
        low = torch.rand(1, 3, rng.choice((2, 4, 8)), rng.choice((2, 4, 8)), generator=g)
        base = F.interpolate(low, size=(size, size), mode='bicubic', align_corners=False)[0]
    elif kind == 1:  # stripes or checks at a random angle: blinds, shelves, tiles
        y, x = torch.meshgrid(torch.arange(size).float(), torch.arange(size).float(), indexing='ij')
        a = rng.uniform(0, math.pi)
        wave = torch.sin((x * math.cos(a) + y * math.sin(a)) * rng.uniform(0.05, 0.6))
        c0, c1 = torch.rand(3, 1, 1, generator=g), torch.rand(3, 1, 1, generator=g)
        base = c0 + (c1 - c0) * (wave[None] > 0).float()
    else:            # flat wall, a gradient across it
        c = torch.rand(3, 1, 1, generator=g)
        ramp = torch.linspace(-0.2, 0.2, size)[None, None, :] * rng.uniform(-1, 1)
        base = c + ramp
    sigma = rng.uniform(0.0, 0.06)
    img = (base[None] + sigma * torch.randn(t, 3, size, size, generator=g)).clamp(0, 1)
    zeros = torch.zeros(t, 1, size, size)
    return (img, torch.full((t,), focal), torch.zeros(t, dtype=torch.long), zeros, torch.zeros(t, 3, size, size),
            torch.zeros(t, size, size, dtype=torch.long))


def with_sensor_noise(img, rng: random.Random):
    """Fresh Gaussian noise on every frame, one strength (sigma 0.01-0.05) for the whole clip."""
    g = torch.Generator().manual_seed(rng.randrange(1 << 30))
    sigma = rng.uniform(0.01, 0.05)
    return (img + sigma * torch.randn(img.shape, generator=g)).clamp(0, 1)


def static_clip(img, focal, segment, depth, canon, mask, rng: random.Random):
    """One frame held still for the whole clip, each copy with its own sensor noise: the true change between
    frames is zero, so the temporal term teaches the window to average noise away instead of passing it on
    (the bench's static-head jitter). `augment` then crops every copy alike (`still`)."""
    t = img.shape[0]
    k = rng.randrange(t)
    held = [x[k:k + 1].expand(t, *x.shape[1:]).clone() for x in (img, focal, segment, depth, canon, mask)]
    held[0] = with_sensor_noise(held[0], rng)
    return tuple(held)


def hold_then_move_clip(img, focal, segment, depth, canon, mask, rng: random.Random):
    """The clip's first frame held still for a few frames, then the motion from that frame on, sensor noise on
    every frame alike: a head that rests and then turns. A window that only learned a fixed filter lags at the
    onset; the temporal and per-frame terms teach it to drop frames that no longer match (the 1/2 blend's
    distance term) while static clips teach it to average those that do."""
    t = img.shape[0]
    hold = rng.randrange(2, t - 1)                  # frames of rest; at least two frames of motion follow
    order = [0] * hold + list(range(1, t - hold + 1))
    out = [x[order].clone() for x in (img, focal, segment, depth, canon, mask)]
    out[0] = with_sensor_noise(out[0], rng)
    return tuple(out)


class ClipSampler(torch.utils.data.IterableDataset):
    def __init__(self, seqs: SynthSequences, clip: int, size: int, seed: int, jitter=True, face_free=0.0,
                 static=0.0, hold_move=0.0, gray=0.0):
        self.seqs, self.clip, self.size, self.seed, self.jitter = seqs, clip, size, seed, jitter
        self.face_free, self.static, self.hold_move, self.gray = face_free, static, hold_move, gray

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        rng = random.Random(self.seed + (info.id if info else 0) * 7919)
        while True:
            if self.face_free > 0 and rng.random() < self.face_free:
                yield face_free_clip(self.clip, self.size, self.size / (2 * math.tan(math.radians(30))), rng)
                continue
            i = rng.randrange(len(self.seqs.seqs))
            n = self.seqs.seqs[i]['frames']
            start = rng.randrange(max(1, n - self.clip + 1))
            img, focal, segment, depth, canon, mask = to_tensors(self.seqs, i, start, self.clip)
            # (no draw when neither kind is asked for: earlier phases' clip streams stay as they were)
            kind = rng.random() if self.static > 0 or self.hold_move > 0 else 1.0
            held = kind < self.static + self.hold_move
            if kind < self.static:
                img, focal, segment, depth, canon, mask = static_clip(img, focal, segment, depth, canon, mask, rng)
            elif held:
                img, focal, segment, depth, canon, mask = hold_then_move_clip(img, focal, segment, depth, canon, mask, rng)
            # a resting head in a still crop: the rest must look like rest, as on a static clip
            img, focal, depth, canon, mask = augment(img, focal, depth, canon, mask, self.size, rng, self.jitter, held)
            # (no draw without --gray: earlier phases' clip streams stay as they were)
            if self.gray > 0 and rng.random() < self.gray:
                img = to_gray(img, rng)
            yield img, focal, segment, depth, canon, mask
