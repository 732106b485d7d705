"""Domain-randomized cameras for dataset generation: lens, sensor, dual-pixel response, actuator.

:func:`sample_camera` draws one :class:`~focuslab.camera.camera.Camera` from a normalized
config (:mod:`focuslab.data.generate_config`) and a ``numpy.random.Generator``, starting
from the config's camera preset and replacing:

* lens: focal length and f-number (uniform in their ranges); with probability
  ``aberration_probability`` a wave-optical PSF (:class:`~focuslab.optics.WavePsf`,
  monochromatic 550 nm) with Zernike spherical, astigmatism and coma coefficients (um RMS,
  uniform in their ranges), else the geometric PSF of the aperture;
* sensor: pixel pitch scaled by ``pitch_scale``, read noise (electrons) uniform;
* dual-pixel angular response (the ``variant``): ``ideal`` (hard half-pupil split),
  ``analytic`` (split softness, crosstalk and a left/right gain ratio - the angular
  vignetting of the sub-pixels - drawn uniformly; the darker side is drawn too), or
  ``pixel4``: :data:`focuslab.optics.PIXEL4_DP_RESPONSE` fitted to the measured Pixel 4
  kernels (its split shift with field set to 0, as in the ``phone_main`` preset: AF
  regions are rendered on axis);
* actuator: lift-off code, slope and quadratic term of the code -> displacement map (its
  non-linearity); the lens's minimum focus distance follows so that the stroke reaches it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from focuslab.camera.camera import Camera
from focuslab.data.generate_config import config_camera
from focuslab.optics import PIXEL4_DP_RESPONSE_ON_AXIS, DualPixelResponse, GeometricPsf, WavePsf, mono_spectrum
from focuslab.optics.focus import lens_displacement_um

#: Share of the actuator's calibrated reach used for the minimum focus distance.
REACH_MARGIN = 0.9


def uniform(rng: np.random.Generator, bounds) -> float:
    """A uniform draw in ``[low, high]`` (``low`` when the range is empty)."""
    lo, hi = float(bounds[0]), float(bounds[1])
    return lo if hi <= lo else float(rng.uniform(lo, hi))


def pick(rng: np.random.Generator, weights) -> int:
    """Index drawn with probabilities proportional to ``weights``."""
    w = np.asarray(weights, dtype=float)
    return int(rng.choice(len(w), p=w / w.sum()))


def dp_response(family: str, cfg: dict, rng: np.random.Generator) -> DualPixelResponse:
    """The dual-pixel response of a variant family (``ideal``, ``analytic``, ``pixel4``)."""
    if family == "ideal":
        return DualPixelResponse()
    if family == "pixel4":
        return PIXEL4_DP_RESPONSE_ON_AXIS
    dpc = cfg["dual_pixel"]
    ratio = uniform(rng, dpc["lr_gain_ratio"])
    dark_right = bool(rng.random() < 0.5)
    return DualPixelResponse(
        split_softness=uniform(rng, dpc["split_softness"]),
        crosstalk=uniform(rng, dpc["crosstalk"]),
        left_gain=1.0 if dark_right else ratio,
        right_gain=ratio if dark_right else 1.0,
    )


def sample_camera(cfg: dict, rng: np.random.Generator) -> tuple[Camera, int]:
    """A randomized camera and the index of its variant in ``list(cfg["variants"])``."""
    base = config_camera(cfg)
    names = list(cfg["variants"])
    vi = pick(rng, [cfg["variants"][n]["weight"] for n in names])
    response = dp_response(cfg["variants"][names[vi]]["family"], cfg, rng)
    lc, sc, ac = cfg["lens"], cfg["sensor"], cfg["actuator"]
    f_mm = uniform(rng, lc["focal_length_mm"])
    n = uniform(rng, lc["f_number"])
    actuator = replace(
        base.actuator,
        start_code=round(uniform(rng, ac["start_code"])),
        slope_um_per_code=uniform(rng, ac["slope_um_per_code"]),
        quadratic_um_per_code2=uniform(rng, ac["quadratic_um_per_code2"]),
    )
    reach_um = REACH_MARGIN * min(float(actuator.displacement_um(actuator.max_code)), actuator.stroke_um)
    min_focus_m = max(base.lens.min_focus_distance_m, (f_mm + f_mm * f_mm / (reach_um * 1e-3)) * 1e-3)
    lens = replace(base.lens, focal_length_mm=f_mm, f_number=n, min_focus_distance_m=min_focus_m)
    assert lens_displacement_um(f_mm, min_focus_m) <= reach_um + 1e-6
    sensor = replace(
        base.sensor,
        pixel_pitch_um=base.sensor.pixel_pitch_um * uniform(rng, sc["pitch_scale"]),
        read_noise_e=uniform(rng, sc["read_noise_e"]),
    )
    stream_pitch_um = sensor.pixel_pitch_um * base.preview_binning
    if rng.random() < lc["aberration_probability"]:
        psf = WavePsf(
            f_number=n,
            pixel_pitch_um=stream_pitch_um,
            spectra=mono_spectrum(0.55),
            zernike_um={
                "spherical": uniform(rng, lc["spherical_um"]),
                "astigmatism_0": uniform(rng, lc["astigmatism_um"]),
                "coma_x": uniform(rng, lc["coma_um"]),
            },
            dp_response=response,
        )
    else:
        psf = GeometricPsf.from_lens(lens, dp_response=response)
    cam = replace(base, lens=lens, sensor=sensor, actuator=actuator, psf=psf, name=f"{base.name}:{names[vi]}")
    return cam, vi
