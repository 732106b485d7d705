"""A stateful capture session: the lens moves in time and every frame is taken where it really is.

:class:`CaptureSession` holds a :class:`~focuslab.camera.vcm.VcmActuator` for one
:class:`~focuslab.camera.camera.Camera`. ``move_to(code, t_s)`` commands the lens;
``capture(scene, t_s, ...)`` takes a frame whose exposure starts at ``t_s``:

1. **Lens position.** d = (time average of the true lens trajectory over the exposure
   [t_s, t_s + exposure_s]) + the frame's jitter (``VcmActuator.noise_um(t_s)``), clipped to
   the end stops. Rendering one PSF at the mean position approximates the blur of a lens
   moving during the exposure (exact when it moves much less than a depth of focus).
2. **Optics.** s = f + d; :func:`focuslab.render.render_optical_image` renders the scene
   (resolved at the exposure's middle, t_s + exposure_s / 2) on the binned preview stream
   (pitch k·p, ROI-aware; dual-pixel halves when read).
3. **Photometry.** :func:`focuslab.sensor.photometry.photons_per_pixel` with the lens's
   f-number and transmission, the stream pitch, and the in-focus plane's magnification
   m = (s − f) / f (working f-number N (1 + m), the "bellows factor" of close focus).
   Relative illumination (cos⁴ lens shading) is not applied: phone lenses and ISPs flatten it.
4. **Sensor.** :func:`focuslab.sensor.expose` on the stream sensor; dual-pixel sensors read
   left/right sub-images unless ``dual_pixel=False``.
5. **Depth.** With a depth sensor, the reading available at t_s is attached.

Randomness: the session seed s gives independent streams, keyed by purpose and frame index:
the lens jitter (VcmActuator seeded from (s, 0)), frame n's sensor noise (s, 1, n), and the
depth sensor (seeded from (s, 2); its own frame index keys each reading). The same seed and
the same calls give bit-identical frames.
"""

from __future__ import annotations

import math

import numpy as np

from focuslab.camera.camera import Camera
from focuslab.camera.frame import Frame
from focuslab.camera.vcm import LensCommand, VcmActuator
from focuslab.errors import InvalidParameterError, check_finite, check_positive
from focuslab.render import render_optical_image
from focuslab.scene.scene import Scene
from focuslab.sensor.expose import expose
from focuslab.sensor.photometry import photons_per_pixel

_MASK64 = (1 << 64) - 1


class CaptureSession:
    """A camera in use: lens commands and frame captures on one clock (seconds).

    Parameters
    ----------
    camera
        The camera.
    seed
        Session seed (``None``: fresh entropy, fixed for the session).
    initial_code
        Code the lens rests at before the first command (default: the lift-off code, the lens
        on its infinity stop).
    device
        Torch device for rendering (``None`` = cpu, ``"auto"``, ``"cuda"``).
    """

    def __init__(self, camera: Camera, *, seed: int | None, initial_code: int | None = None, device=None):
        if not isinstance(camera, Camera):
            raise InvalidParameterError(f"camera must be a focuslab Camera, got {type(camera).__name__}")
        bad_seed = isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0
        if seed is not None and bad_seed:
            raise InvalidParameterError(f"seed must be a non-negative integer or None, got {seed!r}")
        self.camera = camera
        entropy = np.random.SeedSequence(seed).entropy
        self._key = [entropy & _MASK64, entropy >> 64]
        self.actuator = VcmActuator(camera.actuator, seed=self._derived_int(0), initial_code=initial_code)
        self._tof_seed = self._derived_int(2)
        self._frames = 0
        self.device = device

    def _derived_int(self, *path: int) -> int:
        state = np.random.SeedSequence([*self._key, *path]).generate_state(2, dtype=np.uint32)
        return int(state[0]) << 32 | int(state[1])

    @property
    def frame_count(self) -> int:
        """Frames captured so far (the next frame's index)."""
        return self._frames

    def move_to(self, code: int, t_s: float) -> LensCommand:
        """Command the lens to ``code`` at ``t_s`` (see :meth:`VcmActuator.command`)."""
        return self.actuator.command(code, t_s)

    def lens_position_um(self, t_s: float) -> float:
        """True, noise-free lens displacement at ``t_s``, µm."""
        return self.actuator.position_um(t_s)

    def exposure_position_um(self, t_s: float, exposure_s: float) -> float:
        """Lens displacement a frame exposed over [t_s, t_s + exposure_s] is rendered at, µm.

        Mean true position over the exposure plus the jitter drawn for ``t_s``, clipped to
        the end stops.
        """
        act = self.actuator
        d = act.mean_position_um(t_s, t_s + exposure_s) + act.noise_um(t_s)
        return float(np.clip(d, 0.0, act.spec.stroke_um))

    def capture(
        self,
        scene: Scene,
        t_s: float,
        *,
        exposure_s: float,
        illuminance_lux: float,
        roi: tuple[int, int, int, int] | None = None,
        dual_pixel: bool | None = None,
        depth: bool = True,
        analog_gain: float = 1.0,
    ) -> Frame:
        """Capture a frame whose exposure starts at ``t_s`` (see the module notes).

        Parameters
        ----------
        scene
            The scene.
        t_s
            Exposure start, seconds.
        exposure_s
            Exposure time, seconds (> 0).
        illuminance_lux
            Scene illuminance, lux (>= 0).
        roi
            ``(x, y, w, h)`` in *stream* pixels (binned), or ``None`` for the whole stream.
        dual_pixel
            Read the left/right sub-images; ``None``: whenever the sensor has dual pixels.
        depth
            Attach the depth sensor's reading (when the camera has one).
        analog_gain
            Analogue gain of the readout, 1 .. the stream sensor's ``max_analog_gain``
            (:func:`focuslab.camera.exposure.auto_analog_gain` gives the AE's).

        Returns
        -------
        Frame

        Raises
        ------
        InvalidParameterError
            Bad times, exposure or illuminance; a ROI outside the stream; ``dual_pixel=True``
            on a sensor without dual pixels.
        """
        cam = self.camera
        t = check_finite("t_s", t_s)
        exp_s = check_positive("exposure_s", exposure_s)
        lux = check_positive("illuminance_lux", illuminance_lux, allow_zero=True)
        dp = cam.has_dual_pixel if dual_pixel is None else bool(dual_pixel)
        if dp and not cam.has_dual_pixel:
            raise InvalidParameterError(
                f"camera {cam.name!r} has no dual-pixel sensor; capture with dual_pixel=None or False"
            )
        if not isinstance(scene, Scene):
            raise InvalidParameterError(f"scene must be a focuslab Scene, got {type(scene).__name__}")
        stream = cam.stream_sensor
        d_um = self.exposure_position_um(t, exp_s)
        s_mm = cam.sensor_distance_mm(d_um)
        oi = render_optical_image(
            scene,
            cam.lens,
            sensor_distance_mm=s_mm,
            pixel_pitch_um=stream.pixel_pitch_um,
            sensor_shape_px=stream.shape_px,
            psf=cam.psf,
            roi=roi,
            supersample=int(cam.supersample),
            dual_pixel=dp,
            t_s=t + 0.5 * exp_s,
            device=self.device,
        )
        m = (s_mm - cam.lens.focal_length_mm) / cam.lens.focal_length_mm

        def photons(irr: np.ndarray) -> np.ndarray:
            if irr.shape[2] == 1 and not stream.is_mono:
                irr = np.repeat(irr, 3, axis=2)  # a grey scene is grey in every band
            return photons_per_pixel(
                irr,
                illuminance_lux=lux,
                f_number=cam.lens.f_number,
                pixel_pitch_um=stream.pixel_pitch_um,
                exposure_s=exp_s,
                transmission=cam.lens.transmission,
                magnification=m,
            )

        index = self._frames
        rng = np.random.default_rng(np.random.SeedSequence([*self._key, 1, index]))
        raw = expose(
            stream,
            photons(oi.irradiance),
            exposure_s=exp_s,
            seed=rng,
            roi=roi,
            left_photons=photons(oi.left) if dp else None,
            right_photons=photons(oi.right) if dp else None,
            analog_gain=analog_gain,
        )
        self._frames += 1
        reading = None
        if depth and cam.depth_sensor is not None:
            reading = cam.depth_sensor.measure(scene, t, seed=self._tof_seed)
        return Frame(
            raw=raw,
            lens_code=self.actuator.code_at(t),
            lens_displacement_um=d_um,
            sensor_distance_mm=s_mm,
            focus_distance_m=cam.focus_distance_m(d_um) if d_um > 0 else math.inf,
            exposure_s=exp_s,
            t_s=t,
            roi=None if roi is None else tuple(int(v) for v in roi),
            frame_index=index,
            binning=int(cam.preview_binning),
            pixel_pitch_um=float(stream.pixel_pitch_um),
            illuminance_lux=lux,
            depth=reading,
            analog_gain=float(raw.metadata["analog_gain"]),
        )
