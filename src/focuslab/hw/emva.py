"""EMVA 1288 Release 4.0 sensor characterization of a dark/flat frame series, per CFA channel.

Pipeline: :func:`~focuslab.hw.emva_series.read_series` (validated manifest) -> frames one at a
time into :class:`~focuslab.hw.emva_accumulate.EmvaAccumulator` (memory independent of the
number of frames) -> :func:`~focuslab.hw.emva_temporal.evaluate_temporal` (photon transfer,
system gain, dark noise, SNR, saturation, sensitivity threshold, dynamic range, linearity,
dark current, quantum efficiency when the irradiance is given) and
:func:`~focuslab.hw.emva_spatial.evaluate_spatial` (DSNU, PRNU, spectrograms).

References
----------
EMVA Standard 1288, "Standard for Characterization of Image Sensors and Cameras",
Release 4.0 Linear (European Machine Vision Association, 2021).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from focuslab.errors import InvalidParameterError, UnknownNameError
from focuslab.hw.emva_accumulate import EmvaAccumulator, EmvaStatistics, channel_cells
from focuslab.hw.emva_series import StepKey, iter_series_frames, read_series
from focuslab.hw.emva_spatial import SpatialResult, evaluate_spatial
from focuslab.hw.emva_temporal import TemporalCurves, TemporalResult, evaluate_temporal

#: Flat steps the standard recommends (R4.0 Sec. 6.5); fewer gives a note.
RECOMMENDED_FLAT_STEPS = 50
#: A flat step whose samples are more than this fraction at the white level counts as saturated.
SATURATED_FRACTION = 0.5


@dataclass(frozen=True, eq=False)
class ChannelResult:
    """The EMVA 1288 figures of one channel (``mono``, ``R``, ``Gr``, ``Gb`` or ``B``)."""

    name: str
    temporal: TemporalResult
    spatial: SpatialResult | None

    def summary(self) -> dict[str, float | None]:
        """The scalar figures, units in the keys (NaN/None where not measurable)."""
        t, s = self.temporal, self.spatial
        out: dict[str, float | None] = {
            "system_gain_dn_per_e": t.system_gain_dn_per_e,
            "inverse_gain_e_per_dn": 1.0 / t.system_gain_dn_per_e,
            "quantum_efficiency": t.quantum_efficiency,
            "responsivity_dn_per_photon": t.responsivity_dn_per_photon,
            "temporal_dark_noise_dn": t.temporal_dark_noise_dn,
            "temporal_dark_noise_e": t.temporal_dark_noise_e,
            "saturation_capacity_e": t.saturation_capacity_e,
            "saturation_irradiance_photons": t.saturation_irradiance_photons,
            "full_well_e": t.full_well_e,
            "snr_max": t.snr_max,
            "snr_max_db": t.snr_max_db,
            "snr_max_bits": t.snr_max_bits,
            "sensitivity_threshold_e": t.sensitivity_threshold_e,
            "sensitivity_threshold_photons": t.sensitivity_threshold_photons,
            "dynamic_range_db": t.dynamic_range_db,
            "dynamic_range_bits": t.dynamic_range_bits,
            "linearity_error_min_percent": t.linearity_error_min_percent,
            "linearity_error_max_percent": t.linearity_error_max_percent,
            "dark_current_mean_e_per_s": t.dark_current_mean_e_per_s,
            "dark_current_var_e_per_s": t.dark_current_var_e_per_s,
        }
        if s is not None:
            out.update({
                "dsnu_e": s.dsnu_e, "dsnu_column_e": s.dsnu_column_e, "dsnu_row_e": s.dsnu_row_e,
                "dsnu_pixel_e": s.dsnu_pixel_e, "prnu_percent": s.prnu_percent,
                "prnu_column_percent": s.prnu_column_percent, "prnu_row_percent": s.prnu_row_percent,
                "prnu_pixel_percent": s.prnu_pixel_percent, "spatial_frames": float(s.n_frames),
            })
        return out


@dataclass(frozen=True, eq=False)
class EmvaResult:
    """A characterization: one :class:`ChannelResult` per channel, and notes on the data."""

    cfa: str
    shape_px: tuple[int, int]
    white_level_dn: int
    n_frames: int
    channels: dict[str, ChannelResult]
    notes: tuple[str, ...]

    def to_dict(self, *, curves: bool = True) -> dict:
        """JSON-ready dict (NaN -> None); ``curves`` adds the per-step photon-transfer data."""

        def clean(v):
            if isinstance(v, float | np.floating):
                return float(v) if math.isfinite(v) else None
            return v

        doc = {"format": "focuslab.emva_result/1", "standard": "EMVA 1288 Release 4.0", "cfa": self.cfa,
               "width_px": self.shape_px[1], "height_px": self.shape_px[0], "white_level_dn": self.white_level_dn,
               "frames": self.n_frames, "notes": list(self.notes), "channels": {}}
        for name, ch in self.channels.items():
            entry = {k: clean(v) for k, v in ch.summary().items()}
            if curves:
                c = ch.temporal.curves
                entry["photon_transfer"] = {
                    "exposure_s": c.exposure_s.tolist(),
                    "photons": None if c.photons is None else c.photons.tolist(),
                    "mean_dn": c.mean_dn.tolist(), "variance_dn2": c.var_dn2.tolist(),
                    "mean_dark_dn": c.mean_dark_dn.tolist(), "variance_dark_dn2": c.var_dark_dn2.tolist(),
                    "saturation_index": ch.temporal.saturation_index,
                }
            doc["channels"][name] = entry
        return doc


def _select_channels(cfa: str, channels: Sequence[str] | None) -> list[str]:
    valid = list(channel_cells(cfa))
    if not channels:
        return valid
    for c in channels:
        if c not in valid:
            raise UnknownNameError(f"unknown channel {c!r} for a {cfa} series; use one of {', '.join(valid)}")
    return list(dict.fromkeys(channels))


def evaluate(stats: EmvaStatistics, *, channels: Sequence[str] | None = None) -> EmvaResult:
    """EMVA 1288 figures from accumulated statistics (see the module references)."""
    names = _select_channels(stats.cfa, channels)
    flats = [k for k in stats.steps if k.kind == "flat"]
    darks = sorted((k for k in stats.steps if k.kind == "dark"), key=lambda k: k.exposure_s)
    dark_at = {k.exposure_s: k for k in darks}
    photons_given = all(k.irradiance_photons_per_pixel is not None for k in flats)
    notes = []
    if len(flats) < RECOMMENDED_FLAT_STEPS:
        notes.append(f"{len(flats)} flat steps; EMVA 1288 recommends >= {RECOMMENDED_FLAT_STEPS}")
    if len({k.exposure_s for k in darks}) < 3:
        notes.append("dark frames at fewer than 3 exposure times: no dark current")
    spatial_keys = [k for k in stats.spatial]
    flat_sp = next((k for k in spatial_keys if k.kind == "flat"), None)
    dark_sp = next((k for k in spatial_keys if k.kind == "dark"), None)
    if flat_sp is None or dark_sp is None:
        notes.append("no spatial step (flat + dark at one exposure): no DSNU/PRNU")
    out = {}
    for name in names:
        def signal(k: StepKey, name: str = name) -> float:
            return stats.steps[k][name].mean_dn - stats.steps[dark_at[k.exposure_s]][name].mean_dn

        order = sorted(flats, key=signal)
        lowest = stats.steps[order[0]][name]
        if lowest.saturated_fraction > SATURATED_FRACTION:
            raise InvalidParameterError(
                f"saturated flats: even the dimmest flat step (exposure {order[0].exposure_s:g} s) has "
                f"{100 * lowest.saturated_fraction:.0f} % of its {name} pixels at the white level; "
                "lower the irradiance or exposure"
            )

        def col(attr: str, keys: list[StepKey], name: str = name) -> np.ndarray:
            return np.array([getattr(stats.steps[k][name], attr) for k in keys], np.float64)

        dk = [dark_at[k.exposure_s] for k in order]
        curves = TemporalCurves(
            exposure_s=np.array([k.exposure_s for k in order]),
            photons=np.array([k.irradiance_photons_per_pixel for k in order], np.float64) if photons_given else None,
            mean_dn=col("mean_dn", order), var_dn2=col("variance_dn2", order),
            mean_dark_dn=col("mean_dn", dk), var_dark_dn2=col("variance_dn2", dk),
        )
        temporal = evaluate_temporal(curves, np.array([k.exposure_s for k in darks]), col("mean_dn", darks),
                                     col("variance_dn2", darks))
        if not temporal.saturation_reached:
            notes.append(f"{name}: the variance peaks at the brightest step: saturation may not be reached")
        spatial = None
        if flat_sp is not None and dark_sp is not None:
            spatial = evaluate_spatial(stats.spatial[flat_sp][name], stats.spatial[dark_sp][name],
                                       temporal.system_gain_dn_per_e)
        out[name] = ChannelResult(name, temporal, spatial)
    n_frames = sum(next(iter(v.values())).n_frames for v in stats.steps.values())
    return EmvaResult(stats.cfa, stats.shape_px, stats.white_level_dn, n_frames, out, tuple(notes))


def characterize_frames(frames: Iterable[tuple[StepKey, np.ndarray]], plan: dict[StepKey, int], *, cfa: str,
                        white_level_dn: int, channels: Sequence[str] | None = None) -> EmvaResult:
    """Characterize frames streamed as ``(step, uint16 frame)`` following ``plan`` (frames per step)."""
    from focuslab.hw.emva_series import check_series_plan

    check_series_plan({k: [None] * n for k, n in plan.items()})
    _select_channels(cfa, channels)
    acc = EmvaAccumulator(plan, cfa=cfa, white_level_dn=white_level_dn)
    for key, frame in frames:
        acc.add(key, frame)
    return evaluate(acc.finish(), channels=channels)


def characterize_series(path: str | os.PathLike, *, channels: Sequence[str] | None = None) -> EmvaResult:
    """Characterize the series folder ``path`` (``series.json`` + frames), reading one frame at a time."""
    series = read_series(path)
    plan = {k: len(v) for k, v in series.steps().items()}
    it = iter_series_frames(series)
    key0, first = next(it)
    cfa = series.cfa if series.cfa != "mono" or first.cfa is None else first.cfa
    _select_channels(cfa, channels)
    acc = EmvaAccumulator(plan, cfa=cfa, white_level_dn=first.white_level_dn)
    acc.add(key0, first.data)
    for key, lf in it:
        acc.add(key, lf.data)
    return evaluate(acc.finish(), channels=channels)
