"""Built-in AF benchmark suites: deterministic lists of closed-loop AF cases, registered by name.

A case (:class:`AFCase`) is everything one AF run needs: the scene (a built-in scene name
and its options, the subject distance, a seed), the light level, the camera preset, the AF
region on the preview stream, the code the lens starts at, and for video the duration and
the camera's pan. Suites are functions registered with :func:`register_suite` that list
their cases for a camera; the same arguments give the same cases (the draws come from a
``numpy.random.Generator`` seeded by the suite's name and ``seed``).

Suites (``quick`` is the default size; ``full=True`` gives the larger variant):

* ``stills-bright``: 500-1000 lux, textures dead leaves, real photographs (scikit-image),
  text, the Middlebury RGB-D motorcycle, subject 0.25-3 m;
* ``stills-lowlight``: 3-12 lux, the same textures; the description names the electrons per
  pixel per frame computed from the camera's photometry (:func:`light_level_text`);
* ``low-texture``: nearly featureless walls (1-3 % contrast) and a smooth real photograph;
* ``depth-edge``: a near card over a far background with the card's edge through the AF
  region, 5/8 of the region on the card (nearest-subject priority: the card is the subject);
* ``video-tracking``: a card approaching, a card receding, and a pan from a near card to the
  far background (a :class:`~focuslab.scene.scene.KeyframeMotion` lateral offset of the card,
  see :func:`focuslab.bench.af_case.build_scene`).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from focuslab.bench.af_case import SCENE_HFOV_DEG, SCENE_SHAPE, AFCase, build_scene  # noqa: F401  (re-exported)
from focuslab.camera import get_camera
from focuslab.camera.camera import Camera
from focuslab.camera.exposure import auto_exposure, auto_exposure_s
from focuslab.errors import InvalidParameterError
from focuslab.registry import Registry
from focuslab.sensor.photometry import photons_per_pixel

#: Default camera of the benchmark: dual pixel and a ToF depth sensor, so every method runs.
DEFAULT_CAMERA = "phone_main_tof"

#: Side of the default (square) AF region, preview-stream pixels.
DEFAULT_ROI_PX = 128


@dataclass(frozen=True)
class Suite:
    """A registered suite: its name, whether it is video, and the function listing its cases."""

    name: str
    video: bool
    build: Callable[..., list[AFCase]]
    summary: str


_SUITES: Registry[Suite] = Registry("AF benchmark suite")


def register_suite(name: str, *, video: bool = False) -> Callable:
    """Decorator registering a case builder ``(camera, camera_name, *, full, rng) -> list[AFCase]``.

    The builder's docstring's first line is the suite's summary. Refuses a duplicate name.
    """

    def add(build: Callable[..., list[AFCase]]) -> Callable[..., list[AFCase]]:
        summary = (build.__doc__ or name).strip().splitlines()[0]
        _SUITES.register(name)(Suite(name, video, build, summary))
        return build

    return add


def suite_names() -> list[str]:
    """Names of the built-in suites, in benchmark order (stills first, video last)."""
    order = ["stills-bright", "stills-lowlight", "low-texture", "depth-edge", "video-tracking"]
    names = _SUITES.names()
    return [n for n in order if n in names] + [n for n in names if n not in order]


def get_suite(name: str) -> Suite:
    """The suite ``name``; an unknown name raises ``UnknownNameError`` listing the valid ones."""
    return _SUITES.get(name)


def suite_cases(name: str, *, camera: str = DEFAULT_CAMERA, full: bool = False, seed: int = 0) -> list[AFCase]:
    """The cases of suite ``name`` for camera preset ``camera``.

    Parameters
    ----------
    name
        Suite name (:func:`suite_names`).
    camera
        Camera preset (:func:`focuslab.camera.camera_names`).
    full
        The larger variant (more textures, distances and start codes).
    seed
        Seed of the suite's draws (distances, start codes, texture seeds); same seed, same cases.

    Raises
    ------
    UnknownNameError
        Unknown suite or camera (the message lists the valid names).
    InvalidParameterError
        A negative seed.
    """
    suite = get_suite(name)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InvalidParameterError(f"seed must be a non-negative integer, got {seed!r}")
    cam = get_camera(camera)
    rng = np.random.default_rng([zlib.crc32(name.encode()), int(seed)])
    return suite.build(cam, camera, full=bool(full), rng=rng)


def describe_suite(name: str, *, camera: str = DEFAULT_CAMERA) -> str:
    """One paragraph on the suite; the low-light suite names its lux and electrons per pixel."""
    suite = get_suite(name)
    text = suite.summary
    if name == "stills-lowlight":
        cam = get_camera(camera)
        text += " " + "; ".join(light_level_text(cam, lux) for lux in LOWLIGHT_LUX) + "."
    return text


# ----------------------------------------------------------------------------- photometry
def grey_electrons_per_pixel(camera: Camera, illuminance_lux: float, *, reflectance: float = 0.18) -> float:
    """Electrons per preview-stream pixel per frame (green channel) of a grey diffuser, with auto-exposure.

    Notes
    -----
    ``e = QE * response_G * photons_per_pixel(reflectance)_G`` with the exposure
    :func:`focuslab.camera.exposure.auto_exposure_s` picks (capped at the frame interval);
    photons from the camera equation in :func:`focuslab.sensor.photometry.photons_per_pixel`.
    """
    stream = camera.stream_sensor
    t = auto_exposure_s(camera, illuminance_lux)
    bands = 1 if stream.is_mono else 3
    ph = photons_per_pixel(
        np.full((1, 1, bands), float(reflectance)), illuminance_lux=illuminance_lux, f_number=camera.lens.f_number,
        pixel_pitch_um=stream.pixel_pitch_um, exposure_s=t, transmission=camera.lens.transmission,
    )[0, 0]
    if stream.is_mono:
        return float(stream.quantum_efficiency * ph.sum())
    return float(stream.quantum_efficiency * np.asarray(stream.channel_response)[1] * ph[1])


def light_level_text(camera: Camera, illuminance_lux: float) -> str:
    """``"3 lux: exposure 33.3 ms, analogue gain 16x, an 18 % grey gives 102 e- per 4x4-binned stream pixel
    per frame (6.4 e- per native pixel; 16 DN)"``."""
    e = grey_electrons_per_pixel(camera, illuminance_lux)
    k2 = camera.preview_binning**2
    t, gain = auto_exposure(camera, illuminance_lux)
    dn = e * gain * camera.stream_sensor.conversion_gain_dn_per_e
    return (f"{illuminance_lux:g} lux: exposure {1e3 * t:.1f} ms, analogue gain {gain:g}x, an 18 % grey gives "
            f"{e:.0f} e- per {camera.preview_binning}x{camera.preview_binning}-binned stream pixel per frame "
            f"({e / k2:.1f} e- per native pixel; {dn:.0f} DN)")


# ----------------------------------------------------------------------------- geometry
def code_range(camera: Camera) -> tuple[int, int]:
    """Codes focusing at infinity and at the minimum focus distance."""
    return camera.focus_code_for_distance(math.inf), camera.focus_code_for_distance(camera.lens.min_focus_distance_m)


#: A drawn subject is at least this many times the lens's minimum focus distance away.
MIN_FOCUS_MARGIN = 1.1


def focusable_range_m(camera: Camera, lo_m: float, hi_m: float) -> tuple[float, float]:
    """A suite's subject-distance range ``[lo_m, hi_m]`` limited to what ``camera`` can focus.

    The near end is raised to ``MIN_FOCUS_MARGIN`` x the lens's minimum focus distance, so every
    case has a lens position that focuses it (a subject nearer than the macro end is a case no
    method can win, not a test of AF: on ``phone_tele``, 0.35 m, the 0.25 m end of the stills
    draws and the 0.3 m end of ``depth-edge`` fell outside the lens's travel). Where that passes
    the far end the range keeps its ratio ``hi / lo``. The presets with a 0.10 m minimum
    (``phone_main``, ``phone_main_tof``, ``no_pdaf``) keep the suites' own ranges, and every
    draw takes the same random numbers, so their cases do not change.
    """
    lo = max(float(lo_m), MIN_FOCUS_MARGIN * float(camera.lens.min_focus_distance_m))
    hi = float(hi_m) if lo < hi_m else lo * float(hi_m) / float(lo_m)
    return lo, hi


def centre_roi(camera: Camera, size_px: int = DEFAULT_ROI_PX) -> tuple[int, int, int, int]:
    """A ``size_px`` square AF region at the centre of the preview stream (even origin: CFA phase kept)."""
    h, w = camera.stream_sensor.shape_px
    return (2 * ((w - size_px) // 4), 2 * ((h - size_px) // 4), size_px, size_px)


def card_edge_roi(camera: Camera, card_fraction: float, size_px: int = DEFAULT_ROI_PX, *,
                  card_share: float = 0.625) -> tuple[int, int, int, int]:
    """A square AF region across the left edge of a centred ``two_planes`` card, ``card_share`` of it on the card.

    The card's left edge lies at scene column ``W (1 - sqrt(f)) / 2``, i.e. at
    ``tan(theta) = -sqrt(f) tan(hfov / 2)`` (pinhole grid uniform in tan); on the stream
    it falls at ``x = W_s / 2 + tan(theta) s / p`` with s the lens-to-sensor distance (taken
    at mid travel).
    """
    h, w = camera.stream_sensor.shape_px
    lo, hi = code_range(camera)
    d_um = float(camera.actuator.displacement_um((lo + hi) // 2))
    s_mm = camera.sensor_distance_mm(d_um)
    tan_edge = -math.sqrt(card_fraction) * math.tan(math.radians(SCENE_HFOV_DEG / 2))
    x_edge = w / 2 + tan_edge * s_mm * 1e3 / camera.stream_sensor.pixel_pitch_um
    x = x_edge - (1.0 - card_share) * size_px
    return (2 * round(x / 2), 2 * ((h - size_px) // 4), size_px, size_px)


# ----------------------------------------------------------------------------- the suites
STILLS_TEXTURES: tuple[tuple[str, tuple[tuple[str, object], ...]], ...] = (
    ("dead_leaves", ()),
    ("photo", (("image", "astronaut"),)),
    ("text", ()),
    ("photo", (("image", "coffee"),)),
    ("middlebury", ()),
    ("photo", (("image", "chelsea"),)),
    ("photo", (("image", "brick"),)),
    ("photo", (("image", "camera"), ("grey", True))),
    ("dead_leaves", ()),
    ("photo", (("image", "rocket"),)),
    ("photo", (("image", "gravel"),)),
    ("photo", (("image", "page"), ("grey", True))),
)

LOWLIGHT_LUX = (3.0, 6.0, 12.0)


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(round(math.exp(rng.uniform(math.log(lo), math.log(hi))), 3))


def _start_code(rng: np.random.Generator, camera: Camera, i: int) -> int:
    lo, hi = code_range(camera)
    if i % 3 == 0:
        return lo  # the lens parked at infinity, as after the camera opens
    return int(rng.integers(lo, hi + 1))


def _stills(suite: str, camera: Camera, camera_name: str, rng: np.random.Generator, n: int,
            lux_choices, textures=STILLS_TEXTURES, dist=(0.25, 3.0)) -> list[AFCase]:
    cases = []
    roi = centre_roi(camera)
    for i in range(n):
        scene, opts = textures[i % len(textures)]
        lux = float(lux_choices[i % len(lux_choices)])
        d = None if scene in ("middlebury", "rgbd") else _log_uniform(rng, *focusable_range_m(camera, *dist))
        cases.append(AFCase(suite=suite, case_id=f"{i:02d}-{scene}", scene=scene, scene_options=opts,
                            subject_distance_m=d, illuminance_lux=lux, camera=camera_name, roi=roi,
                            start_code=_start_code(rng, camera, i), seed=int(rng.integers(0, 2**31 - 1))))
    return cases


def rgbd_textures() -> tuple[tuple[str, tuple[tuple[str, object], ...]], ...]:
    """Real RGB-D photographs of the shared data (NYU v2, TUM) when its ``rgbd`` folder exists, else none."""
    from focuslab.scene.rgbd import shared_data_dir

    if not (shared_data_dir() / "rgbd").is_dir():
        return ()
    return (("rgbd", (("dataset", "nyu"),)), ("rgbd", (("dataset", "tum"),)))


@register_suite("stills-bright")
def stills_bright(camera: Camera, camera_name: str, *, full: bool, rng: np.random.Generator) -> list[AFCase]:
    """Stills in good light (500-1000 lux): dead leaves, real photographs, text, Middlebury RGB-D, 0.25-3 m.

    The full variant adds two real RGB-D photographs of the shared data (NYU v2, TUM; at their
    own depths) when ``../shared/data/rgbd`` exists: their depth maps make each run several
    times slower to render.
    """
    textures = STILLS_TEXTURES + (rgbd_textures() if full else ())
    return _stills("stills-bright", camera, camera_name, rng, len(textures) if full else 6,
                   (500.0, 1000.0, 700.0), textures)


@register_suite("stills-lowlight")
def stills_lowlight(camera: Camera, camera_name: str, *, full: bool, rng: np.random.Generator) -> list[AFCase]:
    """Stills in low light (3-12 lux, frame-rate-capped exposure): few photons per pixel, same textures."""
    return _stills("stills-lowlight", camera, camera_name, rng, 12 if full else 4, LOWLIGHT_LUX)


@register_suite("low-texture")
def low_texture(camera: Camera, camera_name: str, *, full: bool, rng: np.random.Generator) -> list[AFCase]:
    """Low texture (bright light): walls of 1-3 % contrast and a smooth photograph (the moon)."""
    textures = (
        ("low_texture", (("contrast", 0.02),)),
        ("low_texture", (("contrast", 0.01),)),
        ("photo", (("image", "moon"), ("grey", True))),
        ("low_texture", (("contrast", 0.03),)),
    )
    return _stills("low-texture", camera, camera_name, rng, 8 if full else 3, (300.0, 800.0), textures)


@register_suite("depth-edge")
def depth_edge(camera: Camera, camera_name: str, *, full: bool, rng: np.random.Generator) -> list[AFCase]:
    """A near card (0.3-1 m) over a far background (3-6 m), its edge through the AF region (5/8 of it on the card)."""
    fronts = ("dead_leaves", "astronaut", "coffee", "one_over_f", "chelsea", "brick")
    cases = []
    n = 6 if full else 3
    for i in range(n):
        near = _log_uniform(rng, *focusable_range_m(camera, 0.3, 1.0))
        far = float(round(rng.uniform(*focusable_range_m(camera, 3.0, 6.0)), 2))
        fg = fronts[i % len(fronts)]
        opts = (("background", "dead_leaves"), ("background_distance_m", far), ("card_fraction", 0.4),
                ("foreground", fg))
        cases.append(AFCase(suite="depth-edge", case_id=f"{i:02d}-{fg}", scene="two_planes", scene_options=opts,
                            subject_distance_m=near, illuminance_lux=600.0, camera=camera_name,
                            roi=card_edge_roi(camera, 0.4), start_code=_start_code(rng, camera, i),
                            seed=int(rng.integers(0, 2**31 - 1))))
    return cases


@register_suite("video-tracking", video=True)
def video_tracking(camera: Camera, camera_name: str, *, full: bool, rng: np.random.Generator) -> list[AFCase]:
    """Video at 30 fps, 1.5 s: a card approaching (2-3 m to 0.5-0.8 m), receding, and a pan from a near card to 4 m.

    The pan moves the near card (0.4-0.8 m) 18 degrees sideways between 0.375 s and 0.9 s,
    so the AF region ends on the background at 4 m.
    """
    dur = 1.5
    roi = centre_roi(camera)
    fronts = ("dead_leaves", "astronaut", "coffee")
    kinds = ("approach", "recede", "pan") * (2 if full else 1)
    cases = []
    for i, kind in enumerate(kinds):
        fg = fronts[i % len(fronts)]
        seed = int(rng.integers(0, 2**31 - 1))
        if kind == "approach":
            start = float(round(rng.uniform(*focusable_range_m(camera, 2.0, 3.0)), 2))
            end = float(round(rng.uniform(*focusable_range_m(camera, 0.5, 0.8)), 2))
        elif kind == "recede":
            start = float(round(rng.uniform(*focusable_range_m(camera, 0.4, 0.6)), 2))
            end = float(round(rng.uniform(*focusable_range_m(camera, 1.5, 2.5)), 2))
        if kind in ("approach", "recede"):
            opts = (("background_distance_m", 8.0), ("card_fraction", 0.1), ("duration_s", dur),
                    ("foreground", fg), ("start_distance_m", start))
            case = AFCase(suite="video-tracking", case_id=f"{i:02d}-{kind}-{fg}", scene="approaching_subject",
                          scene_options=opts, subject_distance_m=end, illuminance_lux=400.0, camera=camera_name,
                          roi=roi, start_code=camera.focus_code_for_distance(start), seed=seed, video=True,
                          duration_s=dur)
        else:
            near = float(round(rng.uniform(*focusable_range_m(camera, 0.4, 0.8)), 2))
            opts = (("background", "dead_leaves"), ("background_distance_m", 4.0), ("card_fraction", 0.3),
                    ("foreground", fg))
            # the card's half-width is atan(sqrt(0.3) tan 20 deg) = 11.3 deg, the AF region's ~4.7 deg: an 18 deg
            # pan leaves the AF region on the background
            case = AFCase(suite="video-tracking", case_id=f"{i:02d}-pan-{fg}", scene="two_planes",
                          scene_options=opts, subject_distance_m=near, illuminance_lux=400.0, camera=camera_name,
                          roi=roi, start_code=camera.focus_code_for_distance(near), seed=seed, video=True,
                          duration_s=dur, pan_deg=(18.0, 0.0))
        cases.append(case)
    return cases
