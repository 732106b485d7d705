"""Built-in named scenes: ``make_scene(name, ...)``, ``scene_names()``, ``describe_scene(name)``.

The scenes are registered by :mod:`focuslab.scene.synthetic_scenes` and
:mod:`focuslab.scene.real_scenes` (imported here, explicitly) in the plain dict
:data:`focuslab.scene.registry.SCENES`.

Examples
--------
>>> from focuslab.scene.library import make_scene
>>> scene = make_scene("two_planes", shape=(48, 64), subject_distance_m=0.8, seed=1)
>>> scene.subject_distance_m(), scene.metadata["background_distance_m"]
(0.8, 3.0)
"""

from __future__ import annotations

import numpy as np

from focuslab.errors import InvalidParameterError, UnknownNameError, check_positive
from focuslab.scene import real_scenes, synthetic_scenes  # noqa: F401  (they fill the registry)
from focuslab.scene.grid import check_shape
from focuslab.scene.registry import SCENES, SceneEntry
from focuslab.scene.scene import Scene


def scene_names() -> list[str]:
    """Names of the built-in scenes, sorted."""
    return sorted(SCENES)


def _entry(name: str) -> SceneEntry:
    if not isinstance(name, str) or name not in SCENES:
        raise UnknownNameError(f"scene {name!r} unknown; use one of {', '.join(scene_names())}")
    return SCENES[name]


def describe_scene(name: str) -> dict:
    """What a built-in scene is and what it accepts.

    Returns
    -------
    dict
        ``{"name", "summary", "default_shape", "default_hfov_deg",
        "default_subject_distance_m", "options"}`` where ``options`` maps each option to
        its default. A default of None for the field of view or distance means "the
        photograph's own" (real RGB-D scenes).

    Raises
    ------
    UnknownNameError
        When ``name`` is not a built-in scene (the message lists them).
    """
    e = _entry(name)
    return {
        "name": e.name,
        "summary": e.summary,
        "default_shape": e.default_shape,
        "default_hfov_deg": e.default_hfov_deg,
        "default_subject_distance_m": e.default_subject_distance_m,
        "options": e.options,
    }


def make_scene(
    name: str,
    *,
    shape=None,
    hfov_deg: float | None = None,
    subject_distance_m: float | None = None,
    seed: int = 0,
    **options,
) -> Scene:
    """Build the built-in scene ``name``.

    Parameters
    ----------
    name
        One of :func:`scene_names` (``"dead_leaves"`` is the default demo scene).
    shape
        Scene grid ``(H, W)``; default per scene (``(480, 640)``).
    hfov_deg
        Horizontal field of view the grid spans, degrees in (0, 180); default per scene
        (40° for synthetic scenes, the photograph's own for RGB-D scenes).
    subject_distance_m
        Distance of the subject (the layer AF should focus on), metres; default per scene
        (1 m for synthetic scenes; the measured depth for RGB-D scenes, else rescaled).
    seed
        Non-negative integer seed of every random texture; same seed gives bit-identical
        scenes.
    **options
        Scene-specific options, see :func:`describe_scene`.

    Returns
    -------
    Scene
        With ``subject_layer`` set and ``metadata["kind"]`` and
        ``metadata["subject_distance_m"]`` filled.

    Raises
    ------
    UnknownNameError
        Unknown scene name (lists the valid ones).
    InvalidParameterError
        Unknown option (lists the valid ones), or a bad shape, field of view, distance,
        seed or option value.
    """
    e = _entry(name)
    valid = e.options
    unknown = sorted(set(options) - set(valid))
    if unknown:
        listed = ", ".join(sorted(valid)) or "none"
        raise InvalidParameterError(
            f"scene {name!r} has no option {', '.join(unknown)}; its options are: {listed}"
        )
    grid = check_shape(e.default_shape if shape is None else shape)
    hfov = e.default_hfov_deg if hfov_deg is None else hfov_deg
    if hfov is not None:
        hfov = check_positive("hfov_deg", hfov)
        if hfov >= 180:
            raise InvalidParameterError(f"hfov_deg must be < 180 degrees, got {hfov_deg!r}")
    dist = e.default_subject_distance_m if subject_distance_m is None else subject_distance_m
    if dist is not None:
        dist = check_positive("subject_distance_m", dist)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InvalidParameterError(f"seed must be a non-negative integer, got {seed!r}")
    return e.builder(grid, hfov, dist, int(seed), **options)
