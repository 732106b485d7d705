"""`Frame`: one captured frame of a camera session with the truth about how it was taken."""

from __future__ import annotations

from dataclasses import dataclass

from focuslab.camera.depth_sensor import DepthReading
from focuslab.sensor.raw import RawFrame


@dataclass(frozen=True, eq=False)
class Frame:
    """A raw frame from :meth:`focuslab.camera.session.CaptureSession.capture`.

    Parameters
    ----------
    raw
        The sensor readout (``raw.left`` / ``raw.right`` hold the dual-pixel sub-images when
        they were read). Pixels are those of the stream (binned when ``binning > 1``).
    lens_code
        The code in force at ``t_s`` (what the AF commanded; it knows this).
    lens_displacement_um
        Where the lens *actually* was, µm from the infinity position (time average over the
        exposure plus the frame's jitter): the truth, unknown to an AF algorithm.
    sensor_distance_mm
        Lens-to-sensor distance s = f + d used for rendering, millimetres.
    focus_distance_m
        Distance the lens was truly focused at, metres (``inf`` at d = 0).
    exposure_s
        Exposure time, seconds.
    t_s
        Start of the exposure, seconds.
    roi
        ``(x, y, w, h)`` of the frame in stream pixels, or ``None`` for the full stream.
    frame_index
        Index of the frame in its session (0, 1, ...): seeds its noise.
    binning
        Readout binning factor k of the stream (pixel pitch = k × native pitch).
    pixel_pitch_um
        Pixel pitch of the stream, µm.
    illuminance_lux
        Scene illuminance, lux.
    depth
        The depth sensor's reading available at ``t_s``, or ``None``.
    analog_gain
        Analogue gain of the readout (x; :func:`focuslab.sensor.expose.expose`).
    """

    raw: RawFrame
    lens_code: int
    lens_displacement_um: float
    sensor_distance_mm: float
    focus_distance_m: float
    exposure_s: float
    t_s: float
    roi: tuple[int, int, int, int] | None
    frame_index: int
    binning: int
    pixel_pitch_um: float
    illuminance_lux: float
    depth: DepthReading | None = None
    analog_gain: float = 1.0

    @property
    def has_dual_pixel(self) -> bool:
        """Whether the frame carries left/right dual-pixel sub-images."""
        return self.raw.has_dual_pixel

    @property
    def shape_px(self) -> tuple[int, int]:
        """``(H, W)`` of the raw data."""
        return self.raw.shape_px
