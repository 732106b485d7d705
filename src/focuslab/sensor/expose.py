"""The sensor's noise chain: mean photons per pixel -> noisy digital raw frame.

Chain (DESIGN.md "Physics", EMVA 1288 linear model), per pixel of colour ``c``::

    mu_e   = QE * response[c] * g(x, y) * photons            g: PRNU gain map (fixed)
    e      = Poisson(mu_e) + Poisson(I_dark * t)              shot + dark-current shot noise
    e      = min(e, full_well)                                photodiode saturation
    v      = e + o(x, y) + N(0, sigma_read^2)                 o: DSNU offset map (fixed), e-
    DN     = clip(round(G K * v + black), 0, 2^bits - 1)      conversion gain K, analogue gain G, ADC

so the temporal variance of a pixel is ``K'^2 sigma_read^2 + K' (mu_DN - mu_dark) + 1/12`` DN^2
with K' = G K (EMVA 1288 Release 4.0, Eq. 9) below saturation.

Analogue gain G (``analog_gain``, 1 to ``spec.max_analog_gain``) amplifies the pixel's signal
before the ADC, as a sensor's gain register does: the system gain becomes G K, the ADC's full
scale falls to (white - black) / (G K) electrons, and the read noise stays ``read_noise_e``
referred to the input (a conservative model: on a real sensor the ADC's share of it shrinks
with G). Its purpose is the quantization of a dark frame: on a 4 x 4-binned preview stream
(K / 16) one DN is 100 e- on the IMX363, far above a dark pixel's shot and read noise, so
without gain a 3-lux frame is a staircase of a few DN whose steps fall differently on the
two dual-pixel views (a phase bias of ~1 DoF was measured, docs/af.md); auto exposure raises
G once the exposure time is capped by the frame rate
(:func:`focuslab.camera.exposure.auto_analog_gain`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from focuslab.errors import InvalidParameterError, check_positive
from focuslab.sensor.cfa import cfa_at_offset, cfa_channel_index
from focuslab.sensor.fpn import fpn_maps
from focuslab.sensor.raw import RawFrame
from focuslab.sensor.spec import SensorSpec


def _check_roi(spec: SensorSpec, roi: Any) -> tuple[int, int, int, int]:
    if roi is None:
        return (0, 0, spec.width_px, spec.height_px)
    try:
        x, y, w, h = (int(v) for v in roi)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"roi must be (x, y, w, h) in pixels, got {roi!r}") from None
    if x < 0 or y < 0 or w < 1 or h < 1 or x + w > spec.width_px or y + h > spec.height_px:
        raise InvalidParameterError(
            f"roi {roi!r} does not fit the {spec.width_px}x{spec.height_px} sensor {spec.name!r}; "
            "use x, y >= 0, w, h >= 1, x + w <= width_px and y + h <= height_px"
        )
    return (x, y, w, h)


def _check_photons(name: str, photons: Any, shape_px: tuple[int, int]) -> np.ndarray:
    arr = np.asarray(photons)
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3) or arr.shape[:2] != shape_px:
        raise InvalidParameterError(
            f"{name} must have shape ({shape_px[0]}, {shape_px[1]}, C) with C = 1 or 3 "
            f"(the roi's height and width), got {arr.shape}"
        )
    if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise InvalidParameterError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        raise InvalidParameterError(f"{name} contains NaN or inf; pass finite mean photon counts")
    if np.any(arr < 0):
        raise InvalidParameterError(f"{name} contains negative values; photon counts must be >= 0")
    return arr


def _pixel_mean_electrons(spec: SensorSpec, photons: np.ndarray, cfa: str) -> np.ndarray:
    """Mean photo-electrons per pixel before PRNU: the CFA picks each pixel's channel."""
    h, w, c = photons.shape
    if spec.is_mono:
        # an unfiltered photodiode collects every band
        return spec.quantum_efficiency * photons.sum(axis=2)
    if c != 3:
        raise InvalidParameterError(
            f"colour sensor {spec.name!r} ({spec.cfa}) needs photons per R, G, B channel (H x W x 3), "
            "got one channel; repeat a grey image over 3 channels"
        )
    idx = cfa_channel_index(cfa, (h, w))
    qe = spec.quantum_efficiency * np.asarray(spec.channel_response, dtype=np.float64)
    picked = np.take_along_axis(photons, idx[..., None].astype(np.intp), axis=2)[..., 0]
    return qe[idx] * picked


def check_analog_gain(spec: SensorSpec, analog_gain: Any) -> float:
    """``analog_gain`` as a float, checked against 1 .. ``spec.max_analog_gain``."""
    g = check_positive("analog_gain", analog_gain)
    if not 1.0 <= g <= spec.max_analog_gain * (1.0 + 1e-9):
        raise InvalidParameterError(
            f"analog_gain {g:g} is outside 1 .. {spec.max_analog_gain:g} (the sensor {spec.name!r}'s "
            "max_analog_gain); use a gain in that range"
        )
    return g


def _digitize(spec: SensorSpec, electrons: np.ndarray, analog_gain: float = 1.0) -> np.ndarray:
    dn = np.rint(electrons * (analog_gain * spec.conversion_gain_dn_per_e) + spec.black_level_dn)
    return np.clip(dn, 0, spec.white_level_dn).astype(np.uint16)


def expose(
    spec: SensorSpec,
    photons: np.ndarray,
    *,
    exposure_s: float,
    seed: int | np.random.Generator | None,
    roi: tuple[int, int, int, int] | None = None,
    left_photons: np.ndarray | None = None,
    right_photons: np.ndarray | None = None,
    analog_gain: float = 1.0,
) -> RawFrame:
    """Expose the sensor to a mean photon image and read it out (the full noise chain).

    Parameters
    ----------
    spec
        The sensor.
    photons
        Mean photons per pixel per channel reaching the pixel during the exposure, ``H x W x C``
        (or ``H x W`` for C = 1), finite and >= 0, over ``roi``. Colour sensors need C = 3
        (R, G, B bands; the CFA picks each pixel's band); a mono sensor sums the bands given.
    exposure_s
        Integration time, seconds (>= 0); sets the dark charge ``I_dark * exposure_s``.
    seed
        Seed or generator of the temporal noise (same seed -> identical bytes). The fixed
        pattern comes from ``spec.fpn_seed`` and does not depend on it.
    roi
        ``(x, y, w, h)`` window of the sensor that ``photons`` covers; None = the full array
        ``(0, 0, width_px, height_px)``.
    left_photons, right_photons
        Dual-pixel only: mean photons reaching the left and right photodiodes (same shape as
        ``photons``). When given, they define the charge of the pixel and ``photons`` is only
        checked for shape (by charge conservation the pixel's signal is left + right).

    Returns
    -------
    RawFrame
        ``data`` ``uint16`` ``h x w``; ``cfa`` is the sensor pattern shifted to the ROI origin;
        ``left``/``right`` are set for a dual-pixel exposure.

    Raises
    ------
    InvalidParameterError
        On NaN/inf/negative photons, a wrong shape, a ROI outside the sensor, one of
        ``left_photons``/``right_photons`` without the other, sub-aperture photons for a
        sensor without dual pixel, or an analogue gain outside 1 to ``spec.max_analog_gain``.

    Notes
    -----
    The chain is the module's equation block (EMVA 1288 Release 4.0, Sec. 4; Janesick,
    *Photon Transfer*, SPIE 2007, Ch. 2). Dual pixel: each photodiode integrates its own
    photons plus half the dark current into half the full well (``FW / 2``; no blooming into
    the neighbour). ``left`` and ``right`` are read separately, each with its own read-noise
    sample and half the pixel's DSNU offset; ``data`` is the charge sum ``e_L + e_R`` binned
    on the floating diffusion and read *once* (one read-noise sample, the full DSNU offset),
    then converted with the same gain K. Hence ``data`` is not ``left + right - black``
    digitally: it has one read noise, not two, and a single quantization.
    """
    if not isinstance(spec, SensorSpec):
        raise InvalidParameterError(f"spec must be a SensorSpec, got {type(spec).__name__}")
    t_s = check_positive("exposure_s", exposure_s, allow_zero=True)
    g_a = check_analog_gain(spec, analog_gain)
    roi_t = _check_roi(spec, roi)
    x, y, w, h = roi_t
    cfa = cfa_at_offset(spec.cfa, x, y)
    ph = _check_photons("photons", photons, (h, w))
    if (left_photons is None) != (right_photons is None):
        raise InvalidParameterError("give both left_photons and right_photons, or neither")
    dual = left_photons is not None
    if dual and not spec.dual_pixel:
        raise InvalidParameterError(
            f"sensor {spec.name!r} has no dual pixel; drop left_photons/right_photons or use a "
            "dual-pixel sensor"
        )
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    gain, offset_e = fpn_maps(spec, roi_t)
    dark_mean_e = spec.dark_current_e_per_s * t_s
    sigma = spec.read_noise_e

    if not dual:
        mu_e = _pixel_mean_electrons(spec, ph, cfa) * gain
        e = rng.poisson(mu_e).astype(np.float64)
        if dark_mean_e > 0:
            e += rng.poisson(dark_mean_e, size=e.shape)
        np.minimum(e, spec.full_well_e, out=e)
        v = e + offset_e + rng.normal(0.0, sigma, size=e.shape) if sigma > 0 else e + offset_e
        return RawFrame(
            data=_digitize(spec, v, g_a),
            black_level_dn=spec.black_level_dn,
            white_level_dn=spec.white_level_dn,
            cfa=cfa,
            exposure_s=t_s,
            roi=roi_t,
            metadata={"sensor": spec.name, "analog_gain": g_a},
        )

    lp = _check_photons("left_photons", left_photons, (h, w))
    rp = _check_photons("right_photons", right_photons, (h, w))
    if lp.shape != ph.shape or rp.shape != ph.shape:
        raise InvalidParameterError(
            f"left_photons {lp.shape} and right_photons {rp.shape} must match photons {ph.shape}"
        )
    half_well = 0.5 * spec.full_well_e
    charges = []
    for sub in (lp, rp):
        e = rng.poisson(_pixel_mean_electrons(spec, sub, cfa) * gain).astype(np.float64)
        if dark_mean_e > 0:
            e += rng.poisson(0.5 * dark_mean_e, size=e.shape)
        charges.append(np.minimum(e, half_well))
    e_left, e_right = charges

    def read(charge: np.ndarray, dsnu_share: float) -> np.ndarray:
        noise = rng.normal(0.0, sigma, size=charge.shape) if sigma > 0 else 0.0
        return _digitize(spec, charge + dsnu_share * offset_e + noise, g_a)

    data = read(e_left + e_right, 1.0)
    left = read(e_left, 0.5)
    right = read(e_right, 0.5)
    return RawFrame(
        data=data,
        black_level_dn=spec.black_level_dn,
        white_level_dn=spec.white_level_dn,
        cfa=cfa,
        exposure_s=t_s,
        roi=roi_t,
        left=left,
        right=right,
        metadata={"sensor": spec.name, "analog_gain": g_a},
    )
