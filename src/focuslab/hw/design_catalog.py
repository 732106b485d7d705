"""Design-exploration catalog: candidate lenses, sensors and actuators read from YAML.

A catalog (``format: focuslab.design_catalog/1``) lists candidate parts with their cost;
every lens x sensor x actuator combination is one candidate camera (:class:`Combination`,
:meth:`Combination.camera` builds the focuslab :class:`~focuslab.camera.camera.Camera`).
The format, field by field, is in docs/hw_design.md; ``configs/hw/design_catalog_example.yaml``
is a complete example. Every mistake (unknown field, impossible lens, negative pitch, a
combination whose actuator cannot reach the lens's minimum focus) raises a
:class:`~focuslab.errors.FocuslabError` whose one line names the entry and the fix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from pathlib import Path

from focuslab.camera.actuator import ActuatorSpec
from focuslab.camera.camera import Camera
from focuslab.errors import FocuslabError, InputFileError, InvalidParameterError, check_positive
from focuslab.hw.design_af import AF_FIGURE_NAMES
from focuslab.hw.design_figures import FIGURE_NAMES
from focuslab.hw.design_pareto import DIRECTIONS
from focuslab.optics.lens import LensSpec
from focuslab.optics.psf_field import SeidelAberrations
from focuslab.optics.pupil import check_zernike_terms
from focuslab.sensor.spec import SensorSpec

CATALOG_FORMAT = "focuslab.design_catalog/1"

#: Lens entry fields (``seidel_um`` holds the :class:`SeidelAberrations` coefficients).
LENS_FIELDS = ("name", "focal_length_mm", "f_number", "min_focus_distance_m", "transmission", "seidel_um",
               "zernike_um", "cost")
_LENS_REQUIRED = ("name", "focal_length_mm", "f_number", "cost")
_SEIDEL_FIELDS = tuple(f.name for f in fields(SeidelAberrations))

#: Sensor entry fields; the optional ones default to a phone-class sensor (see :func:`parse_sensor`).
SENSOR_FIELDS = ("name", "pixel_pitch_um", "width_px", "height_px", "quantum_efficiency", "read_noise_e",
                 "full_well_e", "dark_current_e_per_s", "cost", "prnu_fraction", "dsnu_e", "adc_bits",
                 "black_level_dn", "conversion_gain_dn_per_e", "cfa", "dual_pixel", "channel_response")
_SENSOR_REQUIRED = SENSOR_FIELDS[:9]
_SENSOR_DEFAULTS = {"prnu_fraction": 0.01, "dsnu_e": 1.0, "adc_bits": 10, "black_level_dn": 64.0, "cfa": "RGGB",
                    "dual_pixel": False, "channel_response": (0.8, 1.0, 0.85)}

_ACTUATOR_SPEC_FIELDS = tuple(f.name for f in fields(ActuatorSpec) if f.init and f.name not in ("name",))
ACTUATOR_FIELDS = ("name", "cost", *_ACTUATOR_SPEC_FIELDS)

#: Settings and their defaults: exposure of the SNR figure (1/30 s, a 30 fps preview frame),
#: grey reflectance of the SNR target, CPIQ viewing condition of the acutance, permissible
#: circle of confusion in pixel pitches, AF method and seed of the AF figures, and the focus
#: the MTF figures are taken at (``best_centre``: minimum RMS wavefront at the centre, or ``paraxial``).
DEFAULT_SETTINGS = {"exposure_s": 1.0 / 30.0, "reflectance": 0.18, "viewing": "print_8x10in", "coc_max_px": 2.0,
                    "af_method": "hybrid", "af_seed": 0, "focus": "best_centre"}
FOCUS_MODES = ("best_centre", "paraxial")

#: Default objectives of the Pareto front.
DEFAULT_OBJECTIVES = {"corner_mtf50_lw_ph": "maximize", "snr_10lux": "maximize", "cost": "minimize"}

#: Figures a catalog objective can name: the analytic figures, the AF figures and the cost.
OBJECTIVE_FIGURES = ("cost", *FIGURE_NAMES, *AF_FIGURE_NAMES)

_TOP_FIELDS = ("format", "settings", "lenses", "sensors", "actuators", "objectives", "optimize")


@dataclass(frozen=True)
class LensCandidate:
    """A candidate lens: its :class:`LensSpec`, static aberrations and cost (any currency unit)."""

    spec: LensSpec
    seidel: SeidelAberrations
    zernike_um: tuple[tuple[int | str, float], ...]
    cost: float

    @property
    def name(self) -> str:
        """The lens's name."""
        return self.spec.name


@dataclass(frozen=True)
class SensorCandidate:
    """A candidate sensor: its :class:`SensorSpec` and cost."""

    spec: SensorSpec
    cost: float

    @property
    def name(self) -> str:
        """The sensor's name."""
        return self.spec.name


@dataclass(frozen=True)
class ActuatorCandidate:
    """A candidate focus actuator: its :class:`ActuatorSpec` and cost."""

    spec: ActuatorSpec
    cost: float

    @property
    def name(self) -> str:
        """The actuator's name."""
        return self.spec.name


#: The actuator used when a catalog lists none: the ActuatorSpec defaults (10-bit VCM, 350 um), cost 0.
DEFAULT_ACTUATOR = ActuatorCandidate(ActuatorSpec(name="vcm-default"), 0.0)


@dataclass(frozen=True)
class Combination:
    """One candidate camera: a lens, a sensor and an actuator."""

    lens: LensCandidate
    sensor: SensorCandidate
    actuator: ActuatorCandidate

    @property
    def name(self) -> str:
        """``"lens+sensor"`` (``"+actuator"`` appended when it is not the default)."""
        parts = [self.lens.name, self.sensor.name]
        if self.actuator is not DEFAULT_ACTUATOR:
            parts.append(self.actuator.name)
        return "+".join(parts)

    @property
    def cost(self) -> float:
        """Sum of the parts' costs."""
        return self.lens.cost + self.sensor.cost + self.actuator.cost

    def camera(self, *, coc_max_px: float = 2.0) -> Camera:
        """The focuslab Camera (geometric defocus PSF, 4x4-binned 30 fps preview, as the presets).

        Raises
        ------
        InvalidParameterError
            When the parts do not fit (e.g. the stroke cannot reach the minimum focus distance).
        """
        try:
            return Camera(lens=self.lens.spec, sensor=self.sensor.spec, actuator=self.actuator.spec,
                          preview_binning=4, coc_max_px=coc_max_px, name=self.name)
        except FocuslabError as exc:
            raise InvalidParameterError(f"combination {self.name}: {exc}") from None


@dataclass(frozen=True)
class DesignCatalog:
    """A parsed catalog: parts, settings, Pareto objectives and the optional optimizer section."""

    lenses: tuple[LensCandidate, ...]
    sensors: tuple[SensorCandidate, ...]
    actuators: tuple[ActuatorCandidate, ...]
    settings: dict = field(default_factory=lambda: dict(DEFAULT_SETTINGS))
    objectives: dict = field(default_factory=lambda: dict(DEFAULT_OBJECTIVES))
    optimize: dict | None = None
    source: str = "<catalog>"

    def combinations(self) -> list[Combination]:
        """Every lens x sensor x actuator combination, in catalog order."""
        return [Combination(lens, sensor, act) for lens in self.lenses for sensor in self.sensors
                for act in self.actuators]

    def lens(self, name: str) -> LensCandidate:
        """The lens called ``name`` (InvalidParameterError listing the names otherwise)."""
        return _by_name(self.lenses, name, "lens", self.source)

    def sensor(self, name: str) -> SensorCandidate:
        """The sensor called ``name`` (InvalidParameterError listing the names otherwise)."""
        return _by_name(self.sensors, name, "sensor", self.source)


def _by_name(items, name, kind: str, source: str):
    for it in items:
        if it.name == name:
            return it
    raise InvalidParameterError(f"{source}: no {kind} named {name!r}; catalog {kind}s: "
                                f"{', '.join(i.name for i in items)}")


# ----------------------------------------------------------------------------- parsing
def _check_keys(entry, allowed, required, where: str) -> dict:
    if not isinstance(entry, dict):
        raise InvalidParameterError(f"{where} must be a mapping of field: value, got {type(entry).__name__}")
    unknown = [k for k in entry if k not in allowed]
    if unknown:
        raise InvalidParameterError(f"{where}: unknown field {unknown[0]!r}; valid fields: {', '.join(allowed)}")
    missing = [k for k in required if k not in entry]
    if missing:
        raise InvalidParameterError(f"{where}: missing field {missing[0]!r}; required: {', '.join(required)}")
    return dict(entry)


def _number(value, name: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParameterError(f"{where}: {name} must be a number, got {value!r}")
    return float(value)


def _cost(value, where: str) -> float:
    c = _number(value, "cost", where)
    if not math.isfinite(c) or c < 0:
        raise InvalidParameterError(f"{where}: cost must be a finite number >= 0, got {value!r}")
    return c


def _name(entry: dict, where: str) -> str:
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip() or "+" in name:
        raise InvalidParameterError(f"{where}: name must be a non-empty string without '+', got {name!r}")
    return name


def parse_lens(entry, where: str = "lens") -> LensCandidate:
    """A :class:`LensCandidate` from a catalog entry (see :data:`LENS_FIELDS`)."""
    d = _check_keys(entry, LENS_FIELDS, _LENS_REQUIRED, where)
    name = _name(d, where)
    where = f"{where} {name!r}"
    seidel_d = _check_keys(d.get("seidel_um") or {}, _SEIDEL_FIELDS, (), f"{where} seidel_um")
    try:
        spec = LensSpec(focal_length_mm=_number(d["focal_length_mm"], "focal_length_mm", where),
                        f_number=_number(d["f_number"], "f_number", where),
                        min_focus_distance_m=_number(d.get("min_focus_distance_m", 0.1), "min_focus_distance_m", where),
                        transmission=_number(d.get("transmission", 0.9), "transmission", where), name=name)
        seidel = SeidelAberrations(**{k: _number(v, k, where) for k, v in seidel_d.items()})
        zern = check_zernike_terms(d.get("zernike_um") or {})
    except FocuslabError as exc:
        raise InvalidParameterError(f"{where}: {exc}") from None
    return LensCandidate(spec, seidel, zern, _cost(d["cost"], where))


def parse_sensor(entry, where: str = "sensor") -> SensorCandidate:
    """A :class:`SensorCandidate` from a catalog entry (see :data:`SENSOR_FIELDS`).

    Optional fields default to PRNU 1 %, DSNU 1 e-, a 10-bit ADC with black level 64 DN,
    RGGB, no dual pixel, channel responses R 0.80 / G 1.00 / B 0.85, and a conversion gain
    that maps the full well onto the ADC range above black, K = (2^bits - 1 - black) / FW.
    """
    d = _check_keys(entry, SENSOR_FIELDS, _SENSOR_REQUIRED, where)
    name = _name(d, where)
    where = f"{where} {name!r}"
    kw = {**_SENSOR_DEFAULTS, **{k: v for k, v in d.items() if k != "cost"}}
    for k in ("width_px", "height_px", "adc_bits"):
        if isinstance(kw[k], float) and kw[k].is_integer():
            kw[k] = int(kw[k])
    try:
        pitch = _number(kw["pixel_pitch_um"], "pixel_pitch_um", where)
        if not pitch > 0:
            raise InvalidParameterError(f"pixel_pitch_um must be > 0 (micrometres), got {kw['pixel_pitch_um']!r}")
        fw = check_positive("full_well_e", _number(kw["full_well_e"], "full_well_e", where))
        if "conversion_gain_dn_per_e" not in d and isinstance(kw["adc_bits"], int):
            kw["conversion_gain_dn_per_e"] = ((1 << kw["adc_bits"]) - 1 - float(kw["black_level_dn"])) / fw
        kw["channel_response"] = tuple(kw["channel_response"])
        spec = SensorSpec(**kw)
    except FocuslabError as exc:
        raise InvalidParameterError(f"{where}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"{where}: a field has the wrong type ({exc}); see docs/hw_design.md") from None
    return SensorCandidate(spec, _cost(d["cost"], where))


def parse_actuator(entry, where: str = "actuator") -> ActuatorCandidate:
    """An :class:`ActuatorCandidate` from a catalog entry: name, cost and :class:`ActuatorSpec` fields."""
    d = _check_keys(entry, ACTUATOR_FIELDS, ("name", "cost"), where)
    name = _name(d, where)
    where = f"{where} {name!r}"
    kw = {k: v for k, v in d.items() if k not in ("name", "cost")}
    if "calibration_table" in kw and kw["calibration_table"] is not None:
        kw["calibration_table"] = tuple(tuple(p) for p in kw["calibration_table"])
    try:
        spec = ActuatorSpec(name=name, **kw)
    except FocuslabError as exc:
        raise InvalidParameterError(f"{where}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"{where}: a field has the wrong type ({exc}); see docs/hw_design.md") from None
    return ActuatorCandidate(spec, _cost(d["cost"], where))


def parse_objectives(obj, where: str) -> dict:
    """``{figure: "maximize"|"minimize"}``, at least two, directions checked (figures checked later)."""
    if not isinstance(obj, dict) or len(obj) < 2:
        raise InvalidParameterError(f"{where} must map at least two figures to maximize/minimize, got {obj!r}")
    for k, v in obj.items():
        if v not in DIRECTIONS:
            raise InvalidParameterError(f"{where}: direction of {k!r} must be maximize or minimize, got {v!r}")
    return {str(k): str(v) for k, v in obj.items()}


def _parse_settings(d, where: str) -> dict:
    d = _check_keys(d or {}, tuple(DEFAULT_SETTINGS), (), where)
    out = {**DEFAULT_SETTINGS, **d}
    for k in ("exposure_s", "reflectance", "coc_max_px"):
        v = _number(out[k], k, where)
        if not (math.isfinite(v) and v > 0) or (k == "reflectance" and v > 1):
            raise InvalidParameterError(f"{where}: {k} must be > 0{' and <= 1' if k == 'reflectance' else ''}, "
                                        f"got {out[k]!r}")
        out[k] = v
    if out["focus"] not in FOCUS_MODES:
        raise InvalidParameterError(f"{where}: focus must be one of {', '.join(FOCUS_MODES)}, got {out['focus']!r}")
    if isinstance(out["af_seed"], bool) or not isinstance(out["af_seed"], int) or out["af_seed"] < 0:
        raise InvalidParameterError(f"{where}: af_seed must be an integer >= 0, got {out['af_seed']!r}")
    return out


def _unique(items, kind: str, source: str):
    names = [i.name for i in items]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise InvalidParameterError(f"{source}: two {kind}s are named {dup!r}; give every {kind} its own name")
    return tuple(items)


def parse_catalog(data, source: str = "<catalog>") -> DesignCatalog:
    """A :class:`DesignCatalog` from the YAML document's data (a mapping)."""
    d = _check_keys(data, _TOP_FIELDS, ("lenses", "sensors"), source)
    if d.get("format", CATALOG_FORMAT) != CATALOG_FORMAT:
        raise InvalidParameterError(f"{source}: format {d['format']!r} is not {CATALOG_FORMAT!r}")
    parts = {}
    for key, parser in (("lenses", parse_lens), ("sensors", parse_sensor), ("actuators", parse_actuator)):
        entries = d.get(key)
        if key == "actuators" and entries is None:
            parts[key] = (DEFAULT_ACTUATOR,)
            continue
        if not isinstance(entries, list) or not entries:
            raise InvalidParameterError(f"{source}: {key} must be a non-empty list of entries")
        parts[key] = _unique([parser(e, f"{source}: {key}[{i}]") for i, e in enumerate(entries)], key[:-1], source)
    objectives = parse_objectives(d["objectives"], f"{source}: objectives") if "objectives" in d else \
        dict(DEFAULT_OBJECTIVES)
    for name in objectives:
        if name not in OBJECTIVE_FIGURES:
            raise InvalidParameterError(f"{source}: objective {name!r} is not a design figure; "
                                        f"figures: {', '.join(OBJECTIVE_FIGURES)}")
    optimize = d.get("optimize")
    if optimize is not None and not isinstance(optimize, dict):
        raise InvalidParameterError(f"{source}: optimize must be a mapping (see docs/hw_design.md)")
    return DesignCatalog(parts["lenses"], parts["sensors"], parts["actuators"],
                         _parse_settings(d.get("settings"), f"{source}: settings"), objectives, optimize, source)


def load_catalog(path: str | Path) -> DesignCatalog:
    """Read and validate a catalog YAML file.

    Raises
    ------
    InputFileError
        The file is missing, unreadable or not YAML.
    InvalidParameterError
        A field is unknown, missing or out of range (the message names the entry).
    """
    import yaml

    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"catalog {str(p)!r} does not exist or is not a file; give a catalog YAML file")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"cannot read catalog {str(p)!r} ({exc}); check the file") from None
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        at = f" at line {line + 1}" if line is not None else ""
        raise InputFileError(f"catalog {str(p)!r} is not valid YAML{at}; fix its syntax") from None
    if not isinstance(data, dict):
        raise InputFileError(f"catalog {str(p)!r} must be a YAML mapping with lenses: and sensors: lists")
    return parse_catalog(data, source=p.name)
