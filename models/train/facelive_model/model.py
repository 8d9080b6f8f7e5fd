"""FaceStreamNet: a small streaming face transformer (depth + canonical coordinates + confidence + parts).

Path of a frame:
  image [B,3,S,S] -> conv stem (4 stride-2 stages, skips at S/2, S/4, S/8) -> tokens [B,N,C] at S/16
  -> L transformer blocks; each attends over the current frame's tokens and the cached keys/values of up to
     W-1 earlier frames (a sliding window), with a learned embedding of each key's age
  -> U-Net decoder back to S x S -> heads: log-depth, canonical (normalized), confidence, part logits.

Two entry points compute the same thing:
  forward_clip(images [B,T,...])  one joint pass over T frames with a block-causal window mask (training)
  forward_step(image, cache...)   one frame at a time with the key/value cache as tensors (export, live)
"""
from dataclasses import dataclass, asdict
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

NEG = -1.0e4  # additive attention bias for keys a query must not see (exp underflows to exactly 0)


@dataclass
class ModelConfig:
    size: int = 128          # crop side, pixels
    widths: tuple = (16, 32, 64, 128)  # channels of the stem stages; the last is the token dim
    layers: int = 4
    heads: int = 4
    window: int = 8          # frames attended: the current one + window-1 cached
    parts: int = 8           # PartId count (shared/parts.ts)
    mlp_ratio: int = 2

    @property
    def grid(self) -> int:
        return self.size // 16

    @property
    def tokens(self) -> int:
        return self.grid * self.grid

    @property
    def dim(self) -> int:
        return self.widths[-1]

    def to_json(self) -> dict:
        d = asdict(self)
        d['widths'] = list(self.widths)
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


class FaceStreamNet(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        w = cfg.widths
        self.stem = nn.ModuleList([conv_block(3, w[0], 2, convs=1), conv_block(w[0], w[1], 2), conv_block(w[1], w[2], 2)])
        self.to_tokens = nn.Sequential(nn.Conv2d(w[2], w[3], 3, 2, 1), nn.ReLU())
        self.pos = nn.Parameter(torch.zeros(1, cfg.tokens, cfg.dim))
        nn.init.normal_(self.pos, std=0.02)
        self.focal = nn.Linear(1, cfg.dim)
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.layers)])
        self.norm = nn.LayerNorm(cfg.dim)
        self.up = nn.ModuleList([conv_block(w[3] + w[2], w[2]), conv_block(w[2] + w[1], w[1]), conv_block(w[1] + w[0], w[0], convs=1)])
        # full resolution: one light conv over the upsampled features and the image, then a 1x1 projection
        self.head = nn.Sequential(nn.Conv2d(w[0] + 3, w[0], 3, 1, 1), nn.ReLU(), nn.Conv2d(w[0], 5 + cfg.parts, 1))

    # image [B,3,S,S] in [0,1]; focal_px [B]
    def encode(self, image, focal_px):
        x = (image - 0.45) / 0.25
        skips = []
        for s in self.stem:
            x = s(x)
            skips.append(x)
        t = self.to_tokens(x)                                                  # [B,C,g,g]
        b, c, g, _ = t.shape
        t = t.flatten(2).transpose(1, 2) + self.pos                            # [B,N,C]
        # focal relative to the crop size, log: how large a face of known size should look
        t = t + self.focal(torch.log(focal_px / self.cfg.size)[:, None])[:, None]
        return t, skips

    def decode(self, image, tokens, skips):
        b, n, c = tokens.shape
        g = self.cfg.grid
        x = self.norm(tokens).transpose(1, 2).reshape(b, c, g, g)
        for up, skip in zip(self.up, reversed(skips)):
            x = F.interpolate(x, scale_factor=2.0, mode='bilinear', align_corners=False)
            x = up(torch.cat([x, skip], 1))
        x = F.interpolate(x, scale_factor=2.0, mode='bilinear', align_corners=False)
        out = self.head(torch.cat([x, (image - 0.45) / 0.25], 1))              # [B,5+P,S,S]
        return {
            'log_depth': out[:, 0:1] + 1.5,     # log(depth_m * 1000 / focal_px)
            'canonical': out[:, 1:4],           # normalized canonical (shared/canonical.ts)
            'conf_raw': out[:, 4:5],            # confidence = 1 + exp(conf_raw)
            'parts': out[:, 5:],                # part logits
        }

    def forward_step(self, image, focal_px, cache, cache_valid):
        """One frame. cache [L,2,B,W-1,N,C]; cache_valid [B,W-1] (1 valid, 0 empty/reset), oldest first."""
        tokens, skips = self.encode(image, focal_px)
        bias = (1.0 - cache_valid) * NEG
        new_k, new_v = [], []
        for i, blk in enumerate(self.blocks):
            tokens, k, v = blk.step(tokens, cache[i, 0], cache[i, 1], bias)
            new_k.append(torch.cat([cache[i, 0, :, 1:], k[:, None]], 1))
            new_v.append(torch.cat([cache[i, 1, :, 1:], v[:, None]], 1))
        new_cache = torch.stack([torch.stack([k, v]) for k, v in zip(new_k, new_v)])
        new_valid = torch.cat([cache_valid[:, 1:], torch.ones_like(cache_valid[:, :1])], 1)
        return self.decode(image, tokens, skips), new_cache, new_valid

    def empty_cache(self, batch: int = 1, device=None):
        c = self.cfg
        cache = torch.zeros(c.layers, 2, batch, c.window - 1, c.tokens, c.dim, device=device)
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
        return self.decode(flat, x.reshape(b * t, n, c), skips)


CONFIGS = {
    # the shipped model: sized by measurement for <= 10 ms per frame in onnxruntime-node on 2 cores
    'small': ModelConfig(),
    # for the end-to-end training test: trains in about a minute
    'tiny': ModelConfig(size=64, widths=(8, 8, 16, 32), layers=1, heads=2, window=4),
}
