"""Camera presets by name (``get_camera(name)``, ``camera_names()``), from published figures.

Each preset is a function registered with :func:`register_camera` returning a fresh
:class:`~focuslab.camera.camera.Camera`; the docstring says where its numbers come from and
what is assumed. Change a part with :func:`dataclasses.replace`, e.g.
``replace(get_camera("phone_main"), preview_binning=2)``.

Actuator figures (all presets) are class values of phone VCM modules driven by a 10-bit
current DAC (e.g. Dongwoon DW9714/DW9718, AKM AK7371): lift-off at ~10 % of full current,
~0.3 µm/code, 250–400 µm mechanical stroke, resonance 50–120 Hz, hysteresis 1–5 µm; the
damping ratio stands for the driver's ringing control (SAC / linear slope mode).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from focuslab.camera.actuator import ActuatorSpec
from focuslab.camera.camera import Camera
from focuslab.camera.depth_sensor import DepthSensorSpec
from focuslab.errors import UnknownNameError
from focuslab.optics import PIXEL4_DP_RESPONSE_ON_AXIS, GeometricPsf
from focuslab.optics.lens import LensSpec
from focuslab.registry import Registry
from focuslab.sensor.presets import get_sensor

_CAMERAS: Registry[Callable[[], Camera]] = Registry("camera preset")


def register_camera(name: str) -> Callable[[Callable[[], Camera]], Callable[[], Camera]]:
    """Decorator adding a camera factory to the registry under ``name`` (refuses duplicates)."""
    return _CAMERAS.register(name)


def camera_names() -> list[str]:
    """Names of the registered camera presets, sorted."""
    return _CAMERAS.names()


def get_camera(name: str) -> Camera:
    """The preset ``name``, or the camera of the camera file ``name``, as a :class:`Camera`.

    A name ending in .yaml, .yml or .json is read as a camera file
    (:mod:`focuslab.camera.camera_file`); the label of a file loaded earlier in this process
    finds that file's camera too.

    Raises
    ------
    UnknownNameError
        When ``name`` is neither a preset, a camera file nor a loaded file's label; the message
        lists the valid names.
    InputFileError, InvalidParameterError
        A camera file that is missing, unreadable or describes an impossible camera.
    """
    from focuslab.camera.camera_file import load_camera_file, loaded_camera, looks_like_camera_file

    if name in _CAMERAS:
        return _CAMERAS.get(name)()
    if looks_like_camera_file(name):
        return load_camera_file(name)
    cam = loaded_camera(name) if isinstance(name, str) else None
    if cam is not None:
        return cam
    raise UnknownNameError(f"unknown camera preset {name!r}; valid names: {', '.join(camera_names())}, "
                           "or the path of a camera file (.yaml; docs/cameras.md)")


@register_camera("phone_main")
def phone_main() -> Camera:
    """Pixel-4-class main camera: 4.38 mm f/1.73 on a 12 MP 1.4 µm dual-pixel IMX363.

    Lens: focal length 4.38 mm and f/1.73 as written in the Google Pixel 4 main camera's
    EXIF; minimum focus 10 cm (class value; needs d = f²/(u − f) = 200.6 µm of travel).
    Sensor: :func:`focuslab.sensor.presets.imx363` (4032 × 3024, 1.4 µm, dual pixel).
    Actuator: 10-bit VCM, lift-off code 96, 0.32 µm/code with a slight stiffening
    quadratic term, 350 µm stroke, 90 Hz, ζ = 0.45 (20 % overshoot), 2 µm play, 0.3 µm rms
    jitter. Preview stream binned 4 × 4 (1008 × 756, 5.6 µm), 30 fps, geometric PSF.

    Dual-pixel response: :data:`focuslab.optics.PIXEL4_DP_RESPONSE`, fitted to the real Pixel 4
    blur kernels of Xin et al. (ICCV 2021; docs/dual_pixel.md): disparity 0.218 c instead of
    the ideal half-pupil 4c/(3 pi) = 0.424 c, right view 16 % darker. Its split shift with
    field (the L/R shading trend) is left out here, because it makes the PSF field-dependent
    and every frame ~4x slower to render; use ``GeometricPsf.from_lens(lens,
    dp_response=PIXEL4_DP_RESPONSE)`` for studies of DP shading correction.
    """
    lens = LensSpec(focal_length_mm=4.38, f_number=1.73, min_focus_distance_m=0.10, name="pixel4-main")
    return Camera(
        lens=lens,
        sensor=get_sensor("imx363"),
        actuator=ActuatorSpec(
            code_bits=10,
            stroke_um=350.0,
            start_code=96,
            slope_um_per_code=0.30,
            quadratic_um_per_code2=2.0e-5,
            natural_frequency_hz=90.0,
            damping_ratio=0.45,
            hysteresis_um=2.0,
            position_noise_um=0.3,
            name="vcm-10bit-350um",
        ),
        psf=GeometricPsf.from_lens(lens, dp_response=PIXEL4_DP_RESPONSE_ON_AXIS),
        preview_binning=4,
        frame_interval_s=1.0 / 30.0,
        name="phone_main",
    )


@register_camera("phone_main_tof")
def phone_main_tof() -> Camera:
    """``phone_main`` with a VL53L5CX-class 8 × 8-zone ToF sensor beside it (laser AF).

    Depth sensor: :class:`~focuslab.camera.depth_sensor.DepthSensorSpec` defaults (45° × 45°,
    2 cm – 4 m on 88 % white, 15 Hz, 20 ms latency; ST VL53L5CX datasheet DS13754).
    """
    return replace(phone_main(), depth_sensor=DepthSensorSpec(), name="phone_main_tof")


@register_camera("phone_tele")
def phone_tele() -> Camera:
    """Pixel-4-class 2× telephoto: 6.0 mm f/2.4 on a 1.0 µm dual-pixel (Super PD) sensor.

    Lens: 6.0 mm f/2.4 as in the Pixel 4 telephoto's EXIF; minimum focus 35 cm (class value;
    needs 104.6 µm). Sensor: :func:`focuslab.sensor.presets.tele_1p0um` (13 MP 1.0 µm,
    Samsung S5K3M5 class). Actuator: a heavier lens barrel, so a lower resonance (70 Hz),
    ζ = 0.5, 0.22 µm/code from code 80, 250 µm stroke, 2.5 µm play, 0.3 µm jitter.
    Preview binned 4 × 4 (1052 × 780, 4.0 µm).
    """
    lens = LensSpec(focal_length_mm=6.0, f_number=2.4, min_focus_distance_m=0.35, name="pixel4-tele")
    return Camera(
        lens=lens,
        sensor=get_sensor("tele_1p0um"),
        actuator=ActuatorSpec(
            code_bits=10,
            stroke_um=250.0,
            start_code=80,
            slope_um_per_code=0.22,
            natural_frequency_hz=70.0,
            damping_ratio=0.5,
            hysteresis_um=2.5,
            position_noise_um=0.3,
            name="vcm-10bit-250um",
        ),
        psf=GeometricPsf.from_lens(lens),
        preview_binning=4,
        frame_interval_s=1.0 / 30.0,
        name="phone_tele",
    )


@register_camera("no_pdaf")
def no_pdaf() -> Camera:
    """A 13 MP 1.12 µm module without phase detection (contrast AF only), f/2.0.

    Lens: 3.95 mm f/2.0, the class of 13 MP 1.12 µm (IMX258) phone modules of 2015–2018;
    minimum focus 10 cm (needs 164.5 µm). Sensor: :func:`focuslab.sensor.presets.imx258`
    (no dual pixel). Actuator: 10-bit open-loop VCM, 0.30 µm/code from code 100, 300 µm
    stroke, 100 Hz, ζ = 0.3 (37 % overshoot: no ringing control), 3 µm play, 0.4 µm jitter.
    Preview binned 4 × 4 (1052 × 780, 4.48 µm).
    """
    lens = LensSpec(focal_length_mm=3.95, f_number=2.0, min_focus_distance_m=0.10, name="13mp-f2.0")
    return Camera(
        lens=lens,
        sensor=get_sensor("imx258"),
        actuator=ActuatorSpec(
            code_bits=10,
            stroke_um=300.0,
            start_code=100,
            slope_um_per_code=0.30,
            natural_frequency_hz=100.0,
            damping_ratio=0.3,
            hysteresis_um=3.0,
            position_noise_um=0.4,
            name="vcm-10bit-300um",
        ),
        psf=GeometricPsf.from_lens(lens),
        preview_binning=4,
        frame_interval_s=1.0 / 30.0,
        name="no_pdaf",
    )
