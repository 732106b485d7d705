"""``dp-defocus``: one dual-pixel AF region -> signed defocus (depth-of-focus units) and its
log-variance.

A dual-pixel (DP) sensor sees the scene through the left and right halves of the pupil; a
point at defocus ``c`` (signed blur-circle diameter) appears shifted by about ``4c/(3*pi)``
between the two views (geometric half-disk PSFs, DESIGN.md "Physics"). The network reads
that shift, and the blur, from a crop of both views and regresses the signed defocus in
depth-of-focus units (``c / c_max``), as in Abuolaim & Brown, "Defocus deblurring using
dual-pixel data" (ECCV 2020) and Garg et al., "Learning single camera depth estimation
using dual-pixels" (ICCV 2019); the regression head outputs a mean and a log-variance
(heteroscedastic Gaussian, Kendall & Gal, NeurIPS 2017, eq. 8; trained with the beta-NLL of
Seitzer et al., ICLR 2022) so that a policy knows when
to confirm.

Input normalization (:func:`normalize_dp`, shared by training and :mod:`focuslab.models.predict`):
each view is divided by the mean of its own Bayer phase over the crop (removes the CFA's
colour modulation, exposure and the DP vignetting gain; the crops are raw mosaics, see
docs/dataset_format.md), the pair is centred on 1 and divided by the standard deviation of the centred mean
view (contrast normalization), clipped to +-8; a third channel holds ``L - R`` of the
normalized views. The result is ``B x 3 x H x W`` float32.
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import nn

#: Small positive floor for means and standard deviations (views scaled to [0, 1]).
EPS = 1e-4
#: Normalized values are clipped to this magnitude (hot pixels, specular highlights).
CLIP = 8.0
#: The network's raw mean output is multiplied by this (see :class:`Head`).
OUTPUT_SCALE_DOF = 8.0
#: The log-variance output is clamped to this range in :func:`gaussian_nll`.
LOGVAR_RANGE = (-6.0, 10.0)


def _check_bchw(name: str, x: torch.Tensor, channels: int | None = None) -> None:
    if x.ndim != 4 or (channels is not None and x.shape[1] != channels):
        want = f"(B, {channels}, H, W)" if channels is not None else "(B, C, H, W)"
        raise ValueError(f"{name}: expected {want}, got {tuple(x.shape)}")


def phase_mean(x: torch.Tensor) -> torch.Tensor:
    """Mean of each of the four 2 x 2 sampling phases ``(y % 2, x % 2)`` over the last two axes,
    broadcast back to ``x``'s shape: the per-colour-plane mean of a Bayer mosaic whatever its
    pattern, and (nearly) the plain mean of a grey image. ``H`` and ``W`` must be even."""
    *lead, h, w = x.shape
    if h % 2 or w % 2:
        raise ValueError(f"views must have even height and width (Bayer phases), got {h} x {w}")
    ph = x.reshape(*lead, h // 2, 2, w // 2, 2).mean(dim=(-4, -2), keepdim=True)
    return ph.expand(*lead, h // 2, 2, w // 2, 2).reshape(x.shape)


def normalize_pair(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalize two views ``B x H x W`` (or ``B x T x H x W``) jointly: each divided by the mean
    of its own Bayer phase (:func:`phase_mean`: removes the CFA's colour modulation, exposure,
    white balance and the DP vignetting gain), centred on 1, divided by the standard deviation
    of their centred mean, clipped to +-:data:`CLIP`. Scale- and CFA-pattern-invariant."""
    a = a.float()
    b = b.float()
    an = a / phase_mean(a).clamp_min(EPS) - 1.0
    bn = b / phase_mean(b).clamp_min(EPS) - 1.0
    s = (0.5 * (an + bn)).std(dim=(-2, -1), keepdim=True).clamp_min(1e-3)
    return (an / s).clamp(-CLIP, CLIP), (bn / s).clamp(-CLIP, CLIP)


def normalize_dp(left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
    """``B x H x W`` left/right views (black removed, any scale) -> ``B x 3 x H x W`` network
    input ``[L, R, L - R]`` after :func:`normalize_pair`."""
    if left.shape != right.shape or left.ndim != 3:
        raise ValueError(f"left/right: expected two (B, H, W) tensors, got {tuple(left.shape)}, {tuple(right.shape)}")
    ln, rn = normalize_pair(left, right)
    return torch.stack([ln, rn, ln - rn], dim=1)


def conv_block(c_in: int, c_out: int, stride: int, kernel: tuple[int, int] = (3, 3)) -> nn.Sequential:
    """Conv (no bias) -> BatchNorm -> ReLU; padding keeps the size at stride 1."""
    pad = (kernel[0] // 2, kernel[1] // 2)
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=pad, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class DPEncoder(nn.Module):
    """Five conv blocks, one at full resolution with a wide horizontal kernel (the DP shift is
    horizontal), four halving the resolution, then global average pooling: ``B x C x H x W``
    -> ``B x widths[-1]``."""

    def __init__(self, in_channels: int = 3, widths: tuple[int, ...] = (8, 16, 32, 48, 64)) -> None:
        super().__init__()
        layers = [conv_block(in_channels, widths[0], 1, (3, 7))]
        for c_in, c_out in itertools.pairwise(widths):
            layers.append(conv_block(c_in, c_out, 2))
        self.features = nn.Sequential(*layers)
        self.out_features = widths[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x).mean(dim=(2, 3))


def dp_encoder(arch: str, widths, max_shift_px: int = 8, features: int = 8, **correlation) -> nn.Module:
    """The per-frame DP encoder of ``arch``: ``"cnn"`` (:class:`DPEncoder`, ``widths`` five blocks)
    or ``"correlation"`` (:class:`~focuslab.models.dp_correlation.CorrelationEncoder`, ``widths``
    four blocks after the correlation volume). Both take :func:`normalize_dp` output and have
    ``out_features``. ``correlation``: further options of the correlation encoder (``row_bin``,
    ``early_row_stride``, ``aggregate_strides``); none apply to ``"cnn"``."""
    if arch == "cnn":
        if correlation:
            raise ValueError(f"options {sorted(correlation)} apply to arch='correlation' only")
        return DPEncoder(3, tuple(widths))
    if arch == "correlation":
        from focuslab.models.dp_correlation import CorrelationEncoder

        return CorrelationEncoder(features, max_shift_px, tuple(widths), **correlation)
    raise ValueError(f"arch must be 'cnn' or 'correlation', got {arch!r}")


class Head(nn.Module):
    """MLP ``features -> hidden -> 2`` giving ``[mean, log-variance]`` in DoF units; the raw
    outputs are scaled by :data:`OUTPUT_SCALE_DOF` (mean) and shifted by ``2 ln`` of it
    (log-variance), so that the layers work at unit scale while the labels span +-40 DoF."""

    def __init__(self, in_features: int, hidden: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, 2))

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        raw = self.net(f)
        return torch.stack([raw[:, 0] * OUTPUT_SCALE_DOF, raw[:, 1] + 2.0 * math.log(OUTPUT_SCALE_DOF)], dim=1)


class DPDefocusNet(nn.Module):
    """``forward(x)``: ``x`` = :func:`normalize_dp` output ``B x 3 x H x W`` (H, W multiples of 16;
    trained on 64 x 64) -> ``B x 2`` float32: signed defocus (DoF units, positive = subject
    nearer than the focus plane = move to a larger code) and its log-variance.

    ``arch="cnn"``: :class:`DPEncoder` (``widths``: five blocks); ``arch="correlation"``:
    :class:`~focuslab.models.dp_correlation.CorrelationEncoder` (``widths``: four blocks after a
    correlation volume over ``-max_shift_px..max_shift_px`` of ``features`` siamese channels),
    the precise one near focus (docs/learned_models.md)."""

    def __init__(self, widths: tuple[int, ...] = (8, 16, 32, 48, 64), hidden: int = 64, crop_px: int = 64,
                 arch: str = "cnn", max_shift_px: int = 8, features: int = 8, **correlation) -> None:
        super().__init__()
        self.crop_px = int(crop_px)
        self.arch = str(arch)
        self.encoder = dp_encoder(arch, widths, max_shift_px, features, **correlation)
        self.head = Head(self.encoder.out_features, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_bchw("dp-defocus input", x, 3)
        return self.head(self.encoder(x))


def gaussian_nll(pred: torch.Tensor, target: torch.Tensor, *, beta: float = 0.0) -> torch.Tensor:
    """Mean heteroscedastic Gaussian negative log-likelihood (constant dropped),
    ``0.5 * (exp(-s) * (y - mu)^2 + s)`` with ``s`` the predicted log-variance clamped to
    :data:`LOGVAR_RANGE` (Kendall & Gal, NeurIPS 2017, eq. 8). With ``beta > 0`` each
    sample's term is weighted by the (gradient-stopped) variance to the power ``beta``, the
    beta-NLL of Seitzer et al. (ICLR 2022, eq. 5), which keeps the mean learning where the
    plain NLL would explain errors away by a large variance."""
    mu = pred[..., 0]
    s = pred[..., 1].clamp(*LOGVAR_RANGE)
    per = 0.5 * (torch.exp(-s) * (target - mu) ** 2 + s)
    if beta > 0:
        per = per * torch.exp(beta * s).detach()
    return per.mean()
