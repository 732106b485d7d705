"""The built-in demo (``make demo`` / ``focuslab demo``): simulate, measure, report.

Until the AF benchmark exists this is the main job: render a focal sweep of the built-in
default scene (a dead-leaves plane at 1 m) with the ``phone_main`` camera (dual-pixel
IMX363-class sensor, VCM lens), then measure it the way an AF engineer would:

* **contrast**: the Tenengrad focus measure of the green raw plane at every lens code, its
  parabola-refined peak, and the focus error (depth-of-focus units, DESIGN.md) the lens
  would have if commanded to that code;
* **phase**: the horizontal left/right dual-pixel disparity at every code, against the
  camera model's prediction (the centroid separation of its left/right PSFs: 0.218 c with
  the Pixel 4 response fitted to real kernels, where an ideal half-pupil split gives
  4c/(3 pi) = 0.424 c, DESIGN.md), showing its sign flip at focus. The correlation search
  measures the shift of the correlation peak, which for the soft-split Pixel 4 kernels lies
  ~15-20 % beyond their centroid separation (for an ideal half-pupil split the two agree
  within 2 %).

Results go to a focal-stack folder, ``summary.json`` and a self-contained ``report.html``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from focuslab.camera import get_camera
from focuslab.data.focal_stack import FocalStack, read_focal_stack
from focuslab.data.stack_render import render_stack_folder
from focuslab.files import ensure_dir, write_json_atomic
from focuslab.html_report import Section, write_report
from focuslab.isp import demosaic, srgb_encode
from focuslab.metrics.focus import focus_measure, peak_position


@dataclass(frozen=True)
class DemoResult:
    """Figures of one demo run."""

    scene: str
    camera: str
    subject_distance_m: float
    true_best_code: int
    contrast_peak_code: float
    contrast_focus_error_dof: float
    frames: int
    disparity_slope: float
    disparity_zero_code: float
    report: str
    stack: str


def green_plane(raw: np.ndarray, cfa: str) -> np.ndarray:
    """The first green sub-plane of a Bayer mosaic (half resolution), float64."""
    pos = {"RGGB": (0, 1), "BGGR": (0, 1), "GRBG": (0, 0), "GBRG": (0, 0)}.get(cfa)
    if pos is None:
        return raw.astype(float)
    return raw[pos[0] :: 2, pos[1] :: 2].astype(float)


def horizontal_disparity_px(left: np.ndarray, right: np.ndarray, *, max_shift: int = 12) -> float:
    """Shift (pixels, + when the right image lies toward +x of the left) by 1-D NCC + parabola.

    Normalised cross-correlation of the two images over integer horizontal shifts, refined
    by a parabola through the best three (the classic PDAF correlation search).
    """
    a = left - left.mean()
    b = right - right.mean()
    w = a.shape[1]
    m = max_shift
    core = a[:, m : w - m]
    scores = []
    for s in range(-m, m + 1):
        seg = b[:, m + s : w - m + s]
        denom = np.sqrt((core * core).sum() * (seg * seg).sum())
        scores.append(float((core * seg).sum() / denom) if denom > 0 else 0.0)
    return peak_position(np.arange(-m, m + 1, dtype=float), np.array(scores))


def model_disparity_px(psf, coc_px: float, *, samples_per_px: int = 4) -> float:
    """Centroid separation x_R - x_L (pixels) of a PSF model's dual-pixel pair at blur ``coc_px``."""
    left, right = psf.kernel_pair(float(coc_px), samples_per_px=samples_per_px)
    left, right = (k.sum(axis=0) if k.ndim == 3 else k for k in (left, right))
    x = np.arange(left.shape[1]) - left.shape[1] // 2

    def centroid(k: np.ndarray) -> float:
        return float((k.sum(axis=0) * x).sum() / k.sum())

    return (centroid(right) - centroid(left)) / samples_per_px


def _thumbnail(stack: FocalStack, index: int) -> np.ndarray:
    raw = stack.read_linear(index)
    white = float(stack.camera["white_level_dn"]) - float(stack.camera["black_level_dn"])
    rgb = demosaic(raw / white, stack.camera["cfa"], method="bilinear")
    means = rgb.reshape(-1, 3).mean(axis=0)
    rgb = rgb * (means[1] / np.maximum(means, 1e-12))  # grey-world white balance
    rgb = rgb / max(np.percentile(rgb, 99.5), 1e-6)
    return srgb_encode(np.clip(rgb, 0, 1))


def run_demo(
    out_dir: str | os.PathLike = "demo_out",
    *,
    scene_name: str = "dead_leaves",
    camera_name: str = "phone_main",
    positions: int = 31,
    illuminance_lux: float = 500.0,
    seed: int = 0,
    progress=None,
) -> DemoResult:
    """Render the demo focal sweep, measure contrast and phase, write the report."""
    out = ensure_dir(out_dir)
    stack_dir = out / "stack"
    camera = get_camera(camera_name)
    render_stack_folder(
        stack_dir, scene_name=scene_name, camera_name=camera_name, positions=positions,
        dual_pixel=camera.has_dual_pixel, illuminance_lux=illuminance_lux, seed=seed, resume=True,
        progress=progress,
    )
    stack = read_focal_stack(stack_dir)
    cfa = stack.camera["cfa"]
    subject_m = float(stack.subject_distance_m())
    codes = stack.lens_positions
    h, w = stack.read(0).shape[:2]
    roi = (w // 4, h // 4, w // 2, h // 2)
    x, y, rw, rh = roi
    sharp, disparity = [], []
    for i in range(len(stack)):
        g = green_plane(stack.read_linear(i)[y : y + rh, x : x + rw], cfa)
        sharp.append(focus_measure(g, "TENG") / max(g.mean(), 1e-9) ** 2)
        if stack.has_dual_pixel:
            gl = green_plane(stack.read_linear(i, "left")[y : y + rh, x : x + rw], cfa)
            gr = green_plane(stack.read_linear(i, "right")[y : y + rh, x : x + rw], cfa)
            disparity.append(2.0 * horizontal_disparity_px(gl, gr))  # green plane is half resolution
    sharp = np.array(sharp)
    peak_code = peak_position(codes, sharp)
    d_peak = float(camera.actuator.displacement_um(round(peak_code)))  # the code AF would command
    err_dof = float(camera.focus_error_dof(subject_m, d_peak))
    true_code = camera.focus_code_for_distance(subject_m)

    disp_um = np.array([f.extra.get("lens_displacement_um", np.nan) for f in stack.frames], dtype=float)
    coc_px = np.array([camera.coc_um(subject_m, d) for d in disp_um]) / float(stack.camera["pixel_pitch_um"])
    predicted = np.array([model_disparity_px(camera.psf, c) for c in coc_px])
    slope, zero_code = float("nan"), float("nan")
    if disparity:
        disparity = np.array(disparity)
        near = np.abs(predicted) < 8  # the correlation search range
        slope = float(np.polyfit(predicted[near], disparity[near], 1)[0]) if near.sum() >= 3 else float("nan")
        fit = np.polyfit(codes[near], disparity[near], 1) if near.sum() >= 3 else None
        zero_code = float(-fit[1] / fit[0]) if fit is not None and fit[0] != 0 else float("nan")

    report = _write_report(out, stack, camera_name, scene_name, subject_m, codes, sharp, peak_code, err_dof,
                           true_code, disparity, predicted, coc_px)
    result = DemoResult(
        scene=scene_name, camera=camera_name, subject_distance_m=subject_m, true_best_code=int(true_code),
        contrast_peak_code=float(peak_code), contrast_focus_error_dof=err_dof, frames=len(stack),
        disparity_slope=slope, disparity_zero_code=zero_code, report=str(report), stack=str(stack_dir),
    )
    write_json_atomic(out / "summary.json", json.loads(json.dumps(asdict(result), default=float)))
    return result


def _write_report(out: Path, stack: FocalStack, camera_name, scene_name, subject_m, codes, sharp, peak_code,
                  err_dof, true_code, disparity, predicted, coc_px) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    secs = []
    s = Section("Setup").text(
        f"Scene '{scene_name}' (subject at {subject_m:.3f} m), camera '{camera_name}' "
        f"({stack.camera['focal_length_mm']} mm f/{stack.camera['f_number']}, preview stream "
        f"{stack.camera['pixel_pitch_um']} um pixels, {len(stack)} lens positions from infinity to the "
        f"minimum focus distance)."
    )
    secs.append(s)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.plot(codes, sharp / sharp.max(), "o-", ms=3, label="Tenengrad (green raw plane)")
    ax.axvline(true_code, color="g", ls="--", label=f"true focus code {true_code}")
    ax.axvline(peak_code, color="r", ls=":", label=f"contrast peak {peak_code:.1f}")
    ax.set_xlabel("lens code")
    ax.set_ylabel("normalised focus measure")
    ax.legend()
    secs.append(Section("Contrast").figure(fig, "Focus measure over the sweep").text(
        f"Contrast peak at code {peak_code:.1f}; commanding it leaves the subject {err_dof:.2f} depth-of-focus "
        f"units out of focus (in focus means <= 1)."))
    if len(disparity):
        fig, ax = plt.subplots(figsize=(7, 3.6))
        ax.plot(codes, disparity, "o-", ms=3, label="measured L/R disparity (NCC)")
        ax.plot(codes, predicted, "k--", label="model: PSF centroid separation")
        ax.plot(codes, 4.0 * coc_px / (3.0 * np.pi), ":", color="#999", label="ideal half-pupil split 4c/(3 pi)")
        ax.axhline(0, color="#888", lw=0.8)
        ax.axvline(true_code, color="g", ls="--", label="true focus code")
        ax.set_ylim(-8, 8)
        ax.set_xlabel("lens code")
        ax.set_ylabel("disparity, stream pixels")
        ax.legend()
        secs.append(Section("Dual-pixel phase").figure(fig, "Left/right disparity changes sign at focus"))
    best = int(np.argmax(sharp))
    picks = sorted({0, best, len(stack) - 1})
    fig, axes = plt.subplots(1, len(picks), figsize=(4 * len(picks), 3.2))
    for ax, i in zip(np.atleast_1d(axes), picks, strict=True):
        ax.imshow(_thumbnail(stack, i))
        ax.set_title(f"code {codes[i]:.0f}")
        ax.axis("off")
    secs.append(Section("Frames").figure(fig, "Infinity, sharpest and nearest frames (bilinear demosaic, sRGB)"))
    rows = [(int(c), f"{stack.frames[i].focus_distance_m:.3g}", float(sharp[i] / sharp.max()),
             float(disparity[i]) if len(disparity) else "-", float(predicted[i])) for i, c in enumerate(codes)]
    secs.append(Section("Per frame").table(
        ["code", "focus distance (m)", "focus measure", "disparity (px)", "predicted (px)"], rows))
    return write_report(out / "report.html", "focuslab demo: focal sweep", secs, command="focuslab demo")
