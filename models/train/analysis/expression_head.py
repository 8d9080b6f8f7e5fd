"""A small expression head on FaceStreamNet's frozen features: the 57 blendshape weights of the face in the crop.

Why a head: the engine fits the weights to the predicted canonical maps, and that fit is poor (most shapes barely
move the canonical coordinates a 0.9 M-parameter model gets right). The transformer's final tokens already see
the whole face and the window of earlier frames, so a light readout of them may do better, at almost no cost per
frame. The trunk stays frozen: its depth, canonical, confidence and part outputs must not move.

What the head reads (FeatureTap collects it during a normal forward pass, nothing in the trunk changes):
  tokens  [B,64,128]   the last transformer block's output (the input of the decoder's LayerNorm), 8x8 tokens
  dec8    [B,64,8,8]   the decoder's 1/8 stage after its window attention, 2x2 average-pooled to the token grid
  dec4    [B,32,8,8]   the decoder's 1/4 stage after its window attention, 4x4 average-pooled to the token grid
  canon   [B,58,16,16] the decoder's 1/4 and 1/2 stages, part probabilities and canonical depth, averaged into a
                       grid over the canonical frame's x, y by the trunk's own canonical map (splat_canonical)
The decoder stages carry finer detail (eyelids, lip corners) that the 16-pixel tokens may have averaged away, and
they have already been averaged over the window per pixel.

Layout of the head: per token LayerNorm -> 1x1 projection to a few channels (each token keeps its place: where
on the face a change happens says which shape it is) -> flatten -> MLP -> 57 sigmoids (weights live in [0, 1]).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F



def mirror_permutation(names) -> list:
    """Index of each shape's mirror image: a crop flipped left-right (data.augment's `flip`) shows the face's left
    side on the right, so its targets swap _L with _R and jawLeft/mouthLeft with jawRight/mouthRight."""
    def mirror(n):
        for a, b in (('_L', '_R'), ('_R', '_L'), ('Left', 'Right'), ('Right', 'Left')):
            if n.endswith(a):
                return n[:-len(a)] + b
        return n
    return [names.index(mirror(n)) for n in names]


class FeatureTap:
    """Collects the head's inputs while FaceStreamNet runs (forward_clip or forward_step), without changing it.

    The tokens are the input of `net.norm` (the decoder's first operation on them): a forward pre-hook. The
    fused decoder stages are called as methods (`clip`, `step`), not as modules, so hooks do not see them; their
    instance attributes are wrapped while the tap is open and restored on close."""

    def __init__(self, net, stages=(0, 1)):
        self.net, self.stages, self.got = net, stages, {}
        self._restore = []

    def __enter__(self):
        self.got = {}
        h = self.net.norm.register_forward_pre_hook(lambda m, args: self.got.__setitem__('tokens', args[0]))
        self._restore.append(h.remove)
        for i in self.stages:
            mod = self.net.fuse[i]
            for name in ('clip', 'step'):
                orig = getattr(mod, name)

                def wrapped(*args, _orig=orig, _i=i, _name=name):
                    out = _orig(*args)
                    # step returns (features, what to cache); clip the features
                    self.got[f'stage{_i}'] = out[0] if _name == 'step' else out
                    return out
                setattr(mod, name, wrapped)
                self._restore.append(lambda mod=mod, name=name: delattr(mod, name))
        return self

    def __exit__(self, *exc):
        for undo in reversed(self._restore):
            undo()
        self._restore = []

    def features(self, outputs=None) -> dict:
        """The head's inputs for the frames of the last pass, decoder stages pooled to the token grid; with the
        pass's `outputs` also `canon`, the decoder's features gathered in the canonical frame (splat_canonical)."""
        tokens = self.got['tokens']
        g = int(round(tokens.shape[1] ** 0.5))
        out = {'tokens': tokens}
        for i, key in zip(self.stages, ('dec8', 'dec4')):
            f = self.got[f'stage{i}']
            out[key] = F.adaptive_avg_pool2d(f, g)
        if outputs is not None:
            parts = torch.softmax(outputs['parts'], 1)
            full = torch.cat([parts, outputs['canonical'][:, 2:3]], 1)     # part probabilities, canonical depth
            maps = [self.got[f'stage{i}'] for i in self.stages if self.got[f'stage{i}'].shape[-1] >= 32] + [full]
            out['canon'] = splat_canonical(maps, outputs['canonical'], parts)
        return out


# canonical x, y (normalized, shared/canonical.ts) covered by the splat grid: the face's front, brow to chin
SPLAT_X = (-0.6, 0.6)
SPLAT_Y = (-0.75, 0.85)
FACE_PARTS = (1, 3, 4, 5)    # face skin, eyes, mouth interior, teeth: the parts whose canonical coordinates mean a place


def splat_canonical(maps, canonical, parts, grid=16):
    """Per-pixel features averaged into a grid over the canonical frame's x, y: [B, sum(C)+1, grid, grid].

    The face moves in the crop (shift, scale, head pose), so a fixed readout of image positions sees the mouth
    in one cell in one frame and in another the next; the trunk's own canonical map says which point of the face
    each pixel shows, so features gathered by canonical position stay put whatever the pose. Each map is read
    at its own resolution (the canonical map and the face probability average-pooled to it); the last channel
    is the share of the face's pixels that fell in the cell (visibility)."""
    b = canonical.shape[0]
    face = parts[:, list(FACE_PARTS)].sum(1, keepdim=True)                  # [B,1,S,S]
    chans = []
    for m in maps:
        k = canonical.shape[-1] // m.shape[-1]
        c = F.avg_pool2d(canonical, k) if k > 1 else canonical
        w = (F.avg_pool2d(face, k) if k > 1 else face).flatten(1)          # [B,P] soft face weight
        ix = ((c[:, 0] - SPLAT_X[0]) / (SPLAT_X[1] - SPLAT_X[0]) * grid).floor().long().flatten(1)
        iy = ((c[:, 1] - SPLAT_Y[0]) / (SPLAT_Y[1] - SPLAT_Y[0]) * grid).floor().long().flatten(1)
        inside = (ix >= 0) & (ix < grid) & (iy >= 0) & (iy < grid)
        w = w * inside
        idx = (iy.clamp(0, grid - 1) * grid + ix.clamp(0, grid - 1))        # [B,P]
        total = torch.zeros(b, grid * grid).scatter_add_(1, idx, w)         # [B,G*G]
        f = m.flatten(2)                                                    # [B,C,P]
        sums = torch.zeros(b, f.shape[1], grid * grid).scatter_add_(2, idx[:, None].expand_as(f), f * w[:, None])
        chans.append(sums / total[:, None].clamp_min(1e-3))
    chans.append((total / total.sum(1, keepdim=True).clamp_min(1e-3))[:, None] * grid * grid)
    return torch.cat(chans, 1).reshape(b, -1, grid, grid)


class ExpressionHead(nn.Module):
    """Blendshape weights [B,57] in [0, 1] from the frozen trunk's features (see the module docstring).

    inputs: which features it reads, any of
      'tokens'  the 64 final transformer tokens, each keeping its grid place
      'dec'     the decoder's 1/8 and 1/4 stages pooled to the same 8x8 grid, joined to the tokens per cell
      'canon'   the decoder's 1/4 and 1/2 stages, part probabilities and canonical depth gathered in a 16x16 grid
                over the canonical frame (splat_canonical): cells that follow the face whatever its pose
    Each grid (tokens/dec: 8x8, canon: 16x16) goes through a per-cell LayerNorm and a 1x1 projection to `proj`
    channels (shared by the cells: few parameters before the flatten), then the cells are flattened and joined:
    a cell's place says where on the face a change happens, and that says which shape it is. MLP -> sigmoids."""

    def __init__(self, inputs=('tokens', 'dec'), proj=16, hidden=256, outputs=57, dropout=0.1,
                 token_dim=128, decoder_dims=(64, 32), tokens=64, canon_dim=58, canon_cells=256):
        super().__init__()
        self.inputs = tuple(inputs)
        width = 0
        if 'tokens' in self.inputs or 'dec' in self.inputs:
            dim = (token_dim if 'tokens' in self.inputs else 0) + (sum(decoder_dims) if 'dec' in self.inputs else 0)
            # per-cell normalization: the token and decoder features have different scales
            self.grid_norm, self.grid_proj = nn.LayerNorm(dim), nn.Linear(dim, proj)
            width += tokens * proj
        if 'canon' in self.inputs:
            self.canon_norm, self.canon_proj = nn.LayerNorm(canon_dim), nn.Linear(canon_dim, proj)
            width += canon_cells * proj
        self.mlp = nn.Sequential(
            nn.GELU(), nn.Dropout(dropout),
            nn.Linear(width, hidden), nn.GELU(), nn.Dropout(dropout),
            nn.Linear(hidden, outputs))
        # start near the data's prior: most shapes are 0 most of the time (sigmoid(-3) = 0.05)
        nn.init.constant_(self.mlp[-1].bias, -3.0)

    def forward(self, tokens=None, dec8=None, dec4=None, canon=None):
        parts = []
        if 'tokens' in self.inputs or 'dec' in self.inputs:
            x = [tokens.float()] if 'tokens' in self.inputs else []                      # [B,N,C]
            if 'dec' in self.inputs:
                x += [f.float().flatten(2).transpose(1, 2) for f in (dec8, dec4)]        # [B,N,c] each
            parts.append(self.grid_proj(self.grid_norm(torch.cat(x, -1))).flatten(1))
        if 'canon' in self.inputs:
            c = canon.float().flatten(2).transpose(1, 2)                                # [B,cells,58]
            parts.append(self.canon_proj(self.canon_norm(c)).flatten(1))
        return torch.sigmoid(self.mlp(torch.cat(parts, 1)))                            # [B,57]
