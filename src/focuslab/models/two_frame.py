"""``two-frame``: two frames of the AF region at two known lens positions -> signed defocus of
the first frame (depth-of-focus units) and its log-variance.

For cameras without phase detection: the change of blur between two lens positions tells
both the magnitude and the side of the focus error (depth from defocus, Pentland, PAMI 1987;
the two-step task of Herrmann et al., "Learning to Autofocus", CVPR 2020, sec. 5).

Input normalization (:func:`normalize_two_frame`, shared by training and prediction): the
two frames go through :func:`focuslab.models.dp_defocus.normalize_pair` (each divided by its
mean, centred, divided by the standard deviation of their centred mean) and are stacked with
their difference: ``[f0, f1, f1 - f0]``, ``B x 3 x H x W``. The lens move between them enters
as ``move = (code1 - code0) / codes_per_dof / 10`` (``B x 1``; the move in tens of DoF).
The network outputs the defocus at frame 0; :func:`focuslab.models.predict.two_frame_defocus`
subtracts the move to give the defocus at frame 1.
"""

from __future__ import annotations

import torch
from torch import nn

from focuslab.models.dp_defocus import DPEncoder, Head, _check_bchw, normalize_pair

#: The lens move enters the network divided by this many DoF.
MOVE_SCALE_DOF = 10.0


def normalize_two_frame(
    image0: torch.Tensor, image1: torch.Tensor, code0: torch.Tensor, code1: torch.Tensor, codes_per_dof: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Frames ``B x H x W`` and per-sample codes ``B`` -> ``(x, move)``: ``B x 3 x H x W`` and
    ``B x 1`` (see the module docstring)."""
    if image0.shape != image1.shape or image0.ndim != 3:
        shapes = f"{tuple(image0.shape)}, {tuple(image1.shape)}"
        raise ValueError(f"image0/image1: expected two (B, H, W) tensors, got {shapes}")
    a, b = normalize_pair(image0, image1)
    move = (code1.float() - code0.float()) / codes_per_dof.float().clamp_min(1e-3) / MOVE_SCALE_DOF
    return torch.stack([a, b, b - a], dim=1), move.reshape(-1, 1).clamp(-10.0, 10.0)


class TwoFrameNet(nn.Module):
    """``forward(x, move)`` -> ``B x 2``: defocus of frame 0 (DoF) and its log-variance.

    The move is injected twice: concatenated to the pooled image features, and as a FiLM-like
    gain on them, since the blur change per DoF of lens move is what encodes the side."""

    def __init__(self, widths: tuple[int, ...] = (8, 16, 32, 48, 64), hidden: int = 64, crop_px: int = 64) -> None:
        super().__init__()
        self.crop_px = int(crop_px)
        self.encoder = DPEncoder(3, tuple(widths))
        n = self.encoder.out_features
        self.film = nn.Linear(1, n)
        self.head = Head(n + 1, hidden)

    def forward(self, x: torch.Tensor, move: torch.Tensor) -> torch.Tensor:
        _check_bchw("two-frame input", x, 3)
        f = self.encoder(x)
        f = f * (1.0 + self.film(move))
        return self.head(torch.cat([f, move], dim=1))
