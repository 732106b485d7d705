"""Dataset-generation configs (``configs/data/NAME.yaml``): defaults, loading and validation.

A config is a plain mapping (YAML); :func:`load_config` reads it, :func:`normalize_config`
merges it over :data:`DEFAULTS` (nested sections merge key by key) and validates every
field, so the manifest stores the complete config that produced the data. Ranges are
``[low, high]`` pairs; see docs/datasets.md for what each one randomizes.
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from focuslab.errors import InputFileError, InvalidParameterError

#: The sample kinds (docs/dataset_format.md).
KINDS = ("dp", "two-frame", "fusion", "video")

#: The dual-pixel response families a variant may name (see generate_camera.dp_response).
DP_FAMILIES = ("ideal", "analytic", "pixel4")

#: ``sensor.analog_gain``: the AE's analogue gain (``auto``) or every frame read at unity gain.
ANALOG_GAIN_MODES = ("auto", "unity")

#: Texture sources (see generate_scene.texture_patch).
TEXTURE_SOURCES = ("dead_leaves", "one_over_f", "low_texture", "text", "checkerboard", "photo")

DEFAULTS: dict = {
    "kind": "dp",
    "num_samples": 1000,
    "samples_per_shard": 250,
    "crop_px": 64,
    "camera": "phone_main_tof",
    # name -> {"family": ideal|analytic|pixel4, "weight": w}
    "variants": {
        "phone_main": {"family": "pixel4", "weight": 1.0},
        "analytic": {"family": "analytic", "weight": 1.0},
        "ideal": {"family": "ideal", "weight": 0.5},
    },
    "textures": [
        {"source": "dead_leaves", "weight": 2.0},
        {"source": "photo", "weight": 2.0},
        {"source": "one_over_f", "weight": 1.0},
        {"source": "text", "weight": 0.5},
        {"source": "checkerboard", "weight": 0.25},
        {"source": "low_texture", "weight": 0.25},
    ],
    "photos": ["astronaut", "brick", "camera", "chelsea", "coffee", "coins", "grass", "gravel", "rocket", "page"],
    "contrast": [0.3, 1.0],
    "subject_distance_m": [0.12, 5.0],
    "light_lux": [3.0, 3000.0],
    "lens": {
        "focal_length_mm": [3.8, 5.0],
        "f_number": [1.6, 2.4],
        "aberration_probability": 0.1,
        "spherical_um": [-0.15, 0.15],
        "astigmatism_um": [-0.1, 0.1],
        "coma_um": [-0.1, 0.1],
    },
    # analog_gain: "auto" (the AE's analogue gain in the dark, as the AF benchmark reads; the
    # dp-defocus data) or "unity" (every frame at gain 1: the fusion, two-frame and temporal data)
    "sensor": {"pitch_scale": [0.8, 1.2], "read_noise_e": [1.0, 4.0], "analog_gain": "auto"},
    "dual_pixel": {
        "split_softness": [0.0, 0.7],
        "crosstalk": [0.0, 0.2],
        "lr_gain_ratio": [0.75, 1.0],
    },
    "actuator": {
        "start_code": [80, 120],
        "slope_um_per_code": [0.27, 0.33],
        "quadratic_um_per_code2": [-2.0e-5, 6.0e-5],
    },
    "lens_position": {"near_fraction": 0.5, "near_dof": 6.0, "far_fraction": 0.0, "far_dof": [15.0, 45.0]},
    "depth_edge": {"probability": 0.0, "card_share": [0.35, 0.8], "gap_diopters": [0.5, 4.0],
                   "corner_probability": 0.0},
    "augment": {"hflip": 0.5, "vflip": 0.5, "gain_jitter": 0.1},
    "two_frame": {"step_codes": [15, 80]},
    "fusion": {"background_distance_m": [0.5, 8.0], "card_fraction": [0.1, 0.6], "field_deg": 62.0},
    "video": {"frames": 8, "speed_diopters_per_s": [0.0, 6.0], "tracking_error_dof": [0.0, 4.0],
              "jump_probability": 0.0, "jump_diopters": [0.5, 4.0], "start_far_probability": 0.0},
}


def config_camera(cfg: dict):
    """The base :class:`~focuslab.camera.camera.Camera` of a config: its ``camera`` is a preset name
    or a camera-file mapping (:mod:`focuslab.camera.camera_file`; :func:`load_config` inlines a
    camera file's path, so the run's fingerprint covers the camera's every field)."""
    from focuslab.camera import camera_names, get_camera
    from focuslab.camera.camera_file import camera_from_dict

    camera = cfg["camera"]
    if isinstance(camera, dict):
        try:
            return camera_from_dict(camera, default_name="data_camera")
        except InvalidParameterError as exc:
            raise InvalidParameterError(f"config camera: {exc}") from None
    if not isinstance(camera, str) or camera not in camera_names():
        raise InvalidParameterError(f"config camera {camera!r} unknown; use one of {', '.join(camera_names())}, "
                                    "a camera file's path or its mapping (docs/cameras.md)")
    return get_camera(camera)


def _merge(base: dict, over: dict, path: str = "") -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if key not in base:
            raise InvalidParameterError(
                f"unknown config key {path + key!r}; valid keys are {', '.join(sorted(base))}"
            )
        if isinstance(base[key], dict) and key != "variants":
            if not isinstance(value, dict):
                raise InvalidParameterError(f"config key {path + key!r} must be a mapping, got {value!r}")
            out[key] = _merge(base[key], value, f"{path}{key}.")
        else:
            out[key] = copy.deepcopy(value)
    return out


def _range(name: str, value, *, positive: bool = False) -> list[float]:
    ok = isinstance(value, list | tuple) and len(value) == 2
    if ok:
        try:
            lo, hi = float(value[0]), float(value[1])
        except (TypeError, ValueError):
            ok = False
    if not ok or not lo <= hi:
        raise InvalidParameterError(f"config {name} must be a range [low, high] with low <= high, got {value!r}")
    if positive and lo <= 0:
        raise InvalidParameterError(f"config {name} must be > 0, got {value!r}")
    return [lo, hi]


def _count(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidParameterError(f"config {name} must be an integer >= {minimum}, got {value!r}")
    return value


def _prob(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise InvalidParameterError(f"config {name} must be a probability in [0, 1], got {value!r}")
    return float(value)


def normalize_config(raw: dict | None) -> dict:
    """The complete, validated config: ``raw`` merged over :data:`DEFAULTS`.

    Raises
    ------
    InvalidParameterError
        An unknown key, a bad kind, range, count, weight or name (one line, what to fix).
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InvalidParameterError(f"a data config must be a mapping of keys, got {type(raw).__name__}")
    cfg = _merge(DEFAULTS, raw)
    if cfg["kind"] not in KINDS:
        raise InvalidParameterError(f"config kind {cfg['kind']!r} unknown; use one of {', '.join(KINDS)}")
    _count("num_samples", cfg["num_samples"])
    _count("samples_per_shard", cfg["samples_per_shard"])
    crop = _count("crop_px", cfg["crop_px"], 8)
    if crop % 2:
        raise InvalidParameterError(f"config crop_px must be even (whole Bayer quads), got {crop}")
    cam = config_camera(cfg)
    if cfg["kind"] in ("dp", "fusion", "video") and not cam.has_dual_pixel:
        raise InvalidParameterError(f"kind {cfg['kind']!r} needs a dual-pixel camera; {cam.name!r} has none")
    if cfg["kind"] == "fusion" and cam.depth_sensor is None:
        raise InvalidParameterError(f"kind 'fusion' needs a camera with a depth sensor (e.g. phone_main_tof), "
                                    f"not {cam.name!r}")
    variants = cfg["variants"]
    if not isinstance(variants, dict) or not variants:
        raise InvalidParameterError("config variants must be a non-empty mapping name -> {family, weight}")
    for name, v in variants.items():
        if not isinstance(v, dict) or v.get("family") not in DP_FAMILIES:
            raise InvalidParameterError(f"variant {name!r} needs a family among {', '.join(DP_FAMILIES)}, got {v!r}")
        v.setdefault("weight", 1.0)
        if not isinstance(v["weight"], int | float) or v["weight"] <= 0:
            raise InvalidParameterError(f"variant {name!r} weight must be > 0, got {v['weight']!r}")
    textures = cfg["textures"]
    if not isinstance(textures, list) or not textures:
        raise InvalidParameterError("config textures must be a non-empty list of {source, weight}")
    for t in textures:
        if not isinstance(t, dict) or t.get("source") not in TEXTURE_SOURCES:
            raise InvalidParameterError(f"texture {t!r} needs a source among {', '.join(TEXTURE_SOURCES)}")
        t.setdefault("weight", 1.0)
        if not isinstance(t["weight"], int | float) or t["weight"] <= 0:
            raise InvalidParameterError(f"texture {t['source']!r} weight must be > 0, got {t['weight']!r}")
    from focuslab.scene.photos import photo_names

    bad = [p for p in cfg["photos"] if p not in photo_names()]
    if bad or not cfg["photos"]:
        raise InvalidParameterError(f"config photos {bad or '[]'} unknown; use names among {', '.join(photo_names())}")
    _range("contrast", cfg["contrast"], positive=True)
    d = _range("subject_distance_m", cfg["subject_distance_m"], positive=True)
    if d[0] < 0.05:
        raise InvalidParameterError(f"config subject_distance_m must start at >= 0.05 m, got {d[0]}")
    _range("light_lux", cfg["light_lux"], positive=True)
    for key in ("focal_length_mm", "f_number"):
        _range(f"lens.{key}", cfg["lens"][key], positive=True)
    for key in ("spherical_um", "astigmatism_um", "coma_um"):
        _range(f"lens.{key}", cfg["lens"][key])
    _prob("lens.aberration_probability", cfg["lens"]["aberration_probability"])
    _range("sensor.pitch_scale", cfg["sensor"]["pitch_scale"], positive=True)
    rn = _range("sensor.read_noise_e", cfg["sensor"]["read_noise_e"])
    if rn[0] < 0:
        raise InvalidParameterError(f"config sensor.read_noise_e must be >= 0, got {rn}")
    if cfg["sensor"]["analog_gain"] not in ANALOG_GAIN_MODES:
        raise InvalidParameterError(f"config sensor.analog_gain must be one of {', '.join(ANALOG_GAIN_MODES)}, "
                                    f"got {cfg['sensor']['analog_gain']!r}")
    soft = _range("dual_pixel.split_softness", cfg["dual_pixel"]["split_softness"])
    xt = _range("dual_pixel.crosstalk", cfg["dual_pixel"]["crosstalk"])
    g = _range("dual_pixel.lr_gain_ratio", cfg["dual_pixel"]["lr_gain_ratio"], positive=True)
    if soft[0] < 0 or xt[0] < 0 or xt[1] >= 0.5 or g[1] > 1.0:
        raise InvalidParameterError("config dual_pixel: split_softness >= 0, crosstalk in [0, 0.5), "
                                    "lr_gain_ratio in (0, 1]")
    for key in ("start_code", "slope_um_per_code", "quadratic_um_per_code2"):
        _range(f"actuator.{key}", cfg["actuator"][key])
    _prob("lens_position.near_fraction", cfg["lens_position"]["near_fraction"])
    _prob("lens_position.far_fraction", cfg["lens_position"]["far_fraction"])
    if float(cfg["lens_position"]["near_fraction"]) + float(cfg["lens_position"]["far_fraction"]) > 1.0:
        raise InvalidParameterError("config lens_position: near_fraction + far_fraction must be <= 1")
    if not float(cfg["lens_position"]["near_dof"]) > 0:
        raise InvalidParameterError("config lens_position.near_dof must be > 0")
    _range("lens_position.far_dof", cfg["lens_position"]["far_dof"], positive=True)
    _prob("depth_edge.probability", cfg["depth_edge"]["probability"])
    share = _range("depth_edge.card_share", cfg["depth_edge"]["card_share"], positive=True)
    if share[0] <= 0.0 or share[1] > 1.0:
        raise InvalidParameterError("config depth_edge.card_share must lie in (0, 1] (a card below 30 % of "
                                    "the crop is labelled with the background: the nearest subject covering "
                                    ">= 30 % of the region wins)")
    _prob("depth_edge.corner_probability", cfg["depth_edge"]["corner_probability"])
    _range("depth_edge.gap_diopters", cfg["depth_edge"]["gap_diopters"], positive=True)
    for key in ("hflip", "vflip"):
        _prob(f"augment.{key}", cfg["augment"][key])
    j = cfg["augment"]["gain_jitter"]
    if isinstance(j, bool) or not isinstance(j, int | float) or not 0.0 <= j < 1.0:
        raise InvalidParameterError(f"config augment.gain_jitter must be in [0, 1), got {j!r}")
    _range("two_frame.step_codes", cfg["two_frame"]["step_codes"], positive=True)
    _range("fusion.background_distance_m", cfg["fusion"]["background_distance_m"], positive=True)
    cf = _range("fusion.card_fraction", cfg["fusion"]["card_fraction"], positive=True)
    if cf[1] > 0.95:
        raise InvalidParameterError("config fusion.card_fraction must stay <= 0.95")
    _count("video.frames", cfg["video"]["frames"], 2)
    _range("video.speed_diopters_per_s", cfg["video"]["speed_diopters_per_s"])
    _range("video.tracking_error_dof", cfg["video"]["tracking_error_dof"])
    _prob("video.jump_probability", cfg["video"]["jump_probability"])
    _range("video.jump_diopters", cfg["video"]["jump_diopters"], positive=True)
    _prob("video.start_far_probability", cfg["video"]["start_far_probability"])
    return cfg


def load_config(path: str | Path) -> dict:
    """Read and validate ``configs/data/NAME.yaml`` (see :func:`normalize_config`).

    Raises
    ------
    InputFileError
        Missing or unparsable file.
    InvalidParameterError
        Invalid content.
    """
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"data config {str(p)!r} not found; give a YAML file such as configs/data/dp_small.yaml")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputFileError(f"cannot parse data config {str(p)!r} ({first}); fix the YAML") from None
    if isinstance(raw, dict) and isinstance(raw.get("camera"), str):
        from focuslab.camera.camera_file import looks_like_camera_file, read_camera_document

        if looks_like_camera_file(raw["camera"]):  # a path relative to the config's folder, inlined
            cam_path = Path(raw["camera"]).expanduser()
            raw = {**raw, "camera": read_camera_document(cam_path if cam_path.is_absolute() else p.parent / cam_path)}
    return normalize_config(raw)
