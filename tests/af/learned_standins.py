"""Truthful stand-in networks for the learned policies (tests only; the real ones are in focuslab.models).

Each stand-in has the real network's ``forward`` signature and ``crop_px``, and answers the
true signed defocus (DoF) of the fake camera's current lens position, computed from the fake
context's diopter map (D = code q) and the thin lens: d = (D_best - D) A s / c_max. A
``gain`` scales the answer (a biased network) and ``logvar`` sets its uncertainty; ``noise_dof``
adds seeded Gaussian noise of that sigma to each call (a reading that scatters from frame to
frame as pixel noise makes it, so that pooled frames are seen to be independent).
"""

from __future__ import annotations

import torch
from test_hillclimb_fakes import make_context

Q_DPT_PER_CODE = 0.02  # the fake context's factory map (make_context(lens_model=True))


def true_defocus_dof(best_code: float, code: float) -> float:
    """Signed defocus (DoF) of a subject focused at ``best_code`` seen with the lens at ``code``."""
    f_mm, n, coc_um = 4.38, 1.73, 2.8
    dpt = code * Q_DPT_PER_CODE
    s_mm = f_mm / (1.0 - f_mm * dpt / 1000.0)
    return (best_code - code) * Q_DPT_PER_CODE * (f_mm / n) * s_mm / coc_um


def context():
    return make_context(lens_model=True, depth=True)


class _Truth(torch.nn.Module):
    def __init__(self, camera, *, gain: float = 1.0, logvar: float = -4.0, offset: float = 0.0,
                 noise_dof: float = 0.0) -> None:
        super().__init__()
        self.crop_px = 16
        self.hidden = 4
        self.camera, self.gain, self.logvar, self.offset = camera, gain, logvar, offset
        self.noise_dof = noise_dof
        self._rng = torch.Generator().manual_seed(0)
        self.calls = 0

    def answer(self, batch: int, extra: torch.Tensor | float = 0.0) -> torch.Tensor:
        self.calls += 1
        d = self.gain * true_defocus_dof(self.camera.best, self.camera.code) + self.offset
        if self.noise_dof:
            d += self.noise_dof * float(torch.randn(1, generator=self._rng))
        out = torch.tensor([[d, self.logvar]], dtype=torch.float32).repeat(batch, 1)
        out[:, 0] += extra
        return out


class TruthDP(_Truth):
    def forward(self, x):
        return self.answer(x.shape[0])


class TruthTwoFrame(_Truth):
    """Answers the defocus of frame 0: the current defocus plus the move (predict subtracts it)."""

    def forward(self, x, move):
        return self.answer(x.shape[0], 10.0 * move[:, 0] * self.gain)


class TruthFusion(_Truth):
    def forward(self, x, z):
        return self.answer(x.shape[0])


class TruthTemporal(_Truth):
    def forward(self, x, move, h):
        return self.answer(x.shape[0]), h
