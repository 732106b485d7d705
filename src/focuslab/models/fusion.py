"""``fusion``: dual-pixel AF region + depth-sensor zones + lens state -> signed defocus
(depth-of-focus units) and its log-variance.

A depth sensor (ToF) gives the subject distance ``u`` directly, so ``1/u`` and the lens
position give the defocus through the camera's factory calibration (code <-> focus
distance); the DP views give it through the phase shift. The network learns both and how to
weigh them (low light: the DP views are noisy; low texture: no phase; a missing or noisy
depth return: trust the DP). Multi-modal AF in the spirit of the hybrid ToF + PDAF systems
of phone cameras; the DP branch is :func:`focuslab.models.dp_defocus.dp_encoder` (``arch`` ``cnn`` or ``correlation``).

Input normalization (:func:`normalize_fusion`): the DP views as
:func:`focuslab.models.dp_defocus.normalize_dp`; the depth zones as seven numbers, independent
of the zone grid: median, max and min inverse distance of the zones with a return
(diopters / 10), median 1-sigma in diopters (``sigma_m / u^2``, / 10), the fraction of zones
with a return, and the lens state ``lens_code / 1024`` and ``10 / codes_per_dof``; plus the
products of the inverse-distance and code features with ``10 / codes_per_dof``, so that the
calibrated map ``defocus_dof ~ (a + b / u - code) / codes_per_dof`` of a VCM lens is linear in
the features. The camera the fusion model was trained on (its code <-> distance map) is part
of what it learned: see its card.
"""

from __future__ import annotations

import torch
from torch import nn

from focuslab.models.dp_defocus import Head, _check_bchw, dp_encoder

#: Number of depth/lens features given by :func:`normalize_fusion`.
N_DEPTH_FEATURES = 10


def normalize_fusion(
    depth_m: torch.Tensor, depth_sigma_m: torch.Tensor, lens_code: torch.Tensor, codes_per_dof: torch.Tensor
) -> torch.Tensor:
    """Depth zones ``B x Zy x Zx`` (NaN = no return), sigma (same shape), codes ``B`` ->
    ``B x 10`` features (see the module docstring)."""
    if depth_m.ndim != 3 or depth_sigma_m.shape != depth_m.shape:
        shapes = f"{tuple(depth_m.shape)}, {tuple(depth_sigma_m.shape)}"
        raise ValueError(f"depth_m/depth_sigma_m: expected (B, Zy, Zx), got {shapes}")
    b = depth_m.shape[0]
    d = depth_m.float().reshape(b, -1)
    sd = depth_sigma_m.float().reshape(b, -1)
    valid = torch.isfinite(d) & (d > 0) & torch.isfinite(sd)
    inv = torch.where(valid, 1.0 / d.clamp_min(1e-3), torch.full_like(d, float("nan")))
    sig_d = torch.where(valid, sd * inv * inv, torch.full_like(d, float("nan")))
    med = torch.nan_to_num(inv.nanmedian(dim=1).values, nan=0.0)
    hi = torch.nan_to_num(torch.where(valid, inv, torch.full_like(d, -1e9)).max(dim=1).values.clamp_min(0.0), nan=0.0)
    lo = torch.where(valid, inv, torch.full_like(d, 1e9)).min(dim=1).values
    lo = torch.where(valid.any(dim=1), lo, torch.zeros_like(lo))
    msig = torch.nan_to_num(sig_d.nanmedian(dim=1).values, nan=0.0)
    frac = valid.float().mean(dim=1)
    code = lens_code.float().reshape(-1) / 1024.0
    icpd = 10.0 / codes_per_dof.float().reshape(-1).clamp_min(1e-3)
    feats = [med / 10, hi / 10, lo / 10, (msig / 10).clamp(max=10.0), frac, code, icpd]
    feats += [med / 10 * icpd, code * icpd, frac * icpd]
    return torch.stack(feats, dim=1).clamp(-100.0, 100.0)


class FusionNet(nn.Module):
    """``forward(x, z)``: ``x`` = :func:`~focuslab.models.dp_defocus.normalize_dp` output
    ``B x 3 x H x W``, ``z`` = :func:`normalize_fusion` output ``B x 10`` -> ``B x 2``: signed
    defocus (DoF) and its log-variance.

    The depth path has a linear skip (``z -> defocus``) beside its MLP, so that the calibrated
    linear map is easy to learn."""

    def __init__(self, widths: tuple[int, ...] = (8, 16, 32, 48, 64), hidden: int = 64, crop_px: int = 64,
                 arch: str = "cnn", max_shift_px: int = 8, features: int = 8, **correlation) -> None:
        super().__init__()
        self.crop_px = int(crop_px)
        self.arch = str(arch)
        self.encoder = dp_encoder(arch, widths, max_shift_px, features, **correlation)
        self.depth = nn.Sequential(nn.Linear(N_DEPTH_FEATURES, 32), nn.ReLU(inplace=True), nn.Linear(32, 32))
        self.skip = nn.Linear(N_DEPTH_FEATURES, 1)
        self.head = Head(self.encoder.out_features + 32 + 1, hidden)

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        _check_bchw("fusion input", x, 3)
        s = self.skip(z)
        out = self.head(torch.cat([self.encoder(x), torch.relu(self.depth(z)), s], dim=1))
        return out + torch.cat([s, torch.zeros_like(s)], dim=1)
