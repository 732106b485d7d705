"""``temporal``: a recurrent cell over per-frame dual-pixel features for video AF.

Per frame: the DP AF region (normalized as :func:`focuslab.models.dp_defocus.normalize_dp`)
is encoded by the per-frame encoder of ``dp-defocus`` (:func:`~focuslab.models.dp_defocus.dp_encoder`:
``arch="cnn"`` or ``"correlation"``, the same options and, with ``init_encoder`` in the training
config, the same trained weights); a GRU cell (Cho et al.,
EMNLP 2014) integrates the features over time together with the lens move since the previous
frame, and the head outputs the current frame's signed defocus (DoF units) and its
log-variance. The state is an explicit input and output (``forward(x, move, h) -> (out,
h_new)``) so that the cell exports to ONNX as a single step; the caller
(:class:`focuslab.models.predict.TemporalTracker`) carries ``h`` from frame to frame, starting
from zeros.

Training (:mod:`focuslab.train`) unrolls the cell over the video samples' ``T`` frames with
a Gaussian NLL per frame plus a penalty on the second difference of the implied target
(``lens_code / codes_per_dof + defocus``, DoF units): a target that does not jitter keeps the
lens from hunting and limits jerk.

Auxiliary input ``move`` (``B x 2``): ``[(code_t - code_{t-1}) / codes_per_dof / 10, started]``
where ``started`` is 0 at the first frame (no previous frame) and 1 after.
"""

from __future__ import annotations

import torch
from torch import nn

from focuslab.models.dp_defocus import Head, _check_bchw, dp_encoder

#: Lens moves enter the cell divided by this many DoF.
MOVE_SCALE_DOF = 10.0


def normalize_move(code_now: torch.Tensor, code_prev: torch.Tensor | None, codes_per_dof: torch.Tensor) -> torch.Tensor:
    """``B`` codes -> ``B x 2`` auxiliary input ``[move / 10 DoF, started]`` (see module doc)."""
    cpd = codes_per_dof.float().reshape(-1).clamp_min(1e-3)
    if code_prev is None:
        z = torch.zeros_like(cpd)
        return torch.stack([z, z], dim=1)
    move = ((code_now.float().reshape(-1) - code_prev.float().reshape(-1)) / cpd / MOVE_SCALE_DOF).clamp(-10.0, 10.0)
    return torch.stack([move, torch.ones_like(move)], dim=1)


class TemporalNet(nn.Module):
    """One step: ``forward(x, move, h)`` with ``x`` ``B x 3 x H x W``, ``move`` ``B x 2``, ``h``
    ``B x hidden`` -> ``(out B x 2, h_new B x hidden)``."""

    def __init__(
        self, widths: tuple[int, ...] = (8, 16, 32, 48, 64), hidden: int = 48, head_hidden: int = 64, crop_px: int = 64,
        arch: str = "cnn", max_shift_px: int = 8, features: int = 8, **correlation,
    ) -> None:
        super().__init__()
        self.crop_px = int(crop_px)
        self.hidden = int(hidden)
        self.arch = str(arch)
        self.encoder = dp_encoder(arch, widths, max_shift_px, features, **correlation)
        n = self.encoder.out_features
        self.cell = nn.GRUCell(n + 2, self.hidden)
        self.head = Head(n + self.hidden + 2, head_hidden)

    def initial_state(self, batch: int) -> torch.Tensor:
        """Zero state ``batch x hidden``."""
        return torch.zeros(batch, self.hidden)

    def forward(self, x: torch.Tensor, move: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        _check_bchw("temporal input", x, 3)
        f = self.encoder(x)
        h_new = self.cell(torch.cat([f, move], dim=1), h)
        return self.head(torch.cat([f, h_new, move], dim=1)), h_new
