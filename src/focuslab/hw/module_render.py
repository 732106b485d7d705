"""Capture the qualification chart through a simulated module: one frame or a through-focus series.

The optical image is the light ground minus, for each dark square, its coverage convolved
with the module's wave PSF at that square's centre (linear superposition; the PSF varies
slowly over one 40-px square, so it is held constant over it). The PSF is
:class:`~focuslab.optics.models.FieldDependentPsf` with the blur of the unit's tilted,
back-focus-shifted sensor at the square (:meth:`ModuleDesign.coc_px`) and the field position
measured from the decentred axis (:meth:`ModuleDesign.field_xy`). The chart is rendered at
``samples_per_px`` samples per pixel, convolved with the area-sampled PSF, and box-summed to
pixels (pixel integration), then exposed by the sensor noise chain
(:func:`focuslab.sensor.expose.expose`).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import fftconvolve

from focuslab.errors import InvalidParameterError, UnknownNameError, check_finite, check_positive
from focuslab.hw.module_chart import ChartSquare, chart_squares, square_coverage
from focuslab.hw.module_model import ModuleBuild, ModuleDesign
from focuslab.hw.module_psf import airy_sigma_px, astigmatic_gaussian_kernel
from focuslab.sensor.expose import expose

#: Chart levels (relative radiance): 4:1 contrast (ISO 12233 e-SFR).
CHART_DARK = 0.2
CHART_LIGHT = 0.8
#: Mean signal of the light ground, fraction of the full well (a well-exposed chart).
DEFAULT_EXPOSURE_FRACTION = 0.6
#: PSF models of :func:`optical_image`.
PSF_MODELS = ("wave", "gaussian")


def _kernel(design: ModuleDesign, build: ModuleBuild, lens_um: float, sq: ChartSquare, k: int, psf, model: str):
    x_mm, y_mm = design.pixel_to_sensor_mm(*sq.centre_xy)
    fx, fy = design.field_xy(build, x_mm, y_mm)
    if model == "wave":
        coc = float(design.coc_px(build, lens_um, x_mm, y_mm))
        return psf.kernel(coc, field_xy=(float(fx), float(fy)), samples_per_px=k)[0]
    c_m, c_s = design.fan_blur_px(build, lens_um, x_mm, y_mm)
    sigma0 = airy_sigma_px(design.wavelength_um, design.lens.f_number, design.pixel_pitch_um)
    return astigmatic_gaussian_kernel(float(c_m), float(c_s), math.atan2(float(fy), float(fx)), sigma0_px=sigma0,
                                      samples_per_px=k)


def optical_image(design: ModuleDesign, build: ModuleBuild, lens_um: float, *, samples_per_px: int = 3,
                  psf_model: str = "wave", squares: tuple[ChartSquare, ...] | None = None) -> np.ndarray:
    """Relative irradiance (chart levels 0.2 / 0.8) on the sensor, ``H x W`` float64, pixel-integrated.

    ``psf_model``: ``"wave"`` (the module's :class:`~focuslab.optics.models.FieldDependentPsf`,
    ~50 ms per square) or ``"gaussian"`` (:mod:`focuslab.hw.module_psf`, the same best-focus
    geometry, ~1 ms per square).
    """
    check_finite("lens_um", lens_um)
    k = int(samples_per_px)
    if k < 1:
        raise InvalidParameterError(f"samples_per_px must be >= 1, got {samples_per_px}")
    if psf_model not in PSF_MODELS:
        raise UnknownNameError(f"psf model {psf_model!r} unknown; use one of {', '.join(PSF_MODELS)}")
    h, w = design.sensor.height_px, design.sensor.width_px
    squares = chart_squares(w, h) if squares is None else squares
    psf = design.psf(build) if psf_model == "wave" else None
    image = np.full((h, w), CHART_LIGHT)
    for sq in squares:
        kern = _kernel(design, build, lens_um, sq, k, psf, psf_model)
        kh_px = (kern.shape[0] // 2 + k - 1) // k
        half = int(np.ceil(sq.side_px * 0.7072)) + kh_px + 2
        x0 = max(round(sq.centre_xy[0]) - half, 0)
        y0 = max(round(sq.centre_xy[1]) - half, 0)
        x1 = min(round(sq.centre_xy[0]) + half + 1, w)
        y1 = min(round(sq.centre_xy[1]) + half + 1, h)
        cov = square_coverage(sq, x0, y0, ((y1 - y0) * k, (x1 - x0) * k), k)
        blurred = fftconvolve(cov, kern, mode="same")
        px = blurred.reshape(y1 - y0, k, x1 - x0, k).mean(axis=(1, 3))
        image[y0:y1, x0:x1] -= (CHART_LIGHT - CHART_DARK) * px
    return image


def capture_frame(design: ModuleDesign, build: ModuleBuild, lens_um: float, *, seed: int,
                  exposure_fraction: float = DEFAULT_EXPOSURE_FRACTION, samples_per_px: int = 3,
                  psf_model: str = "wave", sensor=None) -> np.ndarray:
    """A noisy raw frame (``uint16`` DN, black level included) of the chart at lens position ``lens_um``.

    ``sensor`` replaces the design's sensor for the exposure (same size; e.g. a noisier unit).
    """
    frac = check_positive("exposure_fraction", exposure_fraction)
    if frac > 1.0:
        raise InvalidParameterError(f"exposure_fraction must be in (0, 1], got {exposure_fraction}")
    spec = design.sensor if sensor is None else sensor
    irr = optical_image(design, build, lens_um, samples_per_px=samples_per_px, psf_model=psf_model)
    photons = irr / CHART_LIGHT * frac * spec.full_well_e / spec.quantum_efficiency
    return np.asarray(expose(spec, photons, exposure_s=0.01, seed=seed).data)


def through_focus_positions_um(design: ModuleDesign, *, frames: int = 15, step_um: float | None = None) -> np.ndarray:
    """Lens positions of a through-focus series centred on the nominal focus, um.

    Default step: N c_max / 3 (c_max = 2 pixels), i.e. six frames per depth of focus 2 N c_max.
    """
    if isinstance(frames, bool) or not isinstance(frames, int | np.integer) or frames < 3:
        raise InvalidParameterError(f"a through-focus series needs at least 3 frames, got {frames!r}")
    if step_um is None:
        step_um = design.lens.f_number * 2.0 * design.pixel_pitch_um / 3.0
    step = check_positive("step_um", step_um)
    return design.nominal_lens_um + step * (np.arange(frames) - (frames - 1) / 2.0)


def capture_series(design: ModuleDesign, build: ModuleBuild, lens_positions_um, *, seed: int,
                   exposure_fraction: float = DEFAULT_EXPOSURE_FRACTION, samples_per_px: int = 3,
                   psf_model: str = "wave") -> list[np.ndarray]:
    """One raw frame per lens position (frame i uses noise seed ``seed + i``)."""
    return [capture_frame(design, build, float(p), seed=seed + i, exposure_fraction=exposure_fraction,
                          samples_per_px=samples_per_px, psf_model=psf_model)
            for i, p in enumerate(lens_positions_um)]
