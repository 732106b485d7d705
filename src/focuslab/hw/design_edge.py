"""The measured route to a design's MTF50: render a slanted edge through the lens, measure its e-SFR.

A near-vertical edge (``angle_deg`` from vertical, dark 0.2 on the left, light 0.8) is drawn on a
grid of ``s`` samples per pixel (each sample the exact fraction of its width on the light side:
an anti-aliased step), convolved with the lens's area-sampled PSF at the field point, and
each ``s x s`` block summed into one pixel (pixel integration, 100 % fill). The pixel image is
measured with the ISO 12233:2023 e-SFR (:func:`focuslab.metrics.sfr.measure_sfr`). The
anti-aliased step adds one sample box, sinc(f / s), to the system MTF (kernel sample box x
step box x block sum = pixel box x one sample box), which is divided out before the MTF50 is
read, so the result estimates the same quantity as
:func:`focuslab.hw.design_figures.system_mtf` along x.

References
----------
ISO 12233:2023, Annex D (e-SFR); P. D. Burns, "Slanted-edge MTF for digital camera and
scanner analysis", Proc. PICS 2000, 135-138.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import fftconvolve

from focuslab.errors import InvalidParameterError
from focuslab.hw.design_figures import samples_per_px
from focuslab.metrics.sfr import measure_sfr
from focuslab.metrics.sfr.figures import crossing_frequency


def render_slanted_edge(kernel: np.ndarray, samples: int, *, size_px: int = 80, angle_deg: float = 5.0,
                        dark: float = 0.2, light: float = 0.8) -> np.ndarray:
    """Pixel image ``size_px x size_px`` of a slanted edge seen through ``kernel`` (sampled at ``samples``/px)."""
    if not 0.0 < abs(angle_deg) < 45.0:
        raise InvalidParameterError(f"angle_deg must be in (-45, 45) and not 0, got {angle_deg!r}")
    k = np.asarray(kernel, dtype=float)
    if k.ndim != 2 or k.shape[0] != k.shape[1] or k.shape[0] % 2 != 1:
        raise InvalidParameterError(f"kernel must be a square odd-sized 2-D array, got shape {k.shape}")
    s = int(samples)
    half = k.shape[0] // 2
    n = size_px * s
    idx = np.arange(-half, n + half)
    y = (idx[:, None] + 0.5) / s
    x = (idx[None, :] + 0.5) / s
    centre = size_px / 2.0
    edge_x = centre + math.tan(math.radians(angle_deg)) * (y - centre)
    frac = np.clip((x - edge_x) * s + 0.5, 0.0, 1.0)  # share of each sample right of the edge
    scene = dark + (light - dark) * frac
    blurred = fftconvolve(scene, k / k.sum(), mode="valid")  # (n, n): the padding absorbs the kernel
    return blurred.reshape(size_px, s, size_px, s).mean(axis=(1, 3))


def edge_mtf50_cpp(model, field_xy=(0.0, 0.0), *, size_px: int = 80, angle_deg: float = 5.0) -> float:
    """MTF50 (cy/px, along x) measured on a slanted edge rendered through ``model`` at ``field_xy``.

    ``model`` is a :class:`~focuslab.optics.models.FieldDependentPsf` (as built by
    :func:`focuslab.hw.design_figures.psf_model`); its first channel is used.
    """
    s = samples_per_px(model)
    kernel = model.kernel(0.0, field_xy=field_xy, samples_per_px=s)[0]
    image = render_slanted_edge(kernel, s, size_px=size_px, angle_deg=angle_deg)
    res = measure_sfr(image)
    f = np.asarray(res.frequencies_cpp, dtype=float)
    sfr = np.asarray(res.sfr, dtype=float) / np.sinc(f / s)
    return crossing_frequency(f, sfr, 0.5)
