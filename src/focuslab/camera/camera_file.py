"""Camera files: the user's own camera module as YAML (or JSON), wherever a preset name goes.

Every command that takes ``--camera`` (``focuslab bench``, ``render``, ``evaluate``, the data
configs' ``camera:`` key, the hardware tools) and :func:`focuslab.camera.get_camera` accept the
path of a camera file instead of a preset name. A file describes the module with the fields of
the frozen hardware dataclasses, units in the field names; unknown keys are refused, so a typo
is an error and not a silently ignored default::

    name: acme_main              # optional: the label in reports (default: the file's stem)
    base: phone_main             # optional: a preset to start from; the sections below override it
    lens:                        # focuslab.optics.lens.LensSpec fields
      focal_length_mm: 5.6
      f_number: 1.9
      min_focus_distance_m: 0.08
    sensor: imx363               # a sensor preset, or SensorSpec fields (with ``base: PRESET`` to
                                 # start from one)
    actuator:                    # focuslab.camera.actuator.ActuatorSpec fields
      stroke_um: 300
      slope_um_per_code: 0.28
      calibration_table: [[96, 0], [512, 130], [1023, 300]]  # optional measured code -> um,
                                                              # from the lift-off code (start_code)
    dual_pixel_response: pixel4  # ideal | pixel4 | DualPixelResponse fields
    depth_sensor: true           # true (an 8 x 8 VL53L5CX-class ToF), false, or DepthSensorSpec fields
    preview_binning: 4
    frame_interval_s: 0.03333
    coc_max_px: 2

Without ``base``, ``lens``, ``sensor`` and ``actuator`` are required. A section given as a
mapping on top of a base replaces only the fields it names. The defocus PSF is the geometric
PSF of the (possibly new) lens's aperture with the dual-pixel response: the file's, else the
base's, else the ideal half-pupil split. Every field is then checked as the dataclasses check
them (an actuator stroke that cannot reach the minimum focus distance, a binning the sensor
cannot do...), and the first problem is reported in one line naming the file and the key.

Identity. A loaded file is cached by its resolved path, and its camera is also found by its
``name`` afterwards in the same process, so the per-camera calibrations of ``phase``,
``learned-dp`` and ``learned-video`` (made on a simulated camera the way a factory calibrates a
module) run on it as on a preset. A file may not take a preset's name: results labelled
``phone_main`` must be ``phone_main``'s.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import types
import typing
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from focuslab.camera.actuator import ActuatorSpec
from focuslab.camera.camera import Camera
from focuslab.camera.depth_sensor import DepthSensorSpec
from focuslab.errors import FocuslabError, InputFileError, InvalidParameterError
from focuslab.optics import PIXEL4_DP_RESPONSE_ON_AXIS, DualPixelResponse, GeometricPsf
from focuslab.optics.lens import LensSpec
from focuslab.sensor.spec import SensorSpec

#: File name endings read as camera files.
CAMERA_FILE_SUFFIXES = (".yaml", ".yml", ".json")

#: Top-level keys of a camera file.
TOP_KEYS = ("name", "base", "lens", "sensor", "actuator", "dual_pixel_response", "depth_sensor",
            "preview_binning", "supersample", "frame_interval_s", "coc_max_px")

#: Cameras known in this process by label: (camera, the document it was built from, its source:
#: the resolved file path, or ``<definition:LABEL>`` for a stack's recorded definition).
_LOADED: dict[str, tuple[Camera, dict, str]] = {}
_LABEL_OF: dict[str, str] = {}  # resolved file path -> label


def looks_like_camera_file(name: str) -> bool:
    """Whether ``name`` is meant as a camera file (a path ending in .yaml, .yml or .json)."""
    return isinstance(name, str) and name.lower().endswith(CAMERA_FILE_SUFFIXES)


def loaded_camera(name: str) -> Camera | None:
    """The camera of a file loaded earlier in this process under ``name`` (its label), or None."""
    entry = _LOADED.get(name)
    return None if entry is None else entry[0]


def camera_document(camera: Camera) -> dict | None:
    """The camera-file document ``camera`` was loaded from in this process, or None (a preset, a
    modified camera). ``focuslab render`` writes it into ``stack.json`` as the camera block's
    ``definition``, so a later replay knows the camera as this process did."""
    entry = _LOADED.get(camera.name)
    if entry is None or entry[0] != camera:
        return None
    return copy.deepcopy(entry[1])


def register_camera_document(doc: Any) -> Camera | None:
    """Build the camera of ``doc`` (a stack's recorded ``definition``) and make its label known in
    this process, as loading its file would; None when the document is not a valid camera or
    its label already names another camera (a preset, another file)."""
    try:
        cam = camera_from_dict(doc)
    except (InvalidParameterError, InputFileError):
        return None
    known = loaded_camera(cam.name)
    if known is not None:
        return known if known == cam else None
    _LOADED[cam.name] = (cam, copy.deepcopy(doc), f"<definition:{cam.name}>")
    return cam


def _check_type(where: str, value: Any, hint: Any) -> Any:
    """``value`` checked against the dataclass field's type ``hint`` (lists become tuples)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _check_type(where, value, arg)
            except InvalidParameterError as exc:
                errors.append(exc)
        raise errors[0]
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise InvalidParameterError(f"{where} must be a list, got {value!r}")
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_check_type(f"{where}[{i}]", v, args[0]) for i, v in enumerate(value))
        if len(args) != len(value):
            raise InvalidParameterError(f"{where} must have {len(args)} entries, got {len(value)}")
        return tuple(_check_type(f"{where}[{i}]", v, a) for i, (v, a) in enumerate(zip(value, args, strict=True)))
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidParameterError(f"{where} must be a number, got {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidParameterError(f"{where} must be an integer, got {value!r}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise InvalidParameterError(f"{where} must be true or false, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise InvalidParameterError(f"{where} must be a string, got {value!r}")
        return value
    raise InvalidParameterError(f"{where} cannot be set from a camera file")


def _fields(cls) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init and not f.name.startswith("_")}


def _section(where: str, cls, values: Any, base=None):
    """A ``cls`` from the mapping ``values`` (replacing ``base``'s fields when given)."""
    if not isinstance(values, dict):
        raise InvalidParameterError(f"{where} must be a mapping of {cls.__name__} fields, got {values!r}")
    known = _fields(cls)
    kwargs = {}
    for key, value in values.items():
        if key not in known:
            raise InvalidParameterError(f"{where}.{key} is not a {cls.__name__} field; valid: {', '.join(known)}")
        kwargs[key] = _check_type(f"{where}.{key}", value, known[key])
    try:
        return replace(base, **kwargs) if base is not None else cls(**kwargs)
    except TypeError as exc:  # a required field missing
        missing = [k for k, f in ((f.name, f) for f in dataclasses.fields(cls))
                   if f.init and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
                   and k not in kwargs]
        if missing:
            raise InvalidParameterError(f"{where} needs {', '.join(missing)}") from None
        raise InvalidParameterError(f"{where}: {exc}") from None
    except FocuslabError as exc:
        raise InvalidParameterError(f"{where}: {exc}") from None


def _sensor(value: Any, base: SensorSpec | None) -> SensorSpec:
    from focuslab.sensor.presets import get_sensor, sensor_names

    if isinstance(value, str):
        if value not in sensor_names():
            raise InvalidParameterError(f"sensor {value!r} is not a sensor preset; valid: {', '.join(sensor_names())}"
                                        " (or give SensorSpec fields)")
        return get_sensor(value)
    if isinstance(value, dict) and "base" in value:
        rest = dict(value)
        name = rest.pop("base")
        return _section("sensor", SensorSpec, rest, _sensor(name, None))
    return _section("sensor", SensorSpec, value, base)


def _dp_response(value: Any) -> DualPixelResponse:
    if value == "ideal":
        return DualPixelResponse()
    if value == "pixel4":  # on axis, as in the phone_main preset (AF regions are rendered on axis)
        return PIXEL4_DP_RESPONSE_ON_AXIS
    if isinstance(value, str):
        raise InvalidParameterError(f"dual_pixel_response {value!r} is unknown; use ideal, pixel4 or "
                                    "DualPixelResponse fields")
    return _section("dual_pixel_response", DualPixelResponse, value)


def camera_from_dict(doc: Any, *, default_name: str = "camera") -> Camera:
    """The :class:`Camera` a camera-file document describes (see the module notes)."""
    from focuslab.camera.presets import camera_names, get_camera

    if not isinstance(doc, dict):
        raise InvalidParameterError("a camera file must hold a mapping (lens:, sensor:, actuator:, ...)")
    unknown = [k for k in doc if k not in TOP_KEYS]
    if unknown:
        raise InvalidParameterError(f"{unknown[0]!r} is not a camera-file key; valid: {', '.join(TOP_KEYS)}")
    name = doc.get("name", default_name)
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameterError(f"name must be a non-empty string, got {name!r}")
    if looks_like_camera_file(name):
        raise InvalidParameterError(f"name {name!r} ends like a file name; give the camera a plain label")
    if name in camera_names():
        raise InvalidParameterError(f"name {name!r} is a camera preset's; give the file's camera its own name")
    base = None
    if doc.get("base") is not None:
        if doc["base"] not in camera_names():
            raise InvalidParameterError(f"base {doc['base']!r} is not a camera preset; "
                                        f"valid: {', '.join(camera_names())}")
        base = get_camera(doc["base"])
    else:
        missing = [k for k in ("lens", "sensor", "actuator") if k not in doc]
        if missing:
            raise InvalidParameterError(f"without a base preset the file needs {', '.join(missing)}")
    lens = _section("lens", LensSpec, doc["lens"], base.lens if base else None) if "lens" in doc else base.lens
    sensor = _sensor(doc["sensor"], base.sensor if base else None) if "sensor" in doc else base.sensor
    actuator = (_section("actuator", ActuatorSpec, doc["actuator"], base.actuator if base else None)
                if "actuator" in doc else base.actuator)
    depth = base.depth_sensor if base else None
    if "depth_sensor" in doc:
        value = doc["depth_sensor"]
        if value is True:
            depth = DepthSensorSpec()
        elif value is False or value is None:
            depth = None
        else:
            depth = _section("depth_sensor", DepthSensorSpec, value, depth)
    if "dual_pixel_response" in doc:
        response = _dp_response(doc["dual_pixel_response"])
    elif base is not None and isinstance(base.psf, GeometricPsf):
        response = base.psf.dp_response
    else:
        response = DualPixelResponse()
    if base is not None and "lens" not in doc and "dual_pixel_response" not in doc:
        psf = base.psf
    else:
        psf = GeometricPsf.from_lens(lens, dp_response=response)
    scalars = {}
    for key, hint in (("preview_binning", int), ("supersample", int), ("frame_interval_s", float),
                      ("coc_max_px", float)):
        if key in doc:
            scalars[key] = _check_type(key, doc[key], hint)
    kwargs = dict(lens=lens, sensor=sensor, actuator=actuator, depth_sensor=depth, psf=psf, name=name, **scalars)
    try:
        return replace(base, **kwargs) if base is not None else Camera(**kwargs)
    except FocuslabError as exc:
        raise InvalidParameterError(str(exc)) from None


def read_camera_document(path: str | Path) -> dict:
    """The parsed camera file ``path`` (YAML or JSON), with ``name`` defaulted to the file's stem.

    Raises
    ------
    InputFileError
        The file is missing or is not valid YAML / JSON.
    """
    p = Path(path).expanduser()
    if not p.is_file():
        raise InputFileError(f"camera file {str(path)!r} does not exist; give a YAML file "
                             "(docs/cameras.md) or a preset name (focuslab cameras)")
    try:
        text = p.read_text(encoding="utf-8")
        doc = json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, json.JSONDecodeError) as exc:
        raise InputFileError(f"camera file {str(path)!r} cannot be read ({type(exc).__name__}); "
                             "fix it or give a preset name") from None
    if isinstance(doc, dict):
        doc = {"name": p.stem, **doc}
    return doc


def load_camera_file(path: str | Path) -> Camera:
    """Read a camera file (YAML or JSON; see the module notes); cached by resolved path.

    Raises
    ------
    InputFileError
        The file is missing or is not valid YAML / JSON.
    InvalidParameterError
        A key, a value or the camera it describes is wrong (the message names the file and key).
    """
    key = str(Path(path).expanduser().resolve())
    if key in _LABEL_OF:
        return _LOADED[_LABEL_OF[key]][0]
    doc = read_camera_document(path)
    try:
        cam = camera_from_dict(doc)
    except InvalidParameterError as exc:
        raise InvalidParameterError(f"camera file {str(path)!r}: {exc}") from None
    other = _LOADED.get(cam.name)
    if other is not None:
        raise InvalidParameterError(f"camera file {str(path)!r} is named {cam.name!r} like {other[2]!r}; "
                                    "give each camera file its own name")
    _LOADED[cam.name], _LABEL_OF[key] = (cam, doc, key), cam.name
    return cam
