"""Example AF-region frames before and after focus, saved as small sRGB PNGs for the report.

The "before" frame is the AF region of a run's first frame, the "after" frame that of the
frame judged final (a stills run's done frame; a video's last frame), exactly as the policy
saw them (:attr:`focuslab.af.loop.AFRun.first_image` / ``final_image``). A raw mosaic is
demosaiced bilinearly, grey-world balanced, scaled to its 99.5th percentile and sRGB-encoded.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from focuslab.bench.record_io import checkpoint_path
from focuslab.data.image_files import write_png
from focuslab.isp import demosaic, srgb_encode


def raw_to_display(image: np.ndarray, cfa: str | None) -> np.ndarray:
    """A normalised AF region (``h x w`` Bayer mosaic with ``cfa``, grey, or ``h x w x 3``) as ``uint8`` sRGB."""
    img = np.asarray(image, dtype=np.float64)
    if cfa is not None and img.ndim == 2:
        rgb = demosaic(img, cfa, method="bilinear")
        means = rgb.reshape(-1, 3).mean(axis=0)
        rgb = rgb * (means[1] / np.maximum(means, 1e-12))
    else:
        rgb = img if img.ndim == 3 else np.repeat(img[..., None], 3, axis=2)
    rgb = np.nan_to_num(rgb, nan=0.0, posinf=0.0, neginf=0.0)
    rgb = rgb / max(float(np.percentile(rgb, 99.5)), 1e-9)
    return np.round(255.0 * np.asarray(srgb_encode(np.clip(rgb, 0.0, 1.0)))).astype(np.uint8)


def _cfa_of(case) -> str | None:
    if case.stack is not None:
        return None
    from focuslab.camera import get_camera
    from focuslab.sensor.cfa import cfa_at_offset

    stream = get_camera(case.camera).stream_sensor
    if stream.is_mono or stream.cfa == "mono":
        return None
    return cfa_at_offset(stream.cfa, case.roi[0], case.roi[1])


def save_examples(case, run, out_dir: str | os.PathLike) -> dict:
    """Save the first and final AF-region frames of ``run``; returns their paths relative to ``out_dir``'s parent.

    Relative paths let the report find the images wherever the bench folder is moved.
    """
    base = checkpoint_path(out_dir, case.suite, case.case_id).with_suffix("")
    cfa = _cfa_of(case)
    k = run.done_frame if run.done_frame is not None else len(run.frames) - 1
    out = {"method": run.policy, "before_code": int(run.frames[0].lens_code),
           "after_code": int(run.frames[k].lens_code)}
    for key, img in (("before", run.first_image), ("after", run.final_image)):
        if img is None:
            continue
        path = Path(f"{base}-{key}.png")
        write_png(path, raw_to_display(img, cfa))
        out[key] = str(path.relative_to(Path(out_dir).parent))
    return out


def focus_curve(case, scene, *, positions: int = 13, method: str = "TENG") -> dict:
    """A settled contrast sweep of the case's AF region: focus measure and true focus error per code.

    The lens rests at ``positions`` codes evenly spread over the focus range (infinity to
    the minimum focus distance); at each the AF region is captured (the case's light, seed,
    exposure and analogue gain, as the AF loop reads it) and scored with ``method`` on its green plane
    (:func:`focuslab.metrics.focus.focus_measure`), normalised to the sweep's maximum. The
    true focus error |c| / c_max of the region's subject
    (:func:`focuslab.af.region_depth.region_subject_distance_m`) is given alongside.
    """
    from focuslab.af.green_plane import green_plane
    from focuslab.af.region_depth import region_subject_distance_m
    from focuslab.bench.suites import code_range
    from focuslab.camera import get_camera
    from focuslab.camera.exposure import auto_exposure
    from focuslab.metrics.focus import focus_measure

    camera = get_camera(case.camera)
    lo, hi = code_range(camera)
    codes = np.unique(np.round(np.linspace(lo, hi, positions)).astype(int))
    exposure_s, gain = auto_exposure(camera, case.illuminance_lux)
    cfa = _cfa_of(case)
    measure, error = [], []
    for code in codes:
        frame = camera.capture(scene, 0.0, lens_code=int(code), exposure_s=exposure_s,
                               illuminance_lux=case.illuminance_lux, seed=case.seed, roi=case.roi, dual_pixel=False,
                               analog_gain=gain)
        measure.append(float(focus_measure(green_plane(frame.raw.normalized(), cfa), method)))
        u = region_subject_distance_m(camera, scene, case.roi, t_s=0.0, displacement_um=frame.lens_displacement_um)
        error.append(float(camera.focus_error_dof(u, frame.lens_displacement_um)) if u else None)
    m = np.asarray(measure)
    top = float(m.max()) if m.size and m.max() > 0 else 1.0
    return {"codes": codes.tolist(), "measure": (m / top).tolist(), "error_dof": error, "method": method}


def stack_focus_curve(replay, roi: tuple[int, int, int, int], *, method: str = "TENG") -> dict:
    """The focus curve of one AF region of a loaded focal stack (``focuslab.af.replay.ReplayStack``).

    Every frame's region (green plane of raw frames) scored with ``method``, normalised to
    its maximum, against the frames' lens positions: the full-resolution contrast sweep whose
    peak is the replay's truth when the stack has no ground truth.
    """
    from focuslab.af.green_plane import green_plane
    from focuslab.metrics.focus import focus_measure

    x, y, w, h = (int(v) for v in roi)
    m = np.array([float(focus_measure(green_plane(img[y : y + h, x : x + w], replay.cfa), method))
                  for img in replay.images])
    top = float(m.max()) if m.size and m.max() > 0 else 1.0
    return {"codes": [float(p) for p in replay.lens_positions], "measure": (m / top).tolist(), "error_dof": [],
            "method": method}
