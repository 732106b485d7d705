"""Render a simulated focal stack into a focal-stack folder (``focuslab render``).

The sweep: ``positions`` lens positions uniform in *lens displacement* (hence about uniform
in diopters, since d ~ f^2 / u) from the infinity stop to the minimum focus distance,
converted to the nearest actuator codes by the factory calibration (duplicate codes are
dropped). At each code the lens rests, settled (with its play and jitter), and one frame is
captured with auto-exposure (:func:`focuslab.camera.exposure.auto_exposure_s`, and the AE's
analogue gain :func:`~focuslab.camera.exposure.auto_analog_gain` in the dark; recorded per
frame as ``analog_gain``; a given ``exposure_s`` reads at unity gain).

The scene grid is made to cover the camera's widest field of view (infinity focus) with
the preview stream's aspect ratio, so the whole frame sees scene content at every focus.
Photographic scenes with their own field of view keep it.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from focuslab.camera import Camera, get_camera
from focuslab.camera.exposure import auto_exposure
from focuslab.data.focal_stack import FocalStackWriter
from focuslab.errors import InvalidParameterError, check_positive
from focuslab.isp import process_raw
from focuslab.optics.focus import lens_displacement_um
from focuslab.scene import Scene
from focuslab.scene.library import describe_scene, make_scene

OUTPUTS = ("raw", "rgb")


def sweep_codes(camera: Camera, positions: int) -> list[int]:
    """Actuator codes of a ``positions``-step sweep from infinity to the minimum focus distance."""
    n = int(positions)
    if n < 2:
        raise InvalidParameterError(f"a focal stack needs at least 2 positions, got {positions}")
    d_near = float(lens_displacement_um(camera.lens.focal_length_mm, camera.lens.min_focus_distance_m))
    codes = [int(camera.actuator.code_for_displacement_um(d)) for d in np.linspace(0.0, d_near, n)]
    return sorted(set(codes))


def with_lens(camera: Camera, *, focal_length_mm: float | None = None, f_number: float | None = None) -> Camera:
    """The camera with its lens's focal length and/or f-number replaced (validated)."""
    changes = {}
    if focal_length_mm is not None:
        changes["focal_length_mm"] = focal_length_mm
    if f_number is not None:
        changes["f_number"] = f_number
    if not changes:
        return camera
    lens = dataclasses.replace(camera.lens, **changes)
    psf = camera.psf  # geometric PSFs depend on the blur only; wave PSFs carry the f-number
    if f_number is not None and dataclasses.is_dataclass(psf) and hasattr(psf, "f_number"):
        psf = dataclasses.replace(psf, f_number=f_number)
    return dataclasses.replace(camera, lens=lens, psf=psf)


def scene_for_camera(
    camera: Camera, scene_name: str, *, subject_distance_m: float | None, seed: int, **options
) -> Scene:
    """Build the named scene sized to the camera's preview stream and widest field of view."""
    info = describe_scene(scene_name)
    h, w = camera.stream_sensor.shape_px
    kwargs = {"shape": (h, w), "seed": seed, **options}
    if info.get("default_hfov_deg") is not None:
        kwargs["hfov_deg"] = camera.hfov_deg(0.0) * 1.02
    if subject_distance_m is not None:
        kwargs["subject_distance_m"] = subject_distance_m
    return make_scene(scene_name, **kwargs)


def camera_block(camera: Camera, output: str) -> dict:
    """The ``camera`` entry of ``stack.json`` for frames of the preview stream."""
    stream = camera.stream_sensor
    block = {
        "name": camera.name,
        "focal_length_mm": camera.lens.focal_length_mm,
        "f_number": camera.lens.f_number,
        "pixel_pitch_um": stream.pixel_pitch_um,
        "native_pixel_pitch_um": camera.sensor.pixel_pitch_um,
        "binning": camera.preview_binning,
        "coc_max_um": camera.coc_max_um,
        "sensor": camera.sensor.name,
        "actuator": camera.actuator.name,
        "code_bits": camera.actuator.code_bits,
        "dual_pixel": camera.has_dual_pixel,
    }
    if output == "raw":
        block.update(black_level_dn=stream.black_level_dn, white_level_dn=stream.white_level_dn, cfa=stream.cfa)
    from focuslab.camera.camera_file import camera_document

    definition = camera_document(camera)  # a camera file's camera: replay can rebuild it (docs/cameras.md)
    if definition is not None:
        block["definition"] = definition
    return block


def region_truth(camera: Camera, scene: Scene) -> dict:
    """``{"regions": [{"name", "roi", "subject_distance_m"}, ...]}`` for the replay regions.

    The regions are the benchmark's (:func:`focuslab.af.regions.stack_regions` on the stream
    frame: centre, 20 % from the top and from the bottom), each with the distance AF should
    focus at there, as the simulator's own truth rules it
    (:func:`focuslab.af.region_depth.region_subject_distance_m`: the nearest subject covering
    30 % of the region), with the lens focused at the scene's subject (the field's
    magnification moves little with focus). A replay of the stack then scores each region
    against its own subject: on a ``two_planes`` or ``middlebury`` stack the regions lie at
    different depths, and the whole-frame ``subject_distance_m`` would be right for one of them.
    Regions whose visible surface is at infinity (or not sampled) are left out: replay takes
    their sweep peak.
    """
    from focuslab.af.region_depth import region_subject_distance_m
    from focuslab.af.regions import stack_regions

    subject = scene.subject_distance_m(0.0)
    focused = subject if subject is not None and math.isfinite(subject) and subject > 0 else math.inf
    disp = 0.0 if math.isinf(focused) else float(lens_displacement_um(camera.lens.focal_length_mm, focused))
    regions = []
    for name, roi in stack_regions(camera.stream_sensor.shape_px).items():
        d = region_subject_distance_m(camera, scene, roi, t_s=0.0, displacement_um=disp)
        if d is not None and math.isfinite(d):
            regions.append({"name": name, "roi": list(roi), "subject_distance_m": round(float(d), 6)})
    return {"regions": regions} if regions else {}


def _rgb16(raw) -> np.ndarray:
    rgb = process_raw(raw, encode_srgb=True)
    return np.round(np.clip(rgb, 0.0, 1.0) * 65535.0).astype(np.uint16)


def render_stack_folder(
    out_dir: str | os.PathLike,
    *,
    scene_name: str = "dead_leaves",
    camera_name: str = "phone_main",
    positions: int = 15,
    dual_pixel: bool = False,
    illuminance_lux: float = 500.0,
    exposure_s: float | None = None,
    seed: int = 0,
    subject_distance_m: float | None = None,
    focal_length_mm: float | None = None,
    f_number: float | None = None,
    output: str = "raw",
    resume: bool = False,
    scene_options: dict | None = None,
    progress: Callable[[int, int], None] | None = None,
    device: str | None = None,
) -> Path:
    """Render a focal stack of a built-in scene and write it as a focal-stack folder.

    Parameters
    ----------
    out_dir
        Output folder (created; must be writable).
    scene_name, camera_name
        Built-in scene and camera preset names.
    positions
        Number of lens positions (>= 2) from infinity to the minimum focus distance.
    dual_pixel
        Also write the left/right sub-images (the camera must have dual pixels).
    illuminance_lux
        Scene illuminance, lux.
    exposure_s
        Integration time, seconds; ``None`` for auto-exposure.
    seed
        Seeds the scene texture and every frame's noise (same seed -> same bytes).
    subject_distance_m
        Subject distance, metres (scene default when ``None``).
    focal_length_mm, f_number
        Override the preset lens.
    output
        ``"raw"``: raw DN mosaics (16-bit PNG, black level in); ``"rgb"``: processed sRGB.
    resume
        Keep frames an interrupted run already wrote.
    scene_options
        Extra options of the scene (see ``focuslab scenes``).
    progress
        Called as ``progress(done, total)`` after each frame.
    device
        Torch device for rendering (``None``: CPU).

    Returns
    -------
    pathlib.Path
        The ``stack.json`` written.
    """
    if output not in OUTPUTS:
        raise InvalidParameterError(f"output must be one of {', '.join(OUTPUTS)}, got {output!r}")
    camera = with_lens(get_camera(camera_name), focal_length_mm=focal_length_mm, f_number=f_number)
    if dual_pixel and not camera.has_dual_pixel:
        raise InvalidParameterError(
            f"camera {camera_name!r} has no dual-pixel sensor; drop --dual-pixel or pick phone_main"
        )
    lux = check_positive("illuminance_lux", illuminance_lux)
    if exposure_s is None:
        exp_s, gain = auto_exposure(camera, lux)  # the AE's, as the AF backend
    else:
        exp_s, gain = check_positive("exposure_s", exposure_s), 1.0
    if subject_distance_m is not None:
        check_positive("subject_distance_m", subject_distance_m)
        if subject_distance_m * 1000.0 <= camera.lens.focal_length_mm:
            raise InvalidParameterError(
                f"subject distance {subject_distance_m:g} m is nearer than the focal length "
                f"{camera.lens.focal_length_mm:g} mm: no real image forms; use a larger distance"
            )
    codes = sweep_codes(camera, positions)
    writer = FocalStackWriter(out_dir, camera=camera_block(camera, output), resume=resume)
    scene = scene_for_camera(camera, scene_name, subject_distance_m=subject_distance_m, seed=seed,
                             **(scene_options or {}))
    for i, code in enumerate(codes):
        if not writer.done(i):
            frame = camera.capture(
                scene, 0.0, lens_code=code, exposure_s=exp_s, illuminance_lux=lux,
                seed=int(np.random.SeedSequence([seed, i]).generate_state(1)[0]), dual_pixel=dual_pixel,
                analog_gain=gain,
            )
            raw = frame.raw
            image = raw.data if output == "raw" else _rgb16(raw)
            writer.add(
                i, image, lens_position=code, focus_distance_m=frame.focus_distance_m, exposure_s=exp_s,
                left=raw.left if dual_pixel else None, right=raw.right if dual_pixel else None,
                extra={"lens_displacement_um": round(frame.lens_displacement_um, 4), "analog_gain": gain},
            )
        if progress is not None:
            progress(i + 1, len(codes))
    subject = scene.subject_distance_m(0.0)
    truth = region_truth(camera, scene)
    if subject is not None and math.isfinite(subject):
        truth = {"subject_distance_m": subject, **truth}
    meta = {"scene": scene_name, "seed": seed, "illuminance_lux": lux, "output": output,
            "subject_code": camera.focus_code_for_distance(subject) if truth else None}
    return writer.finish(ground_truth=truth or None, metadata=meta)
