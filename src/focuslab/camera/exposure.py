"""Auto-exposure for simulated captures.

A phone's AE meters the preview and sets the integration time; AF benchmarks need the same
so that low light means fewer photons *and* a longer, frame-rate-limited exposure. The rule
here is deliberately simple and stated: expose so that a white diffuser (relative radiance
1.0) fills ``white_fraction`` of the stream pixel's full well in the brightest colour
channel, but never longer than the frame interval (the preview frame rate caps the
exposure, as on a phone; below that light level frames simply get darker and noisier).
"""

from __future__ import annotations

import numpy as np

from focuslab.camera.camera import Camera
from focuslab.errors import InvalidParameterError, check_positive
from focuslab.sensor.photometry import photons_per_pixel

#: Shortest exposure the simulated sensor supports, seconds (typical CMOS line time floor).
MIN_EXPOSURE_S = 1.0e-5


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
    bands = 1 if stream.is_mono else 3
    ph = photons_per_pixel(
        np.ones((1, 1, bands)),
        illuminance_lux=lux,
        f_number=camera.lens.f_number,
        pixel_pitch_um=stream.pixel_pitch_um,
        exposure_s=1.0,
        transmission=camera.lens.transmission,
    )[0, 0]
    if stream.is_mono:
        e_per_s = stream.quantum_efficiency * float(ph.sum())
    else:
        e_per_s = float(np.max(stream.quantum_efficiency * np.asarray(stream.channel_response) * ph))
    t = frac * stream.saturation_e / e_per_s
    return float(np.clip(t, MIN_EXPOSURE_S, max(cap, MIN_EXPOSURE_S)))
