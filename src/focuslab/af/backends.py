"""Where AF observations come from: the simulator (:class:`SimulatorBackend`) or a replayed
focal stack (:class:`~focuslab.af.replay.ReplayBackend`, re-exported here).

A backend offers ``context`` (:class:`~focuslab.af.types.AFContext`), ``observe(frame_index,
t_s) -> Observation``, ``command(code, t_s)`` and ``truth(t_s) -> Truth``; the loop
(:func:`focuslab.af.loop.run_af`) never lets a policy see ``truth`` (except the oracle).

Simulator. A :class:`~focuslab.camera.session.CaptureSession` renders every frame where the
lens really is (mean position over the exposure plus jitter), on the AF region only (render
cost is proportional to the region). Observation: ``image`` = (ROI raw - black) / (white -
black), float32 mosaic with its CFA; dual-pixel halves the same way; depth zones mapped onto
the stream with the calibrated position of the commanded code; ``reported_code`` = the true
lens position at the end of the exposure (the readout) plus Hall-sensor noise
N(0, ``hall_noise_um``^2), converted to code units with the factory calibration (the inverse of
the calibrated map, linear between codes; the lens on its stop reports the lift-off code).
Exposure: ``exposure_s`` or :func:`~focuslab.camera.exposure.auto_exposure_s` for the light
level, capped by the frame interval; with the automatic exposure the AE also sets the analogue
gain (:func:`~focuslab.camera.exposure.auto_analog_gain`: above 1 once the exposure is capped,
e.g. 16x at 3-12 lux on the presets' preview); a given ``exposure_s`` reads at unity gain
unless ``analog_gain`` is given too.

Truth (simulator): the subject distance of the AF region at mid-exposure
(:func:`focuslab.af.region_depth.region_subject_distance_m`), ``best_code`` = the real-valued
code whose *true* equilibrium position (calibrated map plus the posture offset, before play)
focuses it, ``lens_code_true`` = the frame's true lens position expressed in codes, and
``focus_error_dof`` = |c| / c_max of the subject with the lens where it truly was.
"""

from __future__ import annotations

import math

import numpy as np

from focuslab.af.region_depth import region_subject_distance_m
from focuslab.af.regions import centre_roi, check_roi
from focuslab.af.replay import ReplayBackend, ReplayStack
from focuslab.af.truth import Truth
from focuslab.af.types import AFContext, DepthZones, Observation
from focuslab.camera.camera import Camera
from focuslab.camera.exposure import auto_exposure
from focuslab.errors import InvalidParameterError, check_positive
from focuslab.optics.focus import lens_displacement_um
from focuslab.scene.scene import Scene
from focuslab.sensor.expose import check_analog_gain

_MASK64 = (1 << 64) - 1


def camera_context(cam: Camera, *, exposure_s: float | None = None) -> AFContext:
    """What the AF knows about the simulated camera ``cam``: code range, optics, its factory
    calibration (code <-> distance) and the actuator's stated settling time (no scene needed)."""
    act, lens = cam.actuator, cam.lens
    # stated settling time: a full-stroke step into a quarter depth of focus in lens travel
    tol_um = 0.25 * cam.coc_max_um * lens.f_number
    return AFContext(
        min_code=int(cam.focus_code_for_distance(math.inf)),
        max_code=int(cam.focus_code_for_distance(lens.min_focus_distance_m)),
        frame_interval_s=float(cam.frame_interval_s),
        has_dual_pixel=cam.has_dual_pixel,
        has_depth=cam.depth_sensor is not None,
        focal_length_mm=lens.focal_length_mm,
        f_number=lens.f_number,
        pixel_pitch_um=float(cam.stream_sensor.pixel_pitch_um),
        coc_max_um=float(cam.coc_max_um),
        code_for_distance=cam.focus_code_for_distance,
        distance_for_code=lambda code: cam.focus_distance_m(act.displacement_um(int(code))),
        settle_time_s=float(act.settling_time_s(tol_um)),
        name=cam.name,
        extra={"native_pixel_pitch_um": float(cam.sensor.pixel_pitch_um), "exposure_s": exposure_s},
    )


class SimulatorBackend:
    """Closed-loop AF on the simulator: a camera session looking at a scene.

    Parameters
    ----------
    camera
        The camera (:func:`focuslab.camera.presets.get_camera`).
    scene
        The scene (may move).
    roi
        AF region ``(x, y, w, h)`` in preview-stream pixels; default :func:`centre_roi`.
    illuminance_lux
        Scene illuminance, lux.
    seed
        Session seed (lens jitter, sensor noise, depth noise, Hall noise).
    initial_code
        Code the lens rests at before the run (default: the lift-off code, infinity).
    exposure_s
        Fixed exposure, seconds; default auto-exposure for ``illuminance_lux``, capped by the
        frame interval.
    hall_noise_um
        RMS noise of the actuator's position sensor, µm (>= 0).
    device
        Torch device for rendering (None = cpu).
    analog_gain
        Analogue gain of the readout (x); default: the AE's
        (:func:`~focuslab.camera.exposure.auto_analog_gain`) with the automatic exposure, 1
        with a fixed ``exposure_s``. Kept in ``self.analog_gain``.
    """

    def __init__(
        self,
        camera: Camera,
        scene: Scene,
        *,
        roi: tuple[int, int, int, int] | None = None,
        illuminance_lux: float = 500.0,
        seed: int = 0,
        initial_code: int | None = None,
        exposure_s: float | None = None,
        hall_noise_um: float = 0.3,
        device=None,
        analog_gain: float | None = None,
    ):
        if not isinstance(camera, Camera):
            raise InvalidParameterError(f"camera must be a focuslab Camera, got {type(camera).__name__}")
        if not isinstance(scene, Scene):
            raise InvalidParameterError(f"scene must be a focuslab Scene, got {type(scene).__name__}")
        self.camera, self.scene = camera, scene
        shape = camera.stream_sensor.shape_px
        self.roi = centre_roi(shape) if roi is None else check_roi(roi, shape)
        self.illuminance_lux = check_positive("illuminance_lux", illuminance_lux)
        if exposure_s is None:
            self.exposure_s, self.analog_gain = auto_exposure(camera, self.illuminance_lux)
        else:
            self.exposure_s = min(check_positive("exposure_s", exposure_s), camera.frame_interval_s)
            self.analog_gain = 1.0
        if analog_gain is not None:
            self.analog_gain = check_analog_gain(camera.stream_sensor, analog_gain)
        self.hall_noise_um = check_positive("hall_noise_um", hall_noise_um, allow_zero=True)
        self.seed = seed
        self.session = camera.session(seed=seed, initial_code=initial_code, device=device)
        act = camera.actuator
        self._codes = np.arange(act.max_code + 1, dtype=float)
        self._table_um = np.asarray(act.displacement_um(np.arange(act.max_code + 1)), dtype=float)
        self._hall_key = np.random.SeedSequence(seed).entropy
        self._context = self._make_context()

    # ------------------------------------------------------------------ context
    def _make_context(self) -> AFContext:
        return camera_context(self.camera, exposure_s=self.exposure_s)

    @property
    def context(self) -> AFContext:
        """What the AF knows about this camera (no truth)."""
        return self._context

    # ------------------------------------------------------------------ code <-> µm
    def code_for_um(self, displacement_um: float) -> float:
        """Real-valued code whose calibrated displacement is ``displacement_um`` (linear between codes).

        Below 0 µm (a noisy reading of the lens on its stop) the map is extended linearly with
        its slope at lift-off, so a position sensor's noise stays zero-mean there.
        """
        start = self.camera.actuator.start_code
        tab, codes = self._table_um[start:], self._codes[start:]
        top = int(np.searchsorted(tab, tab[-1], side="left"))  # first code at the stroke's end
        d = float(displacement_um)
        if d < 0.0:
            return float(start + d / (tab[1] - tab[0]))
        return float(np.interp(d, tab[: top + 1], codes[: top + 1]))

    def _true_code_for_um(self, displacement_um: float) -> float:
        """Code whose true equilibrium (with the posture offset, before play) is ``displacement_um``."""
        if displacement_um <= 0.0:
            return float(self.camera.actuator.start_code)
        return self.code_for_um(displacement_um - self.camera.actuator.gravity_offset_um)

    # ------------------------------------------------------------------ loop interface
    def observe(self, frame_index: int, t_s: float) -> Observation:
        """Capture frame ``frame_index`` whose exposure starts at ``t_s`` (seconds)."""
        cam = self.camera
        frame = self.session.capture(
            self.scene, t_s, exposure_s=self.exposure_s, illuminance_lux=self.illuminance_lux, roi=self.roi,
            analog_gain=self.analog_gain,
        )
        raw = frame.raw
        left = right = None
        if raw.has_dual_pixel:
            left, right = raw.normalized_pair()
        depth = None
        if frame.depth is not None:
            r = frame.depth
            d_cmd = float(cam.actuator.displacement_um(frame.lens_code))
            depth = DepthZones(
                distance_m=r.distance_m,
                valid=r.valid,
                sigma_m=r.sigma_m,
                rois_px=cam.depth_zone_rois_px(r, d_cmd),
            )
        t_read = t_s + self.exposure_s
        rng = np.random.default_rng(
            np.random.SeedSequence([self._hall_key & _MASK64, self._hall_key >> 64, 3, frame_index])
        )
        hall_um = self.session.lens_position_um(t_read) + float(rng.normal(0.0, self.hall_noise_um))
        return Observation(
            frame_index=int(frame_index),
            t_s=float(t_s),
            exposure_s=float(self.exposure_s),
            lens_code=int(frame.lens_code),
            reported_code=self.code_for_um(hall_um),
            roi=self.roi,
            image=raw.normalized(),
            cfa=None if raw.cfa == "mono" else raw.cfa,
            left=left,
            right=right,
            depth=depth,
            frame_shape_px=cam.stream_sensor.shape_px,
            analog_gain=float(frame.analog_gain),
        )

    def command(self, code: int, t_s: float) -> int:
        """Send ``code`` (clipped to the context's code range) at ``t_s``; returns the code sent."""
        ctx = self._context
        c = int(np.clip(round(float(code)), ctx.min_code, ctx.max_code))
        self.session.move_to(c, t_s)
        return c

    def subject_distance_m(self, t_s: float) -> float | None:
        """The AF region's subject distance at mid-exposure of the frame starting at ``t_s``."""
        d_um = self.session.exposure_position_um(t_s, self.exposure_s)
        return region_subject_distance_m(
            self.camera, self.scene, self.roi, t_s=t_s + 0.5 * self.exposure_s, displacement_um=d_um
        )

    def truth(self, t_s: float) -> Truth:
        """The truth for the frame whose exposure starts at ``t_s`` (see the module notes)."""
        cam = self.camera
        d_um = self.session.exposure_position_um(t_s, self.exposure_s)
        u = self.subject_distance_m(t_s)
        if u is None:
            u = self.scene.subject_distance_m(t_s)
        if u is None:
            raise InvalidParameterError("the scene shows nothing in the AF region; give a scene with a subject there")
        need_um = float(lens_displacement_um(cam.lens.focal_length_mm, max(u, cam.lens.min_focus_distance_m)))
        return Truth(
            best_code=self._true_code_for_um(need_um),
            focus_error_dof=float(cam.focus_error_dof(u, d_um)),
            lens_code_true=self._true_code_for_um(d_um),
            subject_distance_m=float(u),
        )

    def dof_per_code(self, code: float) -> float:
        """Depths of focus per code of lens travel near ``code`` (for overshoot in DoF)."""
        cam = self.camera
        c = int(np.clip(round(code), self.camera.actuator.start_code + 1, cam.actuator.max_code - 1))
        du = float(self._table_um[c + 1] - self._table_um[c - 1]) / 2.0
        s_mm = cam.sensor_distance_mm(float(self._table_um[c]))
        # dc/ds = A / s_u  (blur per unit of lens travel at the in-focus image distance)
        return du * cam.lens.aperture_diameter_mm / s_mm / cam.coc_max_um


__all__ = ["ReplayBackend", "ReplayStack", "SimulatorBackend", "Truth"]
