"""Auto-exposure for simulated captures.

A phone's AE meters the preview and sets the integration time; AF benchmarks need the same
so that low light means fewer photons *and* a longer, frame-rate-limited exposure. The rule
here is deliberately simple and stated: expose so that a white diffuser (relative radiance
1.0) fills ``white_fraction`` of the stream pixel's full well in the brightest colour
channel, but never longer than the frame interval (the preview frame rate caps the
exposure, as on a phone). Below that light level the AE raises the sensor's analogue gain
(:func:`auto_analog_gain`, up to ``SensorSpec.max_analog_gain``) so the white still reaches
``white_fraction`` of the ADC's range: the frames get noisier (fewer photons) but keep their
DN range, instead of collapsing onto a few quantization steps; below the gain's limit they
get darker too.
"""

from __future__ import annotations

import math

import numpy as np

from focuslab.camera.camera import Camera
from focuslab.errors import InvalidParameterError, check_positive
from focuslab.sensor.photometry import photons_per_pixel

#: Shortest exposure the simulated sensor supports, seconds (typical CMOS line time floor).
MIN_EXPOSURE_S = 1.0e-5

#: Resolution of the analogue gain the AE sets (a sensor's gain register has discrete steps):
#: the gain is rounded *down* to a multiple of this, so a frame a few percent short of the AE
#: target (e.g. 400 lux at 30 fps on the IMX363 preview: 0.9 %) keeps unity gain.
ANALOG_GAIN_STEP = 1.0 / 16.0


def auto_exposure_s(
    camera: Camera,
    illuminance_lux: float,
    *,
    white_fraction: float = 0.8,
    max_exposure_s: float | None = None,
) -> float:
    """Integration time (s) putting a white diffuser at ``white_fraction`` of full well.

    Parameters
    ----------
    camera
        The camera (its preview stream's pitch, QE, channel responses and full well are used).
    illuminance_lux
        Scene illuminance, lux (> 0).
    white_fraction
        Target level of a white diffuser in its brightest channel, fraction of full well (0, 1].
    max_exposure_s
        Upper bound, seconds; default the camera's frame interval.

    Notes
    -----
    Electrons per second of a white diffuser in channel k:
    ``QE * response_k * photons_per_pixel(1.0)_k`` (camera equation, see
    :func:`focuslab.sensor.photometry.photons_per_pixel`, on axis, infinity focus).
    """
    lux = check_positive("illuminance_lux", illuminance_lux)
    frac = check_positive("white_fraction", white_fraction)
    if frac > 1.0:
        raise InvalidParameterError(f"white_fraction must be in (0, 1], got {frac}")
    stream = camera.stream_sensor
    cap = camera.frame_interval_s if max_exposure_s is None else check_positive("max_exposure_s", max_exposure_s)
    t = frac * stream.saturation_e / _white_e_per_s(camera, lux)
    return float(np.clip(t, MIN_EXPOSURE_S, max(cap, MIN_EXPOSURE_S)))


def _white_e_per_s(camera: Camera, illuminance_lux: float) -> float:
    """Electrons per second of a white diffuser in the stream's brightest channel."""
    stream = camera.stream_sensor
    bands = 1 if stream.is_mono else 3
    ph = photons_per_pixel(
        np.ones((1, 1, bands)),
        illuminance_lux=illuminance_lux,
        f_number=camera.lens.f_number,
        pixel_pitch_um=stream.pixel_pitch_um,
        exposure_s=1.0,
        transmission=camera.lens.transmission,
    )[0, 0]
    if stream.is_mono:
        return stream.quantum_efficiency * float(ph.sum())
    return float(np.max(stream.quantum_efficiency * np.asarray(stream.channel_response) * ph))


def auto_analog_gain(
    camera: Camera,
    illuminance_lux: float,
    exposure_s: float,
    *,
    white_fraction: float = 0.8,
) -> float:
    """Analogue gain (x) the AE sets with the exposure ``exposure_s``: 1 unless the frame is dark.

    The gain that brings a white diffuser to ``white_fraction`` of the unity-gain saturation
    (the stream's ``saturation_e``, i.e. the same DN level :func:`auto_exposure_s` aims at),
    rounded down to a multiple of :data:`ANALOG_GAIN_STEP` and clipped to 1 ..
    ``max_analog_gain`` of the stream sensor. With ``exposure_s`` from
    :func:`auto_exposure_s` it is 1 wherever the exposure is not capped by the frame rate.

    Example: the IMX363's 4 x 4-binned preview (``phone_main``) at 30 fps and 3 lux needs
    ~135x and gets 16x; the gain starts below ~225 lux (1.0625x at 200 lux).
    """
    lux = check_positive("illuminance_lux", illuminance_lux)
    t = check_positive("exposure_s", exposure_s)
    frac = check_positive("white_fraction", white_fraction)
    if frac > 1.0:
        raise InvalidParameterError(f"white_fraction must be in (0, 1], got {frac}")
    stream = camera.stream_sensor
    white_e = _white_e_per_s(camera, lux) * t
    need = frac * stream.saturation_e / white_e if white_e > 0 else math.inf
    g = math.floor(need / ANALOG_GAIN_STEP + 1e-9) * ANALOG_GAIN_STEP
    return float(min(max(g, 1.0), stream.max_analog_gain))


def auto_exposure(camera: Camera, illuminance_lux: float) -> tuple[float, float]:
    """The AE's ``(exposure_s, analog_gain)`` for the light level: :func:`auto_exposure_s`, then
    :func:`auto_analog_gain` with that exposure (what the AF backend, the benchmark's report,
    the phase calibration and the rendered focal stacks read frames with)."""
    t = auto_exposure_s(camera, illuminance_lux)
    return t, auto_analog_gain(camera, illuminance_lux, t)
