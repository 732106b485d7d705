"""The interface between optics and rendering: a PSF model.

A PSF model turns a *signed* defocus blur-circle diameter (pixels, sign convention of
:mod:`focuslab.optics.focus`: positive when the object is nearer than the focus plane) and a
field position into a sampled point-spread function. The renderer only talks to this
protocol, so geometric, Gaussian, wave-optical, field-dependent and measured PSFs are
interchangeable.

Kernel conventions (every implementation):

* a numpy ``float64`` array, shape ``(k, k)`` (achromatic) or ``(C, k, k)`` (one PSF per
  colour channel), ``k`` odd, centred on index ``(k // 2, k // 2)``;
* rows are +y (down the image), columns +x (right);
* sampled on a grid of ``samples_per_px`` samples per pixel pitch (the renderer's
  supersampled grid), each sample the *integral* of the PSF over that sample's area
  (anti-aliased), so each channel sums to 1;
* :meth:`PsfModel.kernel_pair` returns the dual-pixel (left, right) PSFs, the PSFs of the
  left and right halves of the pupil as weighted by the sub-pixels' angular response; per
  channel ``left.sum() + right.sum()`` equals the fraction of light the two photodiodes
  collect (1 for an ideal split, < 1 with angular vignetting), and left + right equals the
  whole-pupil PSF scaled by that fraction when the response is ideal.

Field position ``field_xy`` is the *relative image position*: pixel offset from the optical
centre divided by the sensor's half-diagonal in pixels, so the corner of the frame is at
radius 1 (the "relative field" of lens design).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class PsfModel(Protocol):
    """What the renderer needs from an optics model."""

    @property
    def name(self) -> str:
        """Short label for reports."""
        ...

    @property
    def field_dependent(self) -> bool:
        """Whether :meth:`kernel` depends on ``field_xy`` (the renderer then blends a grid)."""
        ...

    def kernel(
        self,
        coc_px: float,
        *,
        field_xy: tuple[float, float] = (0.0, 0.0),
        samples_per_px: int = 1,
    ) -> np.ndarray:
        """Whole-pupil PSF for signed blur-circle diameter ``coc_px`` (pixels)."""
        ...

    def kernel_pair(
        self,
        coc_px: float,
        *,
        field_xy: tuple[float, float] = (0.0, 0.0),
        samples_per_px: int = 1,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Dual-pixel (left, right) PSFs for signed blur-circle diameter ``coc_px``."""
        ...
