"""Pass/fail specification of module qualification (YAML) and the verdict per criterion.

Format ``focuslab.qualify_spec/1`` (example: ``configs/hw/qualify_spec_example.yaml``)::

    format: focuslab.qualify_spec/1
    name: phone main module, final test
    reference_frequency_cpp: 0.25      # frequency of the SFR criteria and of the through-focus curves
    criteria:                          # every criterion optional
      centre_mtf50_min_cpp: 0.40       # mean MTF50 of the centre edges >= this
      corner_mtf50_min_cpp: 0.25       # mean MTF50 of the corner edges >= this
      centre_sfr_min: 0.60             # mean SFR at reference_frequency_cpp, centre
      corner_sfr_min: 0.35             # ... corners
      corner_imbalance_max: 0.20       # (max - min) / mean of the four corners' MTF50
      tilt_max_deg: 0.30               # |sensor tilt| (series only)
      field_curvature_max_um: 40       # max |M or S best-focus shift at the corner| (series only)
      astigmatism_max_um: 50           # |M - S| at the corner (series only)
      decenter_max_um: 200             # |decenter| (series only)

MTF figures come from the single frame, or for a series from the frame nearest the median
best focus. A criterion that the input cannot measure (tilt from one frame) is reported
"not measured" and does not fail the module.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from focuslab.errors import InputFileError
from focuslab.hw.qualify import DEFAULT_REFERENCE_CPP, FrameQualification, SeriesQualification

SPEC_FORMAT = "focuslab.qualify_spec/1"
#: criterion -> (kind, unit, what)
CRITERIA: dict[str, tuple[str, str, str]] = {
    "centre_mtf50_min_cpp": ("min", "cy/px", "centre MTF50"),
    "corner_mtf50_min_cpp": ("min", "cy/px", "corner MTF50"),
    "centre_sfr_min": ("min", "", "centre SFR at the reference frequency"),
    "corner_sfr_min": ("min", "", "corner SFR at the reference frequency"),
    "corner_imbalance_max": ("max", "", "corner-to-corner MTF50 imbalance"),
    "tilt_max_deg": ("max", "deg", "sensor tilt"),
    "field_curvature_max_um": ("max", "um", "field curvature at the corner"),
    "astigmatism_max_um": ("max", "um", "astigmatism at the corner"),
    "decenter_max_um": ("max", "um", "lens decenter"),
}


@dataclass(frozen=True)
class QualifySpec:
    """A loaded spec: name, reference frequency (cy/px) and ``{criterion: limit}``."""

    name: str
    reference_cpp: float
    limits: dict[str, float]


@dataclass(frozen=True)
class Verdict:
    """One criterion: measured value, limit, and pass (True), fail (False) or not measured (None)."""

    criterion: str
    description: str
    measured: float | None
    limit: float
    kind: str
    unit: str
    passed: bool | None

    def to_dict(self) -> dict[str, Any]:
        return {"criterion": self.criterion, "description": self.description, "measured": self.measured,
                "limit": self.limit, "kind": self.kind, "unit": self.unit, "passed": self.passed}


def default_spec() -> QualifySpec:
    """No criteria; the default reference frequency."""
    return QualifySpec("none", DEFAULT_REFERENCE_CPP, {})


def load_spec(path: str | os.PathLike) -> QualifySpec:
    """Read and validate a spec YAML (module notes); :class:`InputFileError` on any problem."""
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"spec file {str(p)!r} does not exist; check the path")
    try:
        doc = yaml.safe_load(p.read_text())
    except (OSError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputFileError(f"cannot read spec {str(p)!r} as YAML ({first}); fix the file") from None
    if not isinstance(doc, dict) or doc.get("format") != SPEC_FORMAT:
        got = doc.get("format") if isinstance(doc, dict) else None
        raise InputFileError(f"spec {str(p)!r}: format must be {SPEC_FORMAT!r}, got {got!r}")
    unknown = sorted(set(doc) - {"format", "name", "reference_frequency_cpp", "criteria"})
    if unknown:
        raise InputFileError(f"spec {str(p)!r}: unknown key(s) {', '.join(unknown)}; "
                             "use format, name, reference_frequency_cpp, criteria")
    ref = doc.get("reference_frequency_cpp", DEFAULT_REFERENCE_CPP)
    if isinstance(ref, bool) or not isinstance(ref, int | float) or not 0 < ref <= 1.0:
        raise InputFileError(f"spec {str(p)!r}: reference_frequency_cpp must be in (0, 1] cy/px, got {ref!r}")
    crit = doc.get("criteria") or {}
    if not isinstance(crit, dict):
        raise InputFileError(f"spec {str(p)!r}: criteria must be a mapping of criterion: limit")
    limits = {}
    for k, v in crit.items():
        if k not in CRITERIA:
            raise InputFileError(f"spec {str(p)!r}: unknown criterion {k!r}; use one of {', '.join(CRITERIA)}")
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
            raise InputFileError(f"spec {str(p)!r}: criterion {k} must be a number >= 0, got {v!r}")
        limits[k] = float(v)
    return QualifySpec(str(doc.get("name", p.stem)), float(ref), limits)


def _measured(frame: FrameQualification, series: SeriesQualification | None) -> dict[str, float | None]:
    def num(v):
        return None if v is None or not math.isfinite(v) else float(v)

    out = {
        "centre_mtf50_min_cpp": num(frame.centre_mtf50_cpp), "corner_mtf50_min_cpp": num(frame.corners_mtf50_cpp),
        "centre_sfr_min": num(frame.zone_sfr["centre"]), "corner_sfr_min": num(frame.zone_sfr["corner"]),
        "corner_imbalance_max": num(frame.corner_imbalance),
        "tilt_max_deg": None, "field_curvature_max_um": None, "astigmatism_max_um": None, "decenter_max_um": None,
    }
    if series is not None:
        f = series.figures()
        out["tilt_max_deg"] = num(f["sensor_tilt_deg"])
        out["field_curvature_max_um"] = num(max(abs(f["field_curvature_meridional_um"]),
                                                abs(f["field_curvature_sagittal_um"])))
        out["astigmatism_max_um"] = num(abs(f["astigmatism_um"]))
        out["decenter_max_um"] = num(math.hypot(f["decenter_x_um"], f["decenter_y_um"]))
    return out


def evaluate(spec: QualifySpec, frame: FrameQualification, series: SeriesQualification | None = None) -> list[Verdict]:
    """One :class:`Verdict` per criterion of ``spec``."""
    measured = _measured(frame, series)
    out = []
    for name, limit in spec.limits.items():
        kind, unit, what = CRITERIA[name]
        m = measured[name]
        passed = None if m is None else (m >= limit if kind == "min" else m <= limit)
        out.append(Verdict(name, what, m, limit, kind, unit, passed))
    return out


def overall(verdicts: list[Verdict]) -> str:
    """``"pass"``, ``"fail"`` (any criterion failed) or ``"no criteria"``."""
    if not verdicts:
        return "no criteria"
    return "fail" if any(v.passed is False for v in verdicts) else "pass"
