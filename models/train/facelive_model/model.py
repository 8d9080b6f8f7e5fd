"""FaceStreamNet: a small streaming face transformer (depth + canonical coordinates + confidence + parts).

Path of a frame:
  image [B,3,S,S] -> conv stem (4 stride-2 stages, skips at S/2, S/4, S/8) -> tokens [B,N,C] at S/16
  -> L transformer blocks; each attends over the current frame's tokens and the cached keys/values of up to
     W-1 earlier frames (a sliding window), with a learned embedding of each key's age
  -> U-Net decoder back to S x S; after its first `fuse` stages (S/8, S/4, S/2) every pixel's features also see
     the same pixel's features in the window's earlier frames (the window reaches the per-frame skip features too):
     attention at S/8 and S/4, a blend towards the window average at S/2
  -> heads: log-depth, canonical (normalized), confidence, part logits.

Two entry points compute the same thing:
  forward_clip(images [B,T,...])  one joint pass over T frames with a block-causal window mask (training)
  forward_step(image, cache...)   one frame at a time with the key/value cache as tensors (export, live)
"""
from dataclasses import dataclass, asdict
import math
from typing import NamedTuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .mediapipe_facemesh import FaceMeshBackbone

NEG = -1.0e4  # additive attention bias for keys a query must not see (exp underflows to exactly 0)


class FusedStage(NamedTuple):
    pixels: int
    channels: int
    key_dim: int
    cached: int        # values the cache holds per pixel and frame
    blend: bool        # PixelWindowBlend (caches the features), else PixelWindowAttention (caches keys and values)


@dataclass
class ModelConfig:
    size: int = 128          # crop side, pixels
    widths: tuple = (16, 32, 64, 128)  # channels of the stem stages; the last is the token dim
    layers: int = 4
    heads: int = 4
    window: int = 8          # frames attended: the current one + window-1 cached
    parts: int = 8           # PartId count (shared/parts.ts)
    mlp_ratio: int = 2
    fuse: int = 0            # decoder stages (coarsest first) whose pixels attend over the window
    # 'conv': the stem trained from scratch on renders; 'facemesh': MediaPipe Face Mesh's first stages (trained on
    # real faces, mediapipe_facemesh.py), the same widths at the same strides (16, 32, 64, 128 at 1/2 .. 1/16)
    encoder: str = 'conv'
    # blendshape weights read from the crop by a branch of their own (ExpressionBranch); 0: none
    expressions: int = 0
    # the expression branch reads the image through a stem of its own (a copy of the conv encoder's stem, trained
    # with the branch) instead of the trunk's encoder features; False: it reads the trunk's (the model until 1.7.0)
    expression_stem: bool = False

    @property
    def grid(self) -> int:
        return self.size // 16

    @property
    def tokens(self) -> int:
        return self.grid * self.grid

    @property
    def dim(self) -> int:
        return self.widths[-1]

    def fuse_shapes(self) -> list:
        """The fused decoder stages, coarsest first; the cache holds what each needs per pixel and frame.
        The 1/8 and 1/4 stages attend with a key and a value as wide as their features. The 1/2 stage has 4x the
        pixels of the 1/4 stage: it caches its features alone and blends towards their window average
        (PixelWindowBlend), its keys computed from the cached features at each step."""
        shapes = []
        for i in range(self.fuse):
            c = self.widths[2 - i]
            shapes.append(FusedStage((self.size // 2 ** (3 - i)) ** 2, c, *((c // 4, c, True) if i == 2 else (c, 2 * c, False))))
        return shapes

    @property
    def cache_layers(self) -> int:
        """First dimension of the cache: a [2,N,C] slot per frame for each transformer layer's keys and values,
        then as many more as the fused stages' keys and values need (FaceStreamNet.forward_step)."""
        half = self.tokens * self.dim
        halves = []
        for p, _, _, d, _ in self.fuse_shapes():
            if (p * d) % (2 * half) or half % d:
                raise ValueError(f'a fused stage of {p} pixels x {d} cached values does not fill whole cache slots of {half} values')
            halves.append(p * d // half)
        return self.layers + sum(halves) // 2

    def to_json(self) -> dict:
        d = asdict(self)
        d['widths'] = list(self.widths)
        if self.encoder == 'conv':
            del d['encoder']   # as every model before the choice existed was described
        if not self.expressions:
            del d['expressions']
        if not self.expression_stem:
            del d['expression_stem']
        return d


def conv_block(cin: int, cout: int, stride: int = 1, convs: int = 2) -> nn.Sequential:
    layers = []
    for i in range(convs):
        layers += [nn.Conv2d(cin if i == 0 else cout, cout, 3, stride if i == 0 else 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
    return nn.Sequential(*layers)


class Block(nn.Module):
    """Pre-norm transformer block whose attention sees the current frame and a window of cached frames."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        c = cfg.dim
        self.heads = cfg.heads
        self.window = cfg.window
        self.norm1 = nn.LayerNorm(c)
        self.qkv = nn.Linear(c, 3 * c)
        self.proj = nn.Linear(c, c)
        self.norm2 = nn.LayerNorm(c)
        self.mlp = nn.Sequential(nn.Linear(c, cfg.mlp_ratio * c), nn.GELU(), nn.Linear(cfg.mlp_ratio * c, c))
        # age 0 = the current frame, age a = a frames ago
        self.age = nn.Parameter(torch.zeros(cfg.window, c))
        nn.init.normal_(self.age, std=0.02)
        self.record = False      # analysis only: keep the last step's attention mass per window slot
        self.mass = None

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        # [..., M, C] -> [..., h, M, dh]
        *lead, m, c = x.shape
        return x.reshape(*lead, m, self.heads, c // self.heads).transpose(-3, -2)

    def step(self, x, cache_k, cache_v, bias):
        """x [B,N,C]; cache_k/v [B,W-1,N,C] (oldest first); bias [B,W-1] (0 valid, NEG invalid)."""
        b, n, c = x.shape
        w1 = cache_k.shape[1]
        q, k, v = self.qkv(self.norm1(x)).chunk(3, dim=-1)
        # keys of slot j (oldest first) are w1-j frames old
        ages = self.age[1:w1 + 1].flip(0)                                      # [W-1, C]
        keys = torch.cat([cache_k + ages[None, :, None, :], (k + self.age[0])[:, None]], dim=1)  # [B,W,N,C]
        vals = torch.cat([cache_v, v[:, None]], dim=1)                                          # [B,W,N,C]
        keys = self._split(keys.reshape(b, (w1 + 1) * n, c))                  # [B,h,W*N,dh]
        vals = self._split(vals.reshape(b, (w1 + 1) * n, c))
        qh = self._split(q)                                                    # [B,h,N,dh]
        logits = qh @ keys.transpose(-1, -2) / math.sqrt(c // self.heads)      # [B,h,N,W*N]
        key_bias = torch.cat([bias, torch.zeros_like(bias[:, :1])], dim=1)     # [B,W]
        key_bias = key_bias[:, :, None].expand(b, w1 + 1, n).reshape(b, 1, 1, (w1 + 1) * n)
        attn = torch.softmax(logits + key_bias, dim=-1)
        if self.record:
            self.mass = attn.reshape(b, self.heads, n, w1 + 1, n).sum(-1).mean((0, 1, 2)).detach()  # [W], oldest first
        out = (attn @ vals).transpose(1, 2).reshape(b, n, c)
        x = x + self.proj(out)
        x = x + self.mlp(self.norm2(x))
        return x, k, v

    def clip(self, x, allowed, age_index):
        """x [B,T,N,C]; allowed [B,T,T] bool (query frame t may see key frame s); age_index [T,T] long."""
        b, t, n, c = x.shape
        q, k, v = self.qkv(self.norm1(x)).chunk(3, dim=-1)                     # [B,T,N,C]
        qh = self._split(q.reshape(b, t * n, c))                               # [B,h,TN,dh]
        kh = self._split(k.reshape(b, t * n, c))
        vh = self._split(v.reshape(b, t * n, c))
        scale = 1.0 / math.sqrt(c // self.heads)
        logits = qh @ kh.transpose(-1, -2)                                     # [B,h,TN,TN]
        # q . (k + age[t-s]) = q.k + q.age[t-s]
        age_h = self._split(self.age[None])[0]                                 # [h,W,dh]
        qa = qh @ age_h.transpose(-1, -2)[None]                                # [B,h,TN,W]
        idx = age_index.repeat_interleave(n, 0).repeat_interleave(n, 1)        # [TN,TN]
        logits = (logits + torch.gather(qa, -1, idx[None, None].expand(b, self.heads, t * n, t * n))) * scale
        bias = torch.where(allowed, 0.0, NEG).repeat_interleave(n, 1).repeat_interleave(n, 2)  # [B,TN,TN]
        attn = torch.softmax(logits + bias[:, None], dim=-1)
        out = (attn @ vh).transpose(1, 2).reshape(b, t, n, c)
        x = x + self.proj(out)
        x = x + self.mlp(self.norm2(x))
        return x


class PixelWindowAttention(nn.Module):
    """Each pixel of a decoder feature map attends to the same pixel of the window's earlier frames.

    The transformer's window reaches only the S/16 tokens; the decoder adds each frame's own skip features, and
    with them that frame's sensor noise (on a static head most of the frame-to-frame jitter was there). Here each
    pixel can average its features over the window where they agree (a still head) and keep its own where they
    differ (motion); whether a trained model makes that choice or applies one fixed filter is measured by
    analysis/window_attention.py (the shipped one: a fixed filter, see the model card). The output projection
    starts at zero, so a model that gains this module starts from the one it had."""

    def __init__(self, c: int, window: int):
        super().__init__()
        self.key_dim = self.value_dim = c
        self.heads = max(1, self.key_dim // 32)
        self.norm = nn.LayerNorm(c)
        self.q = nn.Linear(c, self.key_dim)
        self.kv = nn.Linear(c, self.key_dim + self.value_dim)
        self.out = nn.Linear(self.value_dim, c)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.age = nn.Parameter(torch.zeros(window, self.key_dim))
        nn.init.normal_(self.age, std=0.02)
        self.record = False      # analysis only: keep the last step's attention mass per window slot
        self.mass = None

    def _heads(self, x):
        # [..., D] -> [..., h, D/h]
        return x.reshape(*x.shape[:-1], self.heads, x.shape[-1] // self.heads)

    def step(self, x, cached, bias):
        """x [B,C,H,W] this frame's features; cached [R,B,W-1,P/R,Dk+Dv]: keys and values of the earlier frames
        (oldest first), the pixels in R runs (the cache's layout, see FaceStreamNet.forward_step); bias [B,W-1].
        Returns the fused features and this frame's keys and values [R,B,P/R,Dk+Dv] for the cache.
        Products and sums rather than matrix products: per pixel those are [1,dh] x [dh,W], tiny batched matmuls
        that cost onnxruntime more than the arithmetic. The cached and the current frame's keys and values are
        used where they lie rather than joined (a copy of the stage's whole cache), and the age embedding enters as
        q.age (one product per pixel and slot) rather than added to every cached key."""
        b, c, h, w = x.shape
        r, _, w1, pr, _ = cached.shape
        dk, dv = self.key_dim, self.value_dim
        scale = 1.0 / math.sqrt(dk // self.heads)
        xf = x.flatten(2).transpose(1, 2)                                      # [B,P,C]
        normed = self.norm(xf)
        q = self._heads(self.q(normed) * scale).reshape(b, r, pr, self.heads, -1).transpose(0, 1)  # [R,B,P/R,h,dh]
        kv = self.kv(normed).reshape(b, r, pr, dk + dv).transpose(0, 1)        # [R,B,P/R,Dk+Dv]
        k_old, v_old = cached.split([dk, dv], -1)                              # [R,B,W-1,P/R,*]
        k_now, v_now = kv.split([dk, dv], -1)                                  # [R,B,P/R,*]
        logits = torch.cat([(q[:, :, None] * self._heads(k_old)).sum(-1),
                            (q * self._heads(k_now)).sum(-1)[:, :, None]], 2)  # [R,B,W,P/R,h]
        # slot j is w1-j frames old; the current frame is age 0
        ages = self._heads(torch.cat([self.age[1:w1 + 1].flip(0), self.age[:1]]))  # [W,h,dh]
        logits = logits + torch.einsum('rbphd,whd->rbwph', q, ages)
        key_bias = torch.cat([bias, torch.zeros_like(bias[:, :1])], 1)         # [B,W]
        attn = torch.softmax(logits + key_bias[None, :, :, None, None], dim=2)
        if self.record:
            self.mass = attn.mean((0, 1, 3, 4)).detach()                       # [W], oldest first
        out = (attn[:, :, :w1, ..., None] * self._heads(v_old)).sum(2) + attn[:, :, w1, ..., None] * self._heads(v_now)
        out = out.transpose(0, 1).reshape(b, h * w, dv)                        # [B,P,Dv]
        return (xf + self.out(out)).transpose(1, 2).reshape(b, c, h, w), kv

    def clip(self, x, b, allowed, age_index):
        """x [B*T,C,H,W] (frames of a clip consecutive); allowed [B,T,T]; age_index [T,T]."""
        n, c, h, w = x.shape
        t = n // b
        xf = x.flatten(2).transpose(1, 2).reshape(b, t, h * w, c)              # [B,T,P,C]
        normed = self.norm(xf)
        q = self._heads(self.q(normed)).permute(0, 2, 3, 1, 4)                 # [B,P,h,T,dh]
        k, v = self.kv(normed).split([self.key_dim, self.value_dim], -1)
        k = self._heads(k).permute(0, 2, 3, 1, 4)                              # [B,P,h,S,dh]
        v = self._heads(v).permute(0, 2, 3, 1, 4)
        logits = q @ k.transpose(-1, -2)                                       # [B,P,h,T,S]
        # q . (k + age[t-s]) = q.k + q.age[t-s]
        qa = q @ self._heads(self.age).transpose(0, 1).transpose(-1, -2)       # [B,P,h,T,W]
        idx = age_index[None, None, None].expand(*qa.shape[:3], t, t)
        logits = (logits + torch.gather(qa, -1, idx)) / math.sqrt(self.key_dim // self.heads)
        bias = torch.where(allowed, 0.0, NEG)[:, None, None]                   # [B,1,1,T,S]
        attn = torch.softmax(logits + bias, dim=-1)
        out = attn @ v                                                         # [B,P,h,T,dh]
        out = out.permute(0, 3, 1, 2, 4).reshape(b, t, h * w, self.value_dim)  # [B,T,P,Dv]
        out = xf + self.out(out)
        return out.reshape(n, h * w, c).transpose(1, 2).reshape(n, c, h, w)


class PixelWindowBlend(nn.Module):
    """Each pixel moves its features towards their average over the window's frames, weighted by how alike they
    are: x + mix(sum_s a_s x_s - x), a_s = softmax_s(-|K(x_s - x)|^2 + q(x).age_s).

    With mix = identity and an even attention this is the window mean of the stage's features, which
    analysis/jitter_sources.py found would cut the static-head jitter to 10 % (depth) and 21 % (canonical) of
    window 1. Attention with projected keys and values (the 1.3.0 stage: x + out(sum_s a_s v_s - v_now), 4-dim
    keys, 12-dim values) took depth to 44 % but left canonical at 84 %: what it could correct was a 12-dim view
    of layer-normed features. Here the cache holds the features themselves (as many values per pixel as the
    1.3.0 stage's keys and values), keys are recomputed from them at each step (a 4-dim projection per pixel and
    slot, cheap next to reading the cache), and a pixel whose features changed (motion) can give little weight to
    the earlier frames. mix starts at the identity: the stage starts as the window mean and learns where not to
    average (motion). Started at zero it grew in one direction only (rank 1 after 800 steps: depth jitter 34 % of
    window 1, canonical still 84 %); the gradients of the directions where averaging helps canonical were too weak.
    At window 1 (no cached frame) the stage changes nothing whatever mix is, so a model that gains it keeps its
    window-1 outputs.

    What phase 7 learned with mix free was a fixed filter (the same weights on still and moving heads): its
    distances, ~0.03 at the default initialization next to age logits of ~1, could not move the weights, although
    they do separate pixels that moved from still ones (analysis/blend_sharpness.py: AUC 0.77-0.85). Phase 8 holds
    mix at the identity (train.py --as-built), so that only the weights a_s can trade averaging against lag, and
    starts from phase 7's keys times 6 (--scale), distances 36x larger."""

    def __init__(self, c: int, window: int, key_dim: int):
        super().__init__()
        self.key_dim = key_dim
        self.norm = nn.LayerNorm(c)
        self.q = nn.Linear(c, key_dim)
        self.k = nn.Linear(c, key_dim, bias=False)   # applied to differences: a bias would cancel
        self.mix = nn.Linear(c, c, bias=False)
        nn.init.eye_(self.mix.weight)
        self.age = nn.Parameter(torch.zeros(window, key_dim))
        nn.init.normal_(self.age, std=0.02)
        self.record = False      # analysis only: keep the last step's attention mass per window slot
        self.mass = None

    def step(self, x, cached, bias):
        """x [B,C,H,W] this frame's features; cached [R,B,W-1,P/R,C]: the earlier frames' features (oldest first),
        the pixels in R runs (the cache's layout, see FaceStreamNet.forward_step); bias [B,W-1].
        Returns the blended features and this frame's features [R,B,P/R,C] for the cache."""
        b, c, h, w = x.shape
        r, _, w1, pr, _ = cached.shape
        xf = x.flatten(2).transpose(1, 2)                                      # [B,P,C]
        now = xf.reshape(b, r, pr, c).transpose(0, 1)                          # [R,B,P/R,C]
        q = self.q(self.norm(now))                                             # [R,B,P/R,Dk]
        k_now = self.k(now)
        d_old = ((self.k(cached) - k_now[:, :, None]) ** 2).sum(-1)            # [R,B,W-1,P/R]
        ages = torch.cat([self.age[1:w1 + 1].flip(0), self.age[:1]])           # [W,Dk], oldest first
        logits = torch.einsum('rbpd,wd->rbwp', q, ages) - torch.cat([d_old, torch.zeros_like(d_old[:, :, :1])], 2)
        key_bias = torch.cat([bias, torch.zeros_like(bias[:, :1])], 1)         # [B,W]
        attn = torch.softmax(logits + key_bias[None, :, :, None], dim=2)       # [R,B,W,P/R]
        if self.record:
            self.mass = attn.mean((0, 1, 3)).detach()                          # [W], oldest first
        toward = (attn[:, :, :w1, :, None] * cached).sum(2) - (1.0 - attn[:, :, w1, :, None]) * now
        out = toward.transpose(0, 1).reshape(b, h * w, c)                     # sum_s a_s x_s - x
        return (xf + self.mix(out)).transpose(1, 2).reshape(b, c, h, w), now

    def clip(self, x, b, allowed, age_index):
        """x [B*T,C,H,W] (frames of a clip consecutive); allowed [B,T,T]; age_index [T,T]."""
        n, c, h, w = x.shape
        t = n // b
        xf = x.flatten(2).transpose(1, 2).reshape(b, t, h * w, c).transpose(1, 2)  # [B,P,T,C]
        q = self.q(self.norm(xf))                                              # [B,P,T,Dk]
        k = self.k(xf)
        d = ((k[:, :, :, None] - k[:, :, None]) ** 2).sum(-1)                  # [B,P,T,S]
        qa = q @ self.age.t()                                                  # [B,P,T,W]
        logits = torch.gather(qa, -1, age_index[None, None].expand(b, h * w, t, t)) - d
        attn = torch.softmax(logits + torch.where(allowed, 0.0, NEG)[:, None], dim=-1)
        out = xf + self.mix(attn @ xf - xf)                                    # [B,P,T,C]
        return out.transpose(1, 2).reshape(n, h * w, c).transpose(1, 2).reshape(n, c, h, w)


class ExpressionBranch(nn.Module):
    """Blendshape weights read from the crop: convolutions over the trunk's own encoder features at 1/4 and 1/8 of
    the crop (which already find eyes, lids, lips and teeth: the trunk needs them for its parts and canonical maps),
    down to 8x8, a 1x1 projection and an MLP; sigmoid outputs in [0, 1], in facekit's expression order.

    Why a branch: weights fitted to the predicted canonical maps followed the truth for 2 of 25 shapes (the maps are
    off by about what an expression moves a vertex), and heads on the trunk's tokens or pooled decoder features
    learned next to nothing (the study in models/train/analysis/expression_head_study.py): the canonical map says where a pixel lies
    on the neutral face, which by design ignores the expression; the encoder's features still show it. Trained with
    the trunk frozen, every other output of a trained model stays as it was; it adds about 1 ms per frame.

    With a stem of its own (ModelConfig.expression_stem) it reads the image through a copy of the trunk's conv stem
    trained with it, in case the trunk's features, trained for the canonical maps, have let go of the expression."""

    def __init__(self, outputs: int, skip_widths=(32, 64), stem_widths=None):
        """stem_widths: the widths of a stem of the branch's own, built as FaceStreamNet's conv stem (its weights copied
        from the trunk's before training: train_expression.py --own-stem); None: the branch reads the trunk's."""
        super().__init__()
        c4, c8 = skip_widths
        if stem_widths is not None:
            w = stem_widths
            if (w[1], w[2]) != (c4, c8):
                raise ValueError(f'a stem of widths {w} does not give features of {skip_widths} channels at 1/4 and 1/8')
            self.stem = nn.ModuleList([conv_block(3, w[0], 2, convs=1), conv_block(w[0], w[1], 2), conv_block(w[1], w[2], 2)])
        else:
            self.stem = None
        self.down4 = conv_block(c4, 64, 2)                 # 1/4 -> 1/8
        self.down8 = conv_block(64 + c8, 128, 2)           # 1/8 (with the trunk's own 1/8 features) -> 1/16
        self.project = nn.Sequential(nn.Conv2d(128, 32, 1), nn.ReLU())
        self.mlp = nn.Sequential(nn.Flatten(), nn.Linear(32 * 8 * 8, 256), nn.GELU(), nn.Linear(256, outputs))

    def forward(self, skips, image=None):
        """skips: the trunk encoder's features at 1/2, 1/4, 1/8 (FaceStreamNet.encode); image [B,3,S,S] in [0,1], read
        instead of them when the branch has a stem of its own -> logits [B,outputs]."""
        if self.stem is not None:
            x = (image - 0.45) / 0.25
            skips = []
            for s in self.stem:
                x = s(x)
                skips.append(x)
        x = self.down4(skips[1])
        x = self.down8(torch.cat([x, skips[2]], 1))
        return self.mlp(self.project(x))


class FaceStreamNet(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        w = cfg.widths
        if cfg.encoder == 'facemesh':
            if tuple(w) != (16, 32, 64, 128):
                raise ValueError(f'the facemesh encoder has widths (16, 32, 64, 128), not {w}')
            self.backbone = FaceMeshBackbone()
        elif cfg.encoder == 'conv':
            self.stem = nn.ModuleList([conv_block(3, w[0], 2, convs=1), conv_block(w[0], w[1], 2), conv_block(w[1], w[2], 2)])
            self.to_tokens = nn.Sequential(nn.Conv2d(w[2], w[3], 3, 2, 1), nn.ReLU())
        else:
            raise ValueError(f'encoder must be conv or facemesh, not {cfg.encoder}')
        self.pos = nn.Parameter(torch.zeros(1, cfg.tokens, cfg.dim))
        nn.init.normal_(self.pos, std=0.02)
        self.focal = nn.Linear(1, cfg.dim)
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.layers)])
        self.norm = nn.LayerNorm(cfg.dim)
        self.up = nn.ModuleList([conv_block(w[3] + w[2], w[2]), conv_block(w[2] + w[1], w[1]), conv_block(w[1] + w[0], w[0], convs=1)])
        # full resolution: one light conv over the upsampled features and the image, then a 1x1 projection
        self.head = nn.Sequential(nn.Conv2d(w[0] + 3, w[0], 3, 1, 1), nn.ReLU(), nn.Conv2d(w[0], 5 + cfg.parts, 1))
        self.fuse = nn.ModuleList([PixelWindowBlend(c, cfg.window, dk) if blend else PixelWindowAttention(c, cfg.window)
                                   for _, c, dk, _, blend in cfg.fuse_shapes()])
        if cfg.expression_stem and (cfg.encoder != 'conv' or not cfg.expressions):
            raise ValueError('expression_stem needs the conv encoder and expressions')
        if cfg.expressions:
            self.expression = ExpressionBranch(cfg.expressions, (w[1], w[2]), w[:3] if cfg.expression_stem else None)

    # image [B,3,S,S] in [0,1]; focal_px [B]
    def encode(self, image, focal_px):
        if self.cfg.encoder == 'facemesh':
            skips, t = self.backbone(image)                                    # it takes RGB in [0,1] as it is
        else:
            x = (image - 0.45) / 0.25
            skips = []
            for s in self.stem:
                x = s(x)
                skips.append(x)
            t = self.to_tokens(x)                                              # [B,C,g,g]
        b, c, g, _ = t.shape
        t = t.flatten(2).transpose(1, 2) + self.pos                            # [B,N,C]
        # focal relative to the crop size, log: how large a face of known size should look
        t = t + self.focal(torch.log(focal_px / self.cfg.size)[:, None])[:, None]
        return t, skips

    def decode(self, image, tokens, skips, fuse=None):
        """fuse(i, x) -> x: stage i's features after attending over the window (None: no window)."""
        b, n, c = tokens.shape
        g = self.cfg.grid
        x = self.norm(tokens).transpose(1, 2).reshape(b, c, g, g)
        for i, (up, skip) in enumerate(zip(self.up, reversed(skips))):
            x = F.interpolate(x, scale_factor=2.0, mode='bilinear', align_corners=False)
            x = up(torch.cat([x, skip], 1))
            if fuse is not None and i < len(self.fuse):
                x = fuse(i, x)
        x = F.interpolate(x, scale_factor=2.0, mode='bilinear', align_corners=False)
        out = self.head(torch.cat([x, (image - 0.45) / 0.25], 1))              # [B,5+P,S,S]
        return {
            'log_depth': out[:, 0:1] + 1.5,     # log(depth_m * 1000 / focal_px)
            'canonical': out[:, 1:4],           # normalized canonical (shared/canonical.ts)
            'conf_raw': out[:, 4:5],            # confidence = 1 + exp(conf_raw)
            'parts': out[:, 5:],                # part logits
        }

    def forward_step(self, image, focal_px, cache, cache_valid):
        """One frame. cache [K,2,B,W-1,N,C] (K = cfg.cache_layers); cache_valid [B,W-1] (1 valid, 0 empty/reset),
        oldest first.

        Cache slots 0..L-1 hold each layer's keys and values; then what each fused stage caches, [P,D] per
        frame, takes P*D/(N*C) halves of slots, a run of pixels in each, so that reading them is a reshape and the
        whole cache moves by one frame in a single concatenation (copies of the cache were most of the cost)."""
        L = self.cfg.layers
        tokens, skips = self.encode(image, focal_px)
        bias = (1.0 - cache_valid) * NEG
        this_frame = []                                                        # [2,B,N,C] per slot
        for i, blk in enumerate(self.blocks):
            tokens, k, v = blk.step(tokens, cache[i, 0], cache[i, 1], bias)
            this_frame.append(torch.stack([k, v]))
        _, _, b, w1, n, c = cache.shape
        fuse = None
        if self.fuse:
            cached, start = [], L
            for p, _, _, d, _ in self.cfg.fuse_shapes():
                runs = p * d // (n * c)
                cached.append(cache[start:start + runs // 2].reshape(runs, b, w1, p // runs, d))
                start += runs // 2

            def fuse(i, x):
                fused, kv = self.fuse[i].step(x, cached[i], bias)
                this_frame.extend(kv.reshape(-1, 2, b, n, c).unbind(0))
                return fused

        out = self.decode(image, tokens, skips, fuse)
        if self.cfg.expressions:
            out['expression_logits'] = self.expression(skips, image)
        new_cache = torch.cat([cache[:, :, :, 1:], torch.stack(this_frame)[:, :, :, None]], 3)
        new_valid = torch.cat([cache_valid[:, 1:], torch.ones_like(cache_valid[:, :1])], 1)
        return out, new_cache, new_valid

    def empty_cache(self, batch: int = 1, device=None):
        c = self.cfg
        cache = torch.zeros(c.cache_layers, 2, batch, c.window - 1, c.tokens, c.dim, device=device)
        return cache, torch.zeros(batch, c.window - 1, device=device)

    def forward_clip(self, images, focal_px, segment=None):
        """images [B,T,3,S,S], focal_px [B,T], segment [B,T] long (a cut starts a new segment): outputs [B*T,...]."""
        b, t = images.shape[:2]
        flat = images.flatten(0, 1)
        tokens, skips = self.encode(flat, focal_px.flatten())
        n, c = tokens.shape[1:]
        x = tokens.reshape(b, t, n, c)
        ti = torch.arange(t, device=images.device)
        age = ti[:, None] - ti[None, :]                                        # query t, key s: t - s
        allowed = (age >= 0) & (age < self.cfg.window)
        allowed = allowed[None].expand(b, t, t)
        if segment is not None:
            allowed = allowed & (segment[:, :, None] == segment[:, None, :])
        age_index = age.clamp(0, self.cfg.window - 1)
        for blk in self.blocks:
            x = blk.clip(x, allowed, age_index)
        out = self.decode(flat, x.reshape(b * t, n, c), skips, lambda i, f: self.fuse[i].clip(f, b, allowed, age_index))
        if self.cfg.expressions:
            out['expression_logits'] = self.expression(skips, flat)
        return out


CONFIGS = {
    # the model until 1.6.0: sized by measurement for <= 10 ms per frame in onnxruntime-node on 2 cores
    'small': ModelConfig(fuse=3),
    # the same with MediaPipe Face Mesh's first stages as its encoder (pretrained on real faces)
    'small-fm': ModelConfig(fuse=3, encoder='facemesh'),
    # 'small' with the expression branch (57 facekit blendshape weights)
    'small-expr': ModelConfig(fuse=3, expressions=57),
    # the same, the branch reading the image through a stem of its own
    'small-expr-stem': ModelConfig(fuse=3, expressions=57, expression_stem=True),
    # for the end-to-end training test: trains in about a minute
    'tiny': ModelConfig(size=64, widths=(8, 8, 16, 32), layers=1, heads=2, window=4, fuse=3),
    # the same with the facemesh encoder (its widths are fixed), for the end-to-end test of that path
    'tiny-fm': ModelConfig(size=64, widths=(16, 32, 64, 128), layers=1, heads=2, window=4, fuse=3, encoder='facemesh'),
}
