"""One AF benchmark case (:class:`AFCase`) and the scene it renders (:func:`build_scene`).

A case is everything one closed-loop AF run needs except the policy: a built-in scene with
its options, subject distance and seed, the light level, the camera preset, the AF region on
the preview stream, the start code, and for video the duration and the camera's pan. Cases
are frozen, hashable and round-trip through JSON (:meth:`AFCase.to_dict`,
:meth:`AFCase.from_dict`), so a benchmark's checkpoints and results name them exactly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from focuslab.errors import InvalidParameterError
from focuslab.scene.library import make_scene
from focuslab.scene.scene import KeyframeMotion, Scene

#: Scene grid of the suites' scenes (rows, columns): ~1.2 samples per phone_main stream pixel at 40 deg.
SCENE_SHAPE = (480, 640)

#: Horizontal field of view spanned by the synthetic scenes' grid, degrees.
SCENE_HFOV_DEG = 40.0


@dataclass(frozen=True)
class AFCase:
    """One closed-loop AF run's set-up (no policy): what the benchmark renders.

    Attributes
    ----------
    suite, case_id
        Suite name and the case's id (unique within the suite).
    scene
        Built-in scene name (:func:`focuslab.scene.library.scene_names`).
    scene_options
        Scene options as sorted ``(name, value)`` pairs (hashable).
    subject_distance_m
        Subject distance, metres (None: the scene's own, e.g. RGB-D photographs).
    illuminance_lux
        Scene illuminance, lux.
    camera
        Camera preset name.
    roi
        AF region ``(x, y, w, h)`` on the preview stream, pixels.
    start_code
        Lens code at the start of the run.
    seed
        Seed of the scene's textures and of the camera's noise.
    video
        Whether the run is a video run (the loop keeps capturing for ``duration_s``).
    duration_s
        Video duration, seconds (None for stills).
    max_frames
        Frame budget of a stills run.
    pan_deg
        Lateral offset ``(dx, dy)`` (degrees) the subject reaches at the end of a video pan;
        None: no pan.
    stack
        Focal-stack folder replayed instead of the simulator (None: simulate the scene).
    """

    suite: str
    case_id: str
    scene: str
    scene_options: tuple[tuple[str, object], ...]
    subject_distance_m: float | None
    illuminance_lux: float
    camera: str
    roi: tuple[int, int, int, int]
    start_code: int | None
    seed: int
    video: bool = False
    duration_s: float | None = None
    max_frames: int = 40
    pan_deg: tuple[float, float] | None = None
    stack: str | None = None

    @property
    def options(self) -> dict:
        """Scene options as a dict."""
        return dict(self.scene_options)

    @property
    def label(self) -> str:
        """Short human label: scene, texture option, distance and light."""
        opt = self.options
        texture = opt.get("image") or opt.get("foreground") or opt.get("dataset") or ""
        if self.stack is not None:
            return f"{self.scene} region {self.case_id}"
        dist = f"{self.subject_distance_m:.2f} m" if self.subject_distance_m else "own depth"
        name = f"{self.scene}:{texture}" if texture else self.scene
        return f"{name} @ {dist}, {self.illuminance_lux:g} lux"

    def to_dict(self) -> dict:
        """JSON-ready dict (tuples as lists)."""
        d = asdict(self)
        d["scene_options"] = [list(p) for p in self.scene_options]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> AFCase:
        """Inverse of :meth:`to_dict`."""
        d = dict(d)
        d["scene_options"] = tuple((str(k), _freeze(v)) for k, v in d.get("scene_options", ()))
        d["roi"] = tuple(int(v) for v in d["roi"])
        if d.get("pan_deg") is not None:
            d["pan_deg"] = tuple(float(v) for v in d["pan_deg"])
        return cls(**d)


def _freeze(v):
    return tuple(_freeze(x) for x in v) if isinstance(v, list | tuple) else v


def build_scene(case: AFCase) -> Scene:
    """The case's scene (built-in scene + the camera pan of a video case).

    A pan moves the subject layer by ``pan_deg`` between 25 % and 60 % of the video; the
    background is a stationary random texture, so moving the camera over it would change
    nothing the AF region measures, and it stays put (a moved full-frame layer would bare
    the scene grid's edge inside the frame).
    """
    hfov = None if case.scene in ("middlebury", "rgbd") else SCENE_HFOV_DEG
    scene = make_scene(case.scene, shape=SCENE_SHAPE, hfov_deg=hfov, subject_distance_m=case.subject_distance_m,
                       seed=case.seed, **case.options)
    if case.pan_deg is None:
        return scene
    dur = float(case.duration_s or 1.0)
    t0, t1 = 0.25 * dur, 0.6 * dur  # hold, pan, hold
    layers = []
    for k, lay in enumerate(scene.layers):
        if lay.motion is not None:
            raise InvalidParameterError(f"scene {case.scene!r} already moves; a pan needs a static scene")
        if k != scene.subject_layer:
            layers.append(lay)  # a stationary texture: panning over it changes nothing the AF region measures
            continue
        depth = float(np.median(lay.depth_m)) if np.ndim(lay.depth_m) else float(lay.depth_m)
        motion = KeyframeMotion(times_s=(t0, t1), depths_m=(depth, depth),
                                offsets_deg=((0.0, 0.0), tuple(float(v) for v in case.pan_deg)))
        layers.append(replace(lay, motion=motion))
    return replace(scene, layers=tuple(layers))
