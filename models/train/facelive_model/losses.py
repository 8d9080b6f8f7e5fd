"""Training losses. Shapes: predictions and targets are [B*T, C, S, S] with frames of a clip consecutive."""
import torch
import torch.nn.functional as F

CANONICAL_PARTS = (1, 2, 3, 4, 5)
CONF_ALPHA = 0.2  # weight of -log(confidence): keeps confidence from growing without bound
# Part weights for the cross-entropy: eyes, mouth interior and teeth cover 0.3 %, 0.03 % and 0.04 % of training
# pixels (face skin 23 %); unweighted, the model never predicted them. About sqrt(face share / part share), capped.
PART_WEIGHTS = (1.0, 1.0, 1.0, 8.0, 10.0, 10.0, 1.0, 2.0)


def confidence(conf_raw: torch.Tensor) -> torch.Tensor:
    return 1.0 + torch.exp(conf_raw.clamp(max=8.0))


def losses(pred: dict, depth, canon, mask, focal, clip: int, temporal_weight: float = 0.5) -> dict:
    """depth [N,1,S,S] metres (0 = none); canon [N,3,S,S] normalized; mask [N,S,S]; focal [N] crop pixels.
    temporal_weight: how much the temporal term counts in 'total' (stability against lag)."""
    surface = (depth > 0).float()                                              # any surface: depth is defined
    has_canon = torch.zeros_like(mask, dtype=torch.bool)
    for p in CANONICAL_PARTS:
        has_canon |= mask == p
    has_canon = has_canon[:, None].float()

    # depth: L1 on log(depth * 1000 / focal) (scale-aware) + its image gradients (shape)
    target_log = torch.log(depth.clamp(min=1e-4) * 1000.0 / focal[:, None, None, None])
    d_err = (pred['log_depth'] - target_log) * surface
    l_depth = d_err.abs().sum() / surface.sum().clamp(min=1)
    gx = (d_err[..., :, 1:] - d_err[..., :, :-1]).abs() * surface[..., :, 1:] * surface[..., :, :-1]
    gy = (d_err[..., 1:, :] - d_err[..., :-1, :]).abs() * surface[..., 1:, :] * surface[..., :-1, :]
    l_grad = (gx.sum() + gy.sum()) / surface.sum().clamp(min=1)

    # canonical: L1 per pixel, weighted by the predicted confidence (the paper's confidence-weighted loss)
    c = confidence(pred['conf_raw'])
    c_err = (pred['canonical'] - canon).abs().sum(1, keepdim=True)
    l_canon_plain = (c_err * has_canon).sum() / has_canon.sum().clamp(min=1)
    l_conf = ((c * c_err - CONF_ALPHA * torch.log(c)) * has_canon).sum() / has_canon.sum().clamp(min=1)

    # parts
    weights = torch.tensor(PART_WEIGHTS, device=mask.device)[:pred['parts'].shape[1]]
    l_parts = F.cross_entropy(pred['parts'], mask, weight=weights)

    # temporal: predicted frame-to-frame change should match the true change (no flicker, no lag)
    n = depth.shape[0]
    b = n // clip
    l_temp = torch.zeros((), device=depth.device)
    if clip > 1:
        def pairs(x):
            x = x.reshape(b, clip, *x.shape[1:])
            return x[:, 1:], x[:, :-1]
        both = pairs(has_canon)
        valid = both[0] * both[1]
        pc1, pc0 = pairs(pred['canonical'])
        tc1, tc0 = pairs(canon)
        pd1, pd0 = pairs(pred['log_depth'])
        td1, td0 = pairs(target_log)
        l_temp = (((pc1 - pc0) - (tc1 - tc0)).abs().sum(2, keepdim=True) * valid).sum() / valid.sum().clamp(min=1)
        l_temp = l_temp + ((((pd1 - pd0) - (td1 - td0)).abs()) * valid).sum() / valid.sum().clamp(min=1)

    total = l_depth + 0.5 * l_grad + l_conf + 0.2 * l_parts + temporal_weight * l_temp
    return {
        'total': total, 'depth': l_depth, 'depth_grad': l_grad, 'canonical': l_canon_plain,
        'conf': l_conf, 'parts': l_parts, 'temporal': l_temp,
    }
