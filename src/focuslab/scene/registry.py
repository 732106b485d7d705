"""The registry of built-in scenes: a plain dict filled by a decorator that refuses duplicates.

A scene builder is a function ``builder(shape, hfov_deg, subject_distance_m, seed, *,
option=default, ...) -> Scene`` registered with :func:`register_scene`; users call it through
:func:`focuslab.scene.library.make_scene`, which validates the common arguments and the
options (only the builder's keyword-only parameters are accepted).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

from focuslab.errors import InvalidParameterError

DEFAULT_SHAPE = (480, 640)
"""Default scene grid ``(H, W)``: modest, 4:3; the renderer resamples to any sensor."""
DEFAULT_HFOV_DEG = 40.0
"""Default horizontal field of view of synthetic scenes, degrees."""
DEFAULT_SUBJECT_DISTANCE_M = 1.0
"""Default subject distance of synthetic scenes, metres."""


@dataclass(frozen=True)
class SceneEntry:
    """A registered scene: its builder and the defaults of the common arguments.

    ``default_hfov_deg`` / ``default_subject_distance_m`` may be None for real RGB-D
    scenes, meaning "the photograph's own field of view / its own measured depths".
    """

    name: str
    builder: Callable
    default_shape: tuple[int, int]
    default_hfov_deg: float | None
    default_subject_distance_m: float | None

    @property
    def options(self) -> dict:
        """Keyword-only options of the builder with their defaults."""
        sig = inspect.signature(self.builder)
        return {
            p.name: p.default for p in sig.parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY
        }

    @property
    def summary(self) -> str:
        """First paragraph of the builder's docstring, on one line."""
        doc = inspect.getdoc(self.builder) or ""
        return " ".join(doc.split("\n\n")[0].split())


SCENES: dict[str, SceneEntry] = {}


def register_scene(
    name: str,
    *,
    default_shape: tuple[int, int] = DEFAULT_SHAPE,
    default_hfov_deg: float | None = DEFAULT_HFOV_DEG,
    default_subject_distance_m: float | None = DEFAULT_SUBJECT_DISTANCE_M,
) -> Callable[[Callable], Callable]:
    """Decorator: register ``builder`` under ``name`` in :data:`SCENES`.

    Raises
    ------
    InvalidParameterError
        When ``name`` is already registered (names are never silently replaced).
    """

    def decorate(builder: Callable) -> Callable:
        if name in SCENES:
            raise InvalidParameterError(f"scene {name!r} is already registered; choose another name")
        SCENES[name] = SceneEntry(name, builder, default_shape, default_hfov_deg, default_subject_distance_m)
        return builder

    return decorate
