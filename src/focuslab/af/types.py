"""The AF loop's interface: what a policy sees (:class:`Observation`), what it says
(:class:`Command`), what it knows about the camera (:class:`AFContext`), and the policy
protocol (DESIGN.md "AF in a closed loop")::

    Observation -> AFPolicy.step(observation) -> Command(target_code, done)

A policy never sees the truth (true lens displacement, subject distance): only what a phone's
AF firmware has: the raw AF region (and the dual-pixel left/right region when the sensor has
one), the depth sensor's zones when the camera has one, the commanded code, the position the
actuator reports (Hall sensor), the time and the exposure. Lens-model quantities (factory
calibration code <-> distance) come through :class:`AFContext` when the backend knows them
(the simulator does; a replayed real focal stack usually does not).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True, eq=False)
class DepthZones:
    """Depth-sensor zones as the AF sees them (no truth).

    Attributes
    ----------
    distance_m
        ``zones_y x zones_x`` measured distances, metres; NaN where the zone has no return.
    valid
        Boolean mask of zones with a return.
    sigma_m
        Predicted 1-sigma range noise per zone, metres (NaN where invalid): the confidence.
    rois_px
        ``zones_y x zones_x x 4`` zone footprints ``(x, y, w, h)`` on the frame, pixels.
    """

    distance_m: np.ndarray
    valid: np.ndarray
    sigma_m: np.ndarray
    rois_px: np.ndarray


@dataclass(frozen=True, eq=False)
class Observation:
    """One frame as the AF policy receives it.

    Attributes
    ----------
    frame_index
        0, 1, ... within the run.
    t_s
        Exposure start, seconds since the run started.
    exposure_s
        Exposure time, seconds.
    lens_code
        The code last commanded (what the driver IC holds).
    reported_code
        Lens position reported by the actuator (Hall sensor), in code units (float). It lags
        the command while the lens moves and carries the sensor's noise.
    roi
        The AF region ``(x, y, w, h)`` in frame pixels.
    image
        The AF region of the frame, float32, black level removed, divided by
        (white - black): ``h x w`` raw mosaic (see ``cfa``) or grey/processed image.
    cfa
        Bayer pattern of ``image`` at the ROI origin (``"RGGB"``...), or None when ``image``
        is not a mosaic.
    left, right
        Dual-pixel sub-images of the AF region (same scaling as ``image``), or None.
    depth
        Depth-sensor zones, or None.
    frame_shape_px
        ``(H, W)`` of the whole frame.
    analog_gain
        Analogue gain the frame was read with (x; the AE's, 1 for a replayed frame): ``image``
        is in units of the ADC's range, so a gained dark frame is brighter and its pixel noise
        in those units larger by the gain.
    """

    frame_index: int
    t_s: float
    exposure_s: float
    lens_code: int
    reported_code: float
    roi: tuple[int, int, int, int]
    image: np.ndarray
    cfa: str | None = None
    left: np.ndarray | None = None
    right: np.ndarray | None = None
    depth: DepthZones | None = None
    frame_shape_px: tuple[int, int] = (0, 0)
    analog_gain: float = 1.0


@dataclass(frozen=True)
class Command:
    """A policy's answer: where to move the lens, and whether AF is done.

    ``target_code=None`` keeps the lens where it was commanded. ``done=True`` ends a stills
    AF run (the loop still captures the frames it was asked for in video).
    """

    target_code: int | None = None
    done: bool = False


@dataclass(frozen=True)
class AFContext:
    """What the AF firmware knows about its camera (no truth).

    Attributes
    ----------
    min_code, max_code
        The code range of the lens sweep: infinity stop to the minimum focus distance.
    frame_interval_s
        Time between frames (the frame rate), seconds.
    has_dual_pixel, has_depth
        Which sensors the camera has (the backend provides them in observations).
    focal_length_mm, f_number, pixel_pitch_um
        Lens and (frame) pixel pitch; pixel pitch of the frames the AF sees.
    coc_max_um
        The depth-of-focus unit's permissible blur (2 native pitches), micrometres.
    code_for_distance
        Factory calibration: the code focusing at a distance (m; ``inf`` allowed), or None
        when unknown (real replay).
    distance_for_code
        Factory calibration: the focus distance (m) at a code, or None when unknown.
    settle_time_s
        Stated settling time of the actuator for a large move, seconds (None: unknown).
    name
        Camera or stack name, for reports.
    """

    min_code: int
    max_code: int
    frame_interval_s: float
    has_dual_pixel: bool
    has_depth: bool
    focal_length_mm: float | None = None
    f_number: float | None = None
    pixel_pitch_um: float | None = None
    coc_max_um: float | None = None
    code_for_distance: Callable[[float], int] | None = None
    distance_for_code: Callable[[int], float] | None = None
    settle_time_s: float | None = None
    name: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def has_lens_model(self) -> bool:
        """Whether the factory code <-> distance calibration is known."""
        return self.code_for_distance is not None and self.distance_for_code is not None


@runtime_checkable
class AFPolicy(Protocol):
    """An AF algorithm: stateful, reset at the start of every run.

    ``requires`` names what the policy needs from the camera: any of ``"dual_pixel"``,
    ``"depth"``, ``"lens_model"``; the benchmark skips a policy on a camera without them.
    A policy that keeps a moving subject in focus (video AF) also sets a class attribute
    ``video = True``; without it the policy is a stills method, which the benchmark does not
    score on video suites (:func:`focuslab.bench.af_runner.runs_video`).
    """

    name: str
    requires: frozenset[str]

    def reset(self, context: AFContext) -> None:
        """Forget everything; the next :meth:`step` is the first frame of a new run."""
        ...

    def step(self, observation: Observation) -> Command:
        """Look at one frame and decide the next lens command."""
        ...
