"""Simulated EMVA 1288 series from a :class:`~focuslab.sensor.spec.SensorSpec` (known truth).

The series follows the standard's exposure-time variation at constant irradiance (EMVA 1288
R4.0 Sec. 6.3): ``n_steps`` equally spaced exposure times up to the one that drives the least
sensitive channel ``overdrive`` times past saturation, a pair of flat frames and a pair of dark
frames at every exposure, and one step near 50 % saturation with ``spatial_frames`` flats
and darks for the spatial nonuniformity (R4.0 Sec. 8). Every frame goes through the full noise
chain :func:`focuslab.sensor.expose.expose` (Poisson shot noise, dark current, read noise,
PRNU/DSNU, full well, gain, ADC). Same seed -> identical frames.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from focuslab.errors import InvalidParameterError, check_positive
from focuslab.files import ensure_dir, write_json_atomic
from focuslab.hw.emva_series import SERIES_FILE, SERIES_FORMAT, StepKey
from focuslab.sensor.expose import expose
from focuslab.sensor.spec import SensorSpec


@dataclass(frozen=True)
class SeriesDesign:
    """What to capture: steps, frames per step, exposure range and frame size.

    Parameters
    ----------
    width_px, height_px
        Size of the simulated window (the sensor's top-left corner), pixels; even for a CFA.
    n_steps
        Number of flat (and dark) exposure steps (the standard recommends >= 50).
    frames_per_step
        Frames per step for the photon transfer (>= 2).
    spatial_frames
        Frames of the spatial-nonuniformity step (near 50 % saturation), >= 2.
    max_exposure_s
        Longest exposure, seconds; the irradiance is set so that it reaches ``overdrive`` x
        saturation in the least sensitive channel.
    overdrive
        Signal of the last step over the saturation capacity (> 1, so saturation is seen).
    """

    width_px: int = 128
    height_px: int = 128
    n_steps: int = 50
    frames_per_step: int = 2
    spatial_frames: int = 16
    max_exposure_s: float = 0.1
    overdrive: float = 1.25

    def __post_init__(self) -> None:
        for name in ("width_px", "height_px", "n_steps", "frames_per_step", "spatial_frames"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InvalidParameterError(f"{name} must be an integer >= 1, got {v!r}")
        if self.frames_per_step < 2 or self.spatial_frames < 2:
            raise InvalidParameterError("frames_per_step and spatial_frames must be >= 2 (EMVA 1288 uses pairs)")
        if self.n_steps < 6:
            raise InvalidParameterError(f"n_steps must be >= 6 (50 recommended), got {self.n_steps}")
        check_positive("max_exposure_s", self.max_exposure_s)
        if check_positive("overdrive", self.overdrive) <= 1.0:
            raise InvalidParameterError(f"overdrive must be > 1 to reach saturation, got {self.overdrive}")


def _check_fit(spec: SensorSpec, design: SeriesDesign) -> None:
    if design.width_px > spec.width_px or design.height_px > spec.height_px:
        raise InvalidParameterError(
            f"{design.width_px}x{design.height_px} does not fit the {spec.width_px}x{spec.height_px} sensor "
            f"{spec.name!r}; choose a smaller window"
        )
    if not spec.is_mono and (design.width_px % 2 or design.height_px % 2):
        raise InvalidParameterError("width_px and height_px must be even for a Bayer sensor")


def photons_per_second(spec: SensorSpec, design: SeriesDesign) -> float:
    """Photon rate per pixel (photons/s) that drives the least sensitive channel to ``overdrive`` x saturation."""
    resp = 1.0 if spec.is_mono else min(spec.channel_response)
    return design.overdrive * spec.saturation_e / (spec.quantum_efficiency * resp * design.max_exposure_s)


def series_plan(spec: SensorSpec, design: SeriesDesign) -> dict[StepKey, int]:
    """The steps of the simulated series and their frame counts (darks and flats)."""
    _check_fit(spec, design)
    rate = photons_per_second(spec, design)
    resp = 1.0 if spec.is_mono else max(spec.channel_response)
    plan: dict[StepKey, int] = {}
    times = [design.max_exposure_s * (i + 1) / design.n_steps for i in range(design.n_steps)]
    # spatial step: the most sensitive channel nearest 50 % of saturation
    half_t = 0.5 * spec.saturation_e / (spec.quantum_efficiency * resp * rate)
    spatial = min(range(len(times)), key=lambda i: abs(times[i] - half_t))
    for i, t in enumerate(times):
        n = design.spatial_frames if i == spatial else design.frames_per_step
        plan[StepKey("dark", t, None)] = n
        plan[StepKey("flat", t, rate * t)] = n
    return plan


def simulate_frames(spec: SensorSpec, design: SeriesDesign, *, seed: int) -> Iterator[tuple[StepKey, np.ndarray]]:
    """Yield ``(step, uint16 frame)`` for the series of :func:`series_plan`, one frame at a time."""
    rng = np.random.default_rng(seed)
    h, w = design.height_px, design.width_px
    roi = (0, 0, w, h)
    for key, n in series_plan(spec, design).items():
        ph = key.irradiance_photons_per_pixel or 0.0
        photons = np.full((h, w) if spec.is_mono else (h, w, 3), ph, dtype=np.float64)
        for _ in range(n):
            yield key, expose(spec, photons, exposure_s=key.exposure_s, seed=rng, roi=roi).data


def series_truth(spec: SensorSpec) -> dict[str, float]:
    """The sensor's own EMVA figures (what a characterization must give back)."""
    return {
        "system_gain_dn_per_e": spec.conversion_gain_dn_per_e,
        "temporal_dark_noise_e": spec.read_noise_e,
        "saturation_capacity_e": spec.saturation_e,
        "dsnu_e": spec.dsnu_e,
        "prnu_percent": 100.0 * spec.prnu_fraction,
        "dark_current_e_per_s": spec.dark_current_e_per_s,
        "quantum_efficiency": spec.quantum_efficiency,
    }


def write_simulated_series(
    spec: SensorSpec, out_dir: str | os.PathLike, *, design: SeriesDesign | None = None, seed: int = 0
) -> Path:
    """Write a simulated series folder (16-bit PNG frames + ``series.json``); returns the folder.

    ``series.json`` also holds ``"simulation"``: the sensor name, seed, design and
    :func:`series_truth` (readers ignore it). Every file is written atomically.
    """
    from focuslab.data.image_files import write_png

    design = design or SeriesDesign()
    root = ensure_dir(out_dir)
    entries = []
    counters: dict[StepKey, int] = {}
    index = {k: i for i, k in enumerate(dict.fromkeys(series_plan(spec, design)))}
    for key, frame in simulate_frames(spec, design, seed=seed):
        j = counters[key] = counters.get(key, -1) + 1
        name = f"{key.kind}_{index[key] // 2:03d}_{j:03d}.png"
        write_png(root / name, frame)
        entry = {"file": name, "kind": key.kind, "exposure_s": key.exposure_s}
        if key.irradiance_photons_per_pixel is not None:
            entry["irradiance_photons_per_pixel"] = key.irradiance_photons_per_pixel
        entries.append(entry)
    doc = {
        "format": SERIES_FORMAT,
        "cfa": spec.cfa,
        "bit_depth": spec.adc_bits,
        "black_level_dn": spec.black_level_dn,
        "frames": entries,
        "simulation": {"sensor": spec.name, "seed": seed, "design": design.__dict__, "truth": series_truth(spec)},
    }
    write_json_atomic(root / SERIES_FILE, doc)
    return root
