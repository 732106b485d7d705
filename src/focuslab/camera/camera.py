"""`Camera`: lens + sensor + VCM actuator + optional depth sensor + PSF model (frozen).

Geometry (DESIGN.md "Physics"): the actuator moves the lens by d (µm) from its infinity
position, so the lens-to-sensor distance is s = f + d and the lens is focused at u_f with
1/f = 1/u_f + 1/s. The factory calibration knows the code -> d map
(:class:`~focuslab.camera.actuator.ActuatorSpec`) and so the code for any distance
(:meth:`Camera.focus_code_for_distance`), but not the posture offset, the play or the jitter.

AF preview stream. Phones run AF on a binned preview stream, and rendering a 12 MP frame per
AF step is far too slow, so frames are rendered and read out at ``preview_binning`` k: the
stream is the sensor's binned mode (:meth:`focuslab.sensor.SensorSpec.binned`: pitch k·p,
(W/k) × (H/k) pixels, charge binning), and the PSF is sampled on that coarser pitch (a blur
of c µm is c / (k p) stream pixels). The *depth-of-focus unit* does not change with the
stream: c_max = ``coc_max_px`` (default 2) **native** pixel pitches, because focus is judged
on the full-resolution still the user keeps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from focuslab.camera.actuator import ActuatorSpec
from focuslab.camera.depth_sensor import DepthReading, DepthSensorSpec
from focuslab.errors import InvalidParameterError, check_positive
from focuslab.optics import GeometricPsf
from focuslab.optics.focus import (
    DEFAULT_COC_MAX_PX,
    coc_diameter_um,
    coc_max_um,
    focus_distance_from_displacement_m,
    lens_displacement_um,
)
from focuslab.optics.lens import LensSpec
from focuslab.optics.psf_model import PsfModel
from focuslab.sensor.spec import BinningMode, SensorSpec
from focuslab.units import um_to_mm

#: Largest diagonal field of view (degrees) accepted for a rectilinear phone-style lens.
MAX_DIAGONAL_FOV_DEG = 150.0


@dataclass(frozen=True)
class Camera:
    """A camera module: the hardware of one phone camera (frozen, validated).

    Parameters
    ----------
    lens
        Thin lens (focal length, f-number, minimum focus distance).
    sensor
        Full-resolution sensor (its ``dual_pixel`` flag says whether phase detection exists).
    actuator
        VCM actuator; its stroke must reach the lens's minimum focus distance.
    depth_sensor
        Optional multizone ToF sensor, boresighted with the camera.
    psf
        The :class:`~focuslab.optics.psf_model.PsfModel` used to render defocus; ``None``:
        the geometric PSF of the lens's aperture (``GeometricPsf.from_lens``).
    preview_binning
        Readout binning k of the AF preview stream (1 = full resolution).
    supersample
        Render samples per stream pixel pitch (pixel integration box), >= 1.
    frame_interval_s
        Time between preview frames, seconds (1/30 for 30 fps).
    coc_max_px
        Permissible circle of confusion in *native* pixel pitches (DESIGN.md default 2).
    name
        Label for reports.

    Raises
    ------
    InvalidParameterError
        A field out of range or an impossible combination: an actuator stroke that cannot
        reach the minimum focus distance, a field of view wider than a rectilinear lens, a
        binning factor the sensor cannot do.
    """

    lens: LensSpec
    sensor: SensorSpec
    actuator: ActuatorSpec
    depth_sensor: DepthSensorSpec | None = None
    psf: PsfModel | None = None
    preview_binning: int = 4
    supersample: int = 2
    frame_interval_s: float = 1.0 / 30.0
    coc_max_px: float = DEFAULT_COC_MAX_PX
    name: str = "camera"
    _stream: SensorSpec = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for key, kind in (("lens", LensSpec), ("sensor", SensorSpec), ("actuator", ActuatorSpec)):
            if not isinstance(getattr(self, key), kind):
                raise InvalidParameterError(
                    f"Camera.{key} must be a {kind.__name__}, got {type(getattr(self, key)).__name__}"
                )
        if self.depth_sensor is not None and not isinstance(self.depth_sensor, DepthSensorSpec):
            raise InvalidParameterError(
                "Camera.depth_sensor must be a DepthSensorSpec or None, "
                f"got {type(self.depth_sensor).__name__}"
            )
        if self.psf is None:
            object.__setattr__(self, "psf", GeometricPsf.from_lens(self.lens))
        if not isinstance(self.psf, PsfModel):
            raise InvalidParameterError(
                "Camera.psf must implement focuslab.optics.psf_model.PsfModel "
                f"(e.g. focuslab.optics.GeometricPsf), got {type(self.psf).__name__}"
            )
        for key in ("preview_binning", "supersample"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise InvalidParameterError(f"{key} must be an integer >= 1, got {v!r}")
        check_positive("frame_interval_s", self.frame_interval_s)
        check_positive("coc_max_px", self.coc_max_px)
        f = self.lens.focal_length_mm
        need = float(lens_displacement_um(f, self.lens.min_focus_distance_m))
        if need > self.actuator.stroke_um:
            raise InvalidParameterError(
                f"actuator stroke {self.actuator.stroke_um:g} µm cannot reach the lens's minimum focus "
                f"distance {self.lens.min_focus_distance_m:g} m (needs {need:.1f} µm at f = {f:g} mm); "
                "use a longer stroke or a larger min_focus_distance_m"
            )
        reach = float(self.actuator.displacement_um(self.actuator.max_code))
        if need > reach:
            raise InvalidParameterError(
                f"the actuator's calibrated map reaches only {reach:.1f} µm but the minimum focus "
                f"distance needs {need:.1f} µm; raise slope_um_per_code or the stroke"
            )
        half_diag_mm = 0.5 * self.sensor.diagonal_mm
        fov = 2.0 * math.degrees(math.atan(half_diag_mm / f))
        if fov > MAX_DIAGONAL_FOV_DEG:
            raise InvalidParameterError(
                f"a {f:g} mm lens on the {self.sensor.diagonal_mm:.2f} mm-diagonal sensor "
                f"{self.sensor.name!r} sees {fov:.0f}° diagonally, beyond a rectilinear lens "
                f"({MAX_DIAGONAL_FOV_DEG:.0f}°); use a longer focal length or a smaller sensor"
            )
        stream = self.sensor.binned(int(self.preview_binning), mode=BinningMode.CHARGE)
        object.__setattr__(self, "_stream", stream)

    # ------------------------------------------------------------------ geometry
    @property
    def stream_sensor(self) -> SensorSpec:
        """The binned sensor mode the preview stream is read with."""
        return self._stream

    @property
    def has_dual_pixel(self) -> bool:
        """Whether the sensor has dual-pixel phase detection."""
        return bool(self.sensor.dual_pixel)

    @property
    def coc_max_um(self) -> float:
        """Permissible circle of confusion c_max = ``coc_max_px`` native pitches, µm."""
        return coc_max_um(self.sensor.pixel_pitch_um, self.coc_max_px)

    def sensor_distance_mm(self, displacement_um: float) -> float:
        """Lens-to-sensor distance s = f + d, millimetres."""
        return self.lens.focal_length_mm + float(um_to_mm(displacement_um))

    def hfov_deg(self, displacement_um: float = 0.0) -> float:
        """Horizontal field of view 2 atan(W p / 2 s) at lens displacement d, degrees."""
        half_w_mm = 0.5 * self.sensor.size_mm[0]
        return 2.0 * math.degrees(math.atan(half_w_mm / self.sensor_distance_mm(displacement_um)))

    def depth_zone_rois_px(self, reading: DepthReading, displacement_um: float = 0.0) -> np.ndarray:
        """Where the depth sensor's zones fall on the preview stream, ``zones_y x zones_x x 4``.

        ROIs ``(x, y, w, h)`` in stream pixels (clipped to the frame) for the lens at
        displacement d: a direction at angle θ lands at x = W/2 + tan(θ) · s / pitch.
        """
        stream = self._stream
        half_w_mm = 0.5 * stream.width_px * float(um_to_mm(stream.pixel_pitch_um))
        hfov = 2.0 * math.degrees(math.atan(half_w_mm / self.sensor_distance_mm(displacement_um)))
        return reading.zone_rois_px(hfov, stream.shape_px)

    def focus_distance_m(self, displacement_um: float) -> float:
        """Distance the lens is focused at for displacement d (µm), metres (``inf`` at d <= 0)."""
        if displacement_um <= 0.0:
            return math.inf
        return float(focus_distance_from_displacement_m(self.lens.focal_length_mm, displacement_um))

    def focus_code_for_distance(self, distance_m: float) -> int:
        """Code that focuses the lens at ``distance_m`` by the factory calibration (nearest code).

        ``inf`` gives the lift-off code. Distances nearer than the minimum focus distance
        give the code for the minimum focus distance.
        """
        d_m = float(distance_m)
        if math.isnan(d_m) or d_m <= 0.0:
            raise InvalidParameterError(f"distance_m must be > 0 metres (inf allowed), got {distance_m!r}")
        d_m = max(d_m, self.lens.min_focus_distance_m)
        need = 0.0 if math.isinf(d_m) else float(lens_displacement_um(self.lens.focal_length_mm, d_m))
        return int(self.actuator.code_for_displacement_um(need))

    def coc_um(self, object_distance_m, displacement_um: float):
        """Signed blur-circle diameter (µm) of an object with the lens at displacement d."""
        return coc_diameter_um(self.lens, object_distance_m, self.sensor_distance_mm(displacement_um))

    def focus_error_dof(self, object_distance_m, displacement_um: float):
        """Focus error of an object in depth-of-focus units |c| / c_max (<= 1: in focus)."""
        return np.abs(self.coc_um(object_distance_m, displacement_um)) / self.coc_max_um

    def session(self, *, seed: int | None, initial_code: int | None = None, device=None):
        """A stateful :class:`~focuslab.camera.session.CaptureSession` of this camera."""
        from focuslab.camera.session import CaptureSession

        return CaptureSession(self, seed=seed, initial_code=initial_code, device=device)

    def capture(
        self,
        scene,
        t_s: float,
        *,
        lens_code: int,
        exposure_s: float,
        illuminance_lux: float,
        seed: int | None,
        roi: tuple[int, int, int, int] | None = None,
        dual_pixel: bool | None = None,
        analog_gain: float = 1.0,
    ):
        """One frame with the lens resting, settled, at ``lens_code`` (a fresh session).

        Shorthand for ``self.session(seed=seed, initial_code=lens_code).capture(...)``; the
        lens still carries its jitter. Use :meth:`session` to move the lens between frames.
        """
        ses = self.session(seed=seed, initial_code=lens_code)
        return ses.capture(
            scene, t_s, exposure_s=exposure_s, illuminance_lux=illuminance_lux, roi=roi, dual_pixel=dual_pixel,
            analog_gain=analog_gain,
        )
