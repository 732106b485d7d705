"""Test doubles of the PsfModel protocol, so render tests do not depend on focuslab.optics PSFs.

``PillboxDouble``: a uniform disk of diameter |c| (anti-aliased by an 8 x 8 sub-grid per
sample), dual-pixel halves split at x = 0 (left half at -x for c > 0, mirrored for c < 0).
``FieldGaussianDouble``: a Gaussian whose sigma grows with field radius squared (field dependent).
"""

from __future__ import annotations

import math

import numpy as np

SUB = 8


def _disk(coc_px: float, samples_per_px: int):
    d = abs(coc_px) * samples_per_px  # diameter in samples
    if d < 1e-9:
        one = np.ones((1, 1))
        return one, np.zeros((1, 1)), one
    half = math.ceil(d / 2.0 + 0.5)
    k = 2 * half + 1
    t = (np.arange(k * SUB) + 0.5) / SUB - k / 2.0  # sub-sample centres, sample units
    yy, xx = np.meshgrid(t, t, indexing="ij")
    inside = (xx**2 + yy**2 <= (d / 2.0) ** 2).astype(float)
    if d < 1.0:  # smaller than one sample: keep at least the centre
        inside = np.maximum(inside, ((np.abs(xx) < 0.5) & (np.abs(yy) < 0.5)).astype(float))
    left_mask = (xx < 0).astype(float) if coc_px > 0 else (xx > 0).astype(float)
    left_mask = left_mask + 0.5 * (xx == 0)
    total = inside.sum()

    def pool(a):
        return a.reshape(k, SUB, k, SUB).sum(axis=(1, 3)) / total

    whole = pool(inside)
    left = pool(inside * left_mask)
    return whole, left, whole - left


class PillboxDouble:
    """Geometric (pillbox) PSF with ideal half-disk dual-pixel split."""

    name = "pillbox-double"
    field_dependent = False

    def kernel(self, coc_px, *, field_xy=(0.0, 0.0), samples_per_px=1):
        return _disk(coc_px, samples_per_px)[0]

    def kernel_pair(self, coc_px, *, field_xy=(0.0, 0.0), samples_per_px=1):
        _, left, right = _disk(coc_px, samples_per_px)
        return left, right


class FieldGaussianDouble:
    """Gaussian PSF, sigma = |c| / 4 + base + growth * field radius^2 (pixels); field dependent."""

    name = "field-gaussian-double"
    field_dependent = True

    def __init__(self, growth_px: float = 1.0, base_px: float = 0.0) -> None:
        self.growth_px, self.base_px = growth_px, base_px

    def _sigma(self, coc_px, field_xy):
        return abs(coc_px) / 4.0 + self.base_px + self.growth_px * (field_xy[0] ** 2 + field_xy[1] ** 2)

    def kernel(self, coc_px, *, field_xy=(0.0, 0.0), samples_per_px=1):
        sigma = self._sigma(coc_px, field_xy) * samples_per_px
        if sigma < 1e-6:
            return np.ones((1, 1))
        half = math.ceil(4 * sigma)
        x = np.arange(-half, half + 1, dtype=float)
        g = np.exp(-0.5 * (x / sigma) ** 2)
        k = np.outer(g, g)
        return k / k.sum()

    def kernel_pair(self, coc_px, *, field_xy=(0.0, 0.0), samples_per_px=1):
        k = self.kernel(coc_px, field_xy=field_xy, samples_per_px=samples_per_px)
        return 0.5 * k, 0.5 * k
