"""A pillbox PsfModel test double, so camera tests do not depend on the optics PSF classes.

Uniform disk of diameter |c| anti-aliased on an 8 x 8 sub-grid per sample; dual-pixel halves
split at x = 0 (left half at -x for c > 0, mirrored for c < 0: docs/architecture.md).
"""

from __future__ import annotations

import math

import numpy as np

SUB = 8


def _disk(coc_px: float, samples_per_px: int):
    d = abs(coc_px) * samples_per_px
    if d < 1e-9:
        one = np.ones((1, 1))
        return one, 0.5 * one, 0.5 * one
    half = math.ceil(d / 2.0 + 0.5)
    k = 2 * half + 1
    t = (np.arange(k * SUB) + 0.5) / SUB - k / 2.0
    yy, xx = np.meshgrid(t, t, indexing="ij")
    inside = (xx**2 + yy**2 <= (d / 2.0) ** 2).astype(float)
    inside = np.maximum(inside, ((np.abs(xx) < 0.5) & (np.abs(yy) < 0.5)).astype(float) * (d < 1.0))
    left_mask = (xx < 0).astype(float) if coc_px > 0 else (xx > 0).astype(float)
    total = inside.sum()

    def pool(a):
        return a.reshape(k, SUB, k, SUB).sum(axis=(1, 3)) / total

    whole = pool(inside)
    left = pool(inside * left_mask)
    return whole, left, whole - left


class PillboxDouble:
    """Geometric (pillbox) PSF with an ideal half-disk dual-pixel split."""

    name = "pillbox-double"
    field_dependent = False

    def kernel(self, coc_px, *, field_xy=(0.0, 0.0), samples_per_px=1):
        return _disk(coc_px, samples_per_px)[0]

    def kernel_pair(self, coc_px, *, field_xy=(0.0, 0.0), samples_per_px=1):
        _, left, right = _disk(coc_px, samples_per_px)
        return left, right
