"""Plant known defect pixels into simulated frames (the truth that defect detection is tested on).

:func:`plant_defects` draws where the defects are and what they do (a :class:`DefectPlan`,
with the truth map); :func:`expose_with_defects` runs the sensor's own noise chain
(:func:`focuslab.sensor.expose`: shot and read noise, DSNU, PRNU, dark current, ADC) and applies
the plan; :func:`simulate_dark_flat` averages dark frames and flat fields with shading and
vignetting, as a test bench would capture them.

Defect models
-------------
hot
    Extra dark current ``I_hot`` e-/s (log-uniform in a range): ``Poisson(I_hot * t)``
    electrons, converted with the gain K, are added to the digitised value (the pixel's
    shot noise included; it clips at the white level).
dead
    The pixel's response to light is multiplied by a factor drawn in ``dead_response``
    (0 = no response at all, 0.5 = half); its dark level is normal.
stuck
    The pixel reads a constant DN whatever the light and the noise: 0 (stuck low), or a value
    drawn between ``black + 5 %`` and the white level of the ADC range.
cluster
    A compact group of 2..``cluster_max_px`` pixels of the same CFA plane, 8-connected in the
    plane, all of one type (hot, dead or stuck), grown by a random walk.

Defects are kept apart: any two defect groups are at least 3 plane pixels apart (Chebyshev),
so the truth clusters are exactly the planted ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from focuslab.errors import InvalidParameterError
from focuslab.hw.defect_frame_stats import FrameStats, frame_stats
from focuslab.hw.defect_result import CLUSTER_FLAG, DefectCode
from focuslab.sensor.expose import expose
from focuslab.sensor.raw import RawFrame
from focuslab.sensor.spec import SensorSpec

_MIN_GAP = 3  # plane pixels (Chebyshev) between two defect groups
_STEPS = ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (1, -1), (-1, 1), (-1, -1))


@dataclass(frozen=True, eq=False)
class DefectPlan:
    """Where the planted defects are and what they do.

    Attributes
    ----------
    codes
        ``uint8`` ``H x W`` truth map (:class:`DefectCode`, :data:`CLUSTER_FLAG` on cluster members).
    response_factor
        ``H x W`` multiplier of the photons (1 except dead pixels).
    hot_e_per_s
        ``H x W`` extra dark current, e-/s (0 except hot pixels).
    stuck_dn
        ``H x W`` constant value of stuck pixels, DN (NaN elsewhere).
    cluster_sizes_px
        Sizes of the planted clusters.
    """

    codes: np.ndarray
    response_factor: np.ndarray
    hot_e_per_s: np.ndarray
    stuck_dn: np.ndarray
    cluster_sizes_px: tuple[int, ...]

    @property
    def mask(self) -> np.ndarray:
        """Boolean truth map of every planted defect."""
        return self.codes != 0


def _plane_origin(cfa: str, rng: np.random.Generator) -> tuple[int, int, int]:
    """(dy, dx, step) of a random CFA plane."""
    if cfa == "mono":
        return 0, 0, 1
    return int(rng.integers(2)), int(rng.integers(2)), 2


def plant_defects(
    spec: SensorSpec,
    *,
    seed: int | np.random.Generator,
    n_hot: int = 0,
    n_dead: int = 0,
    n_stuck: int = 0,
    n_clusters: int = 0,
    cluster_max_px: int = 5,
    hot_e_per_s: tuple[float, float] = (2000.0, 50000.0),
    dead_response: tuple[float, float] = (0.0, 0.5),
) -> DefectPlan:
    """Draw a defect plan for ``spec`` (same seed -> same plan).

    Parameters
    ----------
    spec
        The sensor (its size, CFA, black and white levels).
    seed
        Seed or generator.
    n_hot, n_dead, n_stuck
        Number of single defects of each type.
    n_clusters
        Number of clusters (sizes uniform in 2..``cluster_max_px``; types hot/dead/stuck in turn).
    cluster_max_px
        Largest cluster, pixels (2..9).
    hot_e_per_s
        ``(low, high)`` of the log-uniform extra dark current of hot pixels, e-/s (the sensor's
        own is ``spec.dark_current_e_per_s``; hot pixels are typically 100-10 000 times it).
    dead_response
        ``(low, high)`` of the uniform response factor of dead pixels, in [0, 1).

    Raises
    ------
    InvalidParameterError
        On negative counts, bad ranges, or more defects than fit the array with their spacing.
    """
    counts = {"n_hot": n_hot, "n_dead": n_dead, "n_stuck": n_stuck, "n_clusters": n_clusters}
    for nm, v in counts.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise InvalidParameterError(f"{nm} must be an integer >= 0, got {v!r}")
    if not 2 <= int(cluster_max_px) <= 9:
        raise InvalidParameterError(f"cluster_max_px must be in 2..9, got {cluster_max_px!r}")
    lo_h, hi_h = (float(v) for v in hot_e_per_s)
    if not 0 < lo_h <= hi_h:
        raise InvalidParameterError(f"hot_e_per_s must be (low, high) with 0 < low <= high, got {hot_e_per_s!r}")
    lo_d, hi_d = (float(v) for v in dead_response)
    if not 0 <= lo_d <= hi_d < 1:
        raise InvalidParameterError(f"dead_response must be (low, high) in [0, 1), got {dead_response!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    h, w = spec.shape_px
    codes = np.zeros((h, w), dtype=np.uint8)
    response = np.ones((h, w), dtype=np.float64)
    hot = np.zeros((h, w), dtype=np.float64)
    stuck = np.full((h, w), np.nan)
    taken = np.zeros((h, w), dtype=bool)  # sensor pixels within the gap of a planted defect
    sizes: list[int] = []
    cycle = (DefectCode.HOT, DefectCode.DEAD, DefectCode.STUCK)
    jobs = [(DefectCode.HOT, 1)] * n_hot + [(DefectCode.DEAD, 1)] * n_dead + [(DefectCode.STUCK, 1)] * n_stuck
    jobs += [(cycle[i % 3], int(rng.integers(2, int(cluster_max_px) + 1))) for i in range(n_clusters)]
    white = float(spec.white_level_dn)
    black = float(spec.black_level_dn)
    for kind, size in jobs:
        for _attempt in range(200):
            dy, dx, step = _plane_origin(spec.cfa, rng)
            ph, pw = (h - dy + step - 1) // step, (w - dx + step - 1) // step
            py, px = int(rng.integers(ph)), int(rng.integers(pw))
            cells = {(py, px)}
            while len(cells) < size:
                cy, cx = list(cells)[int(rng.integers(len(cells)))]
                sy, sx = _STEPS[int(rng.integers(8))]
                if 0 <= cy + sy < ph and 0 <= cx + sx < pw:
                    cells.add((cy + sy, cx + sx))
            pix = [(dy + cy * step, dx + cx * step) for cy, cx in cells]
            if any(taken[y, x] for y, x in pix):
                continue
            for y, x in pix:
                g = _MIN_GAP * step
                taken[max(0, y - g) : y + g + 1, max(0, x - g) : x + g + 1] = True
                codes[y, x] = kind | (CLUSTER_FLAG if size > 1 else 0)
                if kind == DefectCode.HOT:
                    hot[y, x] = float(np.exp(rng.uniform(np.log(lo_h), np.log(hi_h))))
                elif kind == DefectCode.DEAD:
                    response[y, x] = float(rng.uniform(lo_d, hi_d))
                else:
                    stuck[y, x] = 0.0 if rng.random() < 0.25 else float(
                        np.rint(rng.uniform(black + 0.05 * (white - black), white)))
            if size > 1:
                sizes.append(size)
            break
        else:
            raise InvalidParameterError(
                f"cannot place {len(jobs)} defect groups {_MIN_GAP} plane pixels apart in a {w}x{h} sensor; "
                "plant fewer defects or use a larger sensor"
            )
    for arr in (codes, response, hot, stuck):
        arr.flags.writeable = False
    return DefectPlan(codes=codes, response_factor=response, hot_e_per_s=hot, stuck_dn=stuck,
                      cluster_sizes_px=tuple(sizes))


def expose_with_defects(spec: SensorSpec, photons: np.ndarray, *, exposure_s: float, plan: DefectPlan,
                        seed: int | np.random.Generator) -> RawFrame:
    """:func:`focuslab.sensor.expose` of ``photons`` with the plan's defects applied.

    ``photons`` is ``H x W x C`` (or ``H x W``) over the whole sensor, as for ``expose``.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    ph = np.asarray(photons, dtype=np.float64)
    if plan.codes.shape != spec.shape_px:
        raise InvalidParameterError(f"defect plan of shape {plan.codes.shape} does not fit sensor {spec.shape_px}")
    factor = plan.response_factor if ph.ndim == 2 else plan.response_factor[..., None]
    raw = expose(spec, ph * factor, exposure_s=exposure_s, seed=rng)
    data = raw.data.astype(np.float64)
    hot = plan.hot_e_per_s > 0
    if np.any(hot):
        data[hot] += rng.poisson(plan.hot_e_per_s[hot] * float(exposure_s)) * spec.conversion_gain_dn_per_e
    data = np.clip(np.rint(data), 0, spec.white_level_dn)
    stuck = np.isfinite(plan.stuck_dn)
    data[stuck] = plan.stuck_dn[stuck]
    return RawFrame(data=data.astype(np.uint16), black_level_dn=raw.black_level_dn,
                    white_level_dn=raw.white_level_dn, cfa=raw.cfa, exposure_s=raw.exposure_s, roi=raw.roi,
                    metadata={**raw.metadata, "planted_defects": int(np.count_nonzero(plan.codes))})


def shading_field(shape_px: tuple[int, int], *, corner_falloff: float = 0.4, tilt: float = 0.1) -> np.ndarray:
    """Relative illumination of a flat field: radial vignetting and a linear tilt, peak 1.

    ``1 - corner_falloff * (r / r_corner)^2`` times ``1 + tilt * (x / W - 1/2)``: a smooth
    stand-in for cos^4 vignetting and lens shading (the detector must not see it).
    """
    h, w = shape_px
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r2 = ((x - (w - 1) / 2) ** 2 + (y - (h - 1) / 2) ** 2) / (((w - 1) / 2) ** 2 + ((h - 1) / 2) ** 2)
    field = (1.0 - corner_falloff * r2) * (1.0 + tilt * (x / max(w - 1, 1) - 0.5))
    return field / field.max()


def simulate_dark_flat_stats(spec: SensorSpec, plan: DefectPlan, *, seed: int, n_frames: int = 16,
                             exposure_s: float = 0.05, flat_fraction: float = 0.5,
                             corner_falloff: float = 0.4) -> tuple[FrameStats, FrameStats]:
    """Per-pixel mean and temporal variance of ``n_frames`` dark and flat frames with the plan's defects.

    The flat's peak signal is ``flat_fraction`` of the saturation (EMVA 1288 measures PRNU at
    50 %), shaded by :func:`shading_field`. Both use exposure ``exposure_s``. The frames are
    streamed (never all in memory); darks and flats draw from two generators spawned from
    ``seed``.
    """
    rng_dark, rng_flat = np.random.default_rng(seed).spawn(2)
    h, w = spec.shape_px
    channels = 1 if spec.is_mono else 3
    qe = spec.quantum_efficiency * (1.0 if spec.is_mono else max(spec.channel_response))
    level = flat_fraction * spec.saturation_e / qe
    flat_ph = np.repeat((level * shading_field((h, w), corner_falloff=corner_falloff))[..., None], channels, axis=2)
    dark_ph = np.zeros((h, w, channels))

    def frames(ph: np.ndarray, rng: np.random.Generator):
        for _ in range(int(n_frames)):
            yield expose_with_defects(spec, ph, exposure_s=exposure_s, plan=plan, seed=rng).data

    return (frame_stats(frames(dark_ph, rng_dark), name="dark frames"),
            frame_stats(frames(flat_ph, rng_flat), name="flat frames"))


def simulate_dark_flat(spec: SensorSpec, plan: DefectPlan, *, seed: int, n_frames: int = 16, exposure_s: float = 0.05,
                       flat_fraction: float = 0.5, corner_falloff: float = 0.4) -> tuple[np.ndarray, np.ndarray]:
    """Averaged dark and flat-field frames (DN, float64) of ``spec`` with the plan's defects
    (the means of :func:`simulate_dark_flat_stats`)."""
    dark, flat = simulate_dark_flat_stats(spec, plan, seed=seed, n_frames=n_frames, exposure_s=exposure_s,
                                          flat_fraction=flat_fraction, corner_falloff=corner_falloff)
    return dark.mean_dn, flat.mean_dn
