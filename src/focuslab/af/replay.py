"""Replay of a focal-stack folder as an AF backend: the frame shown is the capture nearest the lens.

:class:`ReplayStack` reads a focal-stack folder (:mod:`focuslab.data.focal_stack`: real
captures or rendered) once into memory, sorted by lens position: raw stacks (``cfa`` and
``black_level_dn`` in the camera block) as mosaics (DN - black) / (white - black) with their
CFA, processed images as grey float32 in [0, 1] (8/16-bit full scale), dual-pixel halves when
every frame has them. :class:`ReplayBackend` serves one AF region of it to the loop:

* the lens: a commanded code moves the lens instantly (a captured stack has no dynamics);
  the frame shown is the one whose lens position is nearest the code in force;
  ``reported_code`` = that frame's lens position; ``exposure_s`` = the frame's own, else
  half the frame interval;
* the context: min/max code = the lens-position range, ``frame_interval_s`` = 1/30 s (the
  stacks carry no timing; a 30 fps preview is assumed); ``extra["lens_positions"]`` lists the
  positions (a sweep can visit every frame);
* the lens model (the factory code <-> distance calibration the learned policies, ``depth``
  and ``phase`` jump with): the stack's own, :func:`stack_lens_model`, when the camera block
  gives the optics (f, N and a pixel pitch) *and* every frame its ``focus_distance_m``, with
  the focus moving one way along the lens positions: distance <-> position interpolated
  linearly in diopters between the captured frames (a VCM's travel is close to linear in
  diopters, and the frames of a rendered 41-position stack are ~0.25 D apart; a phone's
  Camera2 capture gives ``LENS_FOCUS_DISTANCE`` per frame, in diopters). Otherwise no lens
  model, and the policies that need one are skipped;
* the truth per AF region: the stack's ground truth when it has one for the region
  (``subject_distance_m`` or a region with the same ROI) and every frame a focus distance
  (the best position interpolated in diopters between frames); otherwise the peak of the
  full-resolution contrast sweep (TENG over every frame's region, the green plane of raw
  frames, :func:`~focuslab.metrics.focus.peak_position`). Focus error in frames
  (|index shown - best index|); in DoF as well when the camera block gives f, N and a pixel
  pitch (c_max = ``coc_max_um`` or 2 native pitches) and the frames their focus distances.

Folders without ``stack.json`` whose images are numbered: an image without any digit in its
name (e.g. ``expected.jpg``, a tool's fused result beside ``pcb_001.jpg``...) is not a lens
position and is left out (listed in ``ReplayStack.skipped``).
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import replace
from pathlib import Path

import numpy as np

from focuslab.af.green_plane import green_plane
from focuslab.af.regions import centre_roi, check_roi
from focuslab.af.truth import Truth
from focuslab.af.types import AFContext, Observation
from focuslab.data.focal_stack import MANIFEST, FocalStack, read_focal_stack
from focuslab.errors import InputFileError
from focuslab.metrics.focus import focus_curve, peak_position

#: Frame interval assumed for replayed stacks (a 30 fps preview), seconds.
REPLAY_FRAME_INTERVAL_S = 1.0 / 30.0


def _checked_manifest(root: Path) -> None:
    """Refuse a stack.json where some frames give a lens position and others do not."""
    path = root / MANIFEST
    if not path.is_file():
        return
    try:
        frames = json.loads(path.read_text(encoding="utf-8")).get("frames") or []
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        return  # read_focal_stack reports it
    have = [isinstance(f, dict) and f.get("lens_position") is not None for f in frames]
    if any(have) and not all(have):
        missing = [i for i, h in enumerate(have) if not h]
        raise InputFileError(
            f"{path}: frames {missing[:5]} have no lens_position while others do; give every frame a lens_position"
        )


class ReplayStack:
    """A focal stack loaded for replay (frames sorted by lens position, read once).

    Parameters
    ----------
    stack_or_path
        A :class:`~focuslab.data.focal_stack.FocalStack` or a folder path.

    Raises
    ------
    InputFileError
        Missing folder or no images, frames of different sizes, missing or repeated lens
        positions, unreadable images.
    """

    def __init__(self, stack_or_path: FocalStack | str | os.PathLike):
        if isinstance(stack_or_path, FocalStack):
            stack = stack_or_path
        else:
            root = Path(stack_or_path)
            if root.is_dir():
                _checked_manifest(root)
            stack = read_focal_stack(root)
        frames = list(stack.frames)
        source = list(range(len(frames)))  # index of each frame in the folder's own list
        self.skipped: list[str] = []
        if not (stack.root / MANIFEST).is_file():
            numbered = [bool(re.search(r"\d", Path(f.file).stem)) for f in frames]
            if any(numbered) and not all(numbered):
                self.skipped = [f.file for f, n in zip(frames, numbered, strict=True) if not n]
                source = [i for i, n in zip(source, numbered, strict=True) if n]
                frames = [replace(frames[j], lens_position=float(i)) for i, j in enumerate(source)]  # file order
        positions = np.array([f.lens_position for f in frames], dtype=float)
        if np.unique(positions).size != positions.size:
            raise InputFileError(f"{stack.root}: two frames share a lens position; give each frame its own")
        order = np.argsort(positions, kind="stable")
        self.stack = stack
        self.frames = [frames[i] for i in order]
        self._source = [source[i] for i in order]
        self.lens_positions = positions[order]
        cam = stack.camera
        self.cfa = cam.get("cfa") if cam.get("cfa") not in (None, "mono") else None
        self.name = str(cam.get("name") or stack.root.name)
        self.images = self._read_all("image")
        self.has_dual_pixel = all(f.left and f.right for f in self.frames)
        self.left = self._read_all("left") if self.has_dual_pixel else None
        self.right = self._read_all("right") if self.has_dual_pixel else None
        self.focus_distances_m = [f.focus_distance_m for f in self.frames]
        self._curves: dict[tuple[int, int, int, int], float] = {}

    def _read_all(self, view: str) -> np.ndarray:
        out, shapes = [], set()
        black = self.stack.camera.get("black_level_dn")
        white = self.stack.camera.get("white_level_dn")
        for fr, index in zip(self.frames, self._source, strict=True):
            name = {"image": fr.file, "left": fr.left, "right": fr.right}[view]
            raw = self.stack.read(index, view)
            if black is not None and white is not None:
                img = (raw.astype(np.float32) - np.float32(black)) / np.float32(float(white) - float(black))
            else:
                scale = 255.0 if raw.dtype == np.uint8 else 65535.0 if raw.dtype == np.uint16 else 1.0
                img = raw.astype(np.float32) / np.float32(scale)
                if img.ndim == 3:
                    img = img.mean(axis=2, dtype=np.float32)
            shapes.add((name, img.shape))
            out.append(img)
        sizes = sorted({s for _, s in shapes})
        if len(sizes) > 1:
            raise InputFileError(
                f"{self.stack.root}: frames have different sizes {sizes}; a focal stack needs one frame size"
            )
        return np.stack(out)

    @property
    def frame_shape_px(self) -> tuple[int, int]:
        """``(H, W)`` of the frames."""
        return (int(self.images.shape[1]), int(self.images.shape[2]))

    def __len__(self) -> int:
        return len(self.frames)

    def nearest_index(self, lens_position: float) -> int:
        """Index (sorted order) of the frame nearest ``lens_position``."""
        return int(np.argmin(np.abs(self.lens_positions - float(lens_position))))

    def sweep_peak(self, roi: tuple[int, int, int, int]) -> float:
        """Lens position of the peak of the region's full-resolution TENG sweep (cached)."""
        key = tuple(int(v) for v in roi)
        if key not in self._curves:
            x, y, w, h = key
            planes = [green_plane(img[y : y + h, x : x + w], self.cfa) for img in self.images]
            curve = focus_curve(np.stack(planes), "TENG")
            self._curves[key] = peak_position(self.lens_positions, curve)
        return self._curves[key]


def _monotone_fit(pos: np.ndarray, dpt: np.ndarray) -> np.ndarray | None:
    """Diopters at ``pos`` from a least-squares cubic in position, or None when the frames' order
    disagrees with a one-way sweep (Spearman |rho| < 0.95), or the cubic turns back inside it."""
    from scipy.stats import spearmanr

    if pos.size < 6 or np.ptp(dpt) <= 0.0:
        return None
    rho = float(spearmanr(pos, dpt).statistic)
    if not abs(rho) >= 0.95:
        return None
    x = (pos - pos[0]) / max(float(pos[-1] - pos[0]), 1e-12)
    coef = np.polynomial.polynomial.polyfit(x, dpt, min(3, pos.size - 3))
    fine = np.polynomial.polynomial.polyval(np.linspace(0.0, 1.0, 1001), coef)
    slope = np.sign(rho)
    if not np.all(slope * np.diff(fine) > 0.0):
        return None
    return np.maximum(np.polynomial.polynomial.polyval(x, coef), 0.0)


def stack_lens_model(lens_positions, focus_distances_m):
    """The code <-> distance calibration of a stack from its frames' focus distances, or None.

    Parameters
    ----------
    lens_positions
        The frames' lens positions, sorted ascending.
    focus_distances_m
        Each frame's focus distance, m (``inf`` for infinity); None when one is unknown.

    Returns
    -------
    (code_for_distance, distance_for_code) or None
        ``code_for_distance(d)``: the lens position (rounded to an integer code, clipped to the
        stack's range) focusing at ``d`` m; ``distance_for_code(c)``: the focus distance at
        position ``c`` (``inf`` at or beyond 0 D). Through the frames, linear in diopters
        between them, when the focus moves strictly one way along the positions. A dense
        sweep whose recorded focus wobbles back by a little (the focus distances a camera
        reports carry the actuator's jitter: a rendered stack records where the lens really
        was) is fitted instead: the least-squares cubic of diopters in position, taken when
        it is monotone over the stack and the frames' order agrees with it (Spearman's
        |rho| >= 0.95). None when a distance is unknown or the focus does not move one way
        (not a focus sweep: no calibration can be read from it).
    """
    pos = np.asarray(lens_positions, dtype=float)
    if pos.size < 2 or any(d is None for d in focus_distances_m):
        return None
    dpt = np.array([0.0 if math.isinf(float(d)) else 1.0 / float(d) for d in focus_distances_m])
    if not np.all(np.isfinite(dpt)) or np.any(dpt < 0.0):
        return None
    step = np.diff(dpt)
    if not (np.all(step > 0.0) or np.all(step < 0.0)):
        dpt = _monotone_fit(pos, dpt)
        if dpt is None:
            return None
    order = np.argsort(dpt)
    dpt_up, pos_up = dpt[order], pos[order]
    lo, hi = math.floor(pos[0]), math.ceil(pos[-1])

    def code_for_distance(distance_m: float) -> int:
        d = float(distance_m)
        v = 0.0 if math.isinf(d) else 1.0 / d
        return int(np.clip(round(float(np.interp(v, dpt_up, pos_up))), lo, hi))

    def distance_for_code(code: float) -> float:
        v = float(np.interp(float(code), pos, dpt))
        return math.inf if v <= 0.0 else 1.0 / v

    return code_for_distance, distance_for_code


class ReplayBackend:
    """AF on a recorded focal stack (see the module notes).

    Parameters
    ----------
    stack_or_path
        A folder, a :class:`~focuslab.data.focal_stack.FocalStack` or a loaded
        :class:`ReplayStack` (share one between runs to read the frames once).
    roi
        AF region ``(x, y, w, h)`` in frame pixels; default :func:`centre_roi`.
    """

    def __init__(self, stack_or_path, *, roi: tuple[int, int, int, int] | None = None):
        rs = stack_or_path if isinstance(stack_or_path, ReplayStack) else ReplayStack(stack_or_path)
        self.replay = rs
        shape = rs.frame_shape_px
        self.roi = centre_roi(shape) if roi is None else check_roi(roi, shape)
        self._code = float(rs.lens_positions[0])
        cam = rs.stack.camera
        if isinstance(cam.get("definition"), dict):  # rendered from a camera file: make it known here
            from focuslab.camera.camera_file import register_camera_document

            register_camera_document(cam["definition"])
        self._f_mm, self._n = cam.get("focal_length_mm"), cam.get("f_number")
        pitch = cam.get("native_pixel_pitch_um", cam.get("pixel_pitch_um"))
        self._coc_max_um = cam.get("coc_max_um", None if pitch is None else 2.0 * float(pitch))
        known = all(d is not None for d in rs.focus_distances_m)
        self._optics = known and None not in (self._f_mm, self._n, self._coc_max_um)
        lens_model = stack_lens_model(rs.lens_positions, rs.focus_distances_m) if self._optics else None
        code_for_distance, distance_for_code = lens_model if lens_model is not None else (None, None)
        self._context = AFContext(
            min_code=math.floor(rs.lens_positions[0]),
            max_code=math.ceil(rs.lens_positions[-1]),
            frame_interval_s=REPLAY_FRAME_INTERVAL_S,
            has_dual_pixel=rs.has_dual_pixel,
            has_depth=False,
            focal_length_mm=None if self._f_mm is None else float(self._f_mm),
            f_number=None if self._n is None else float(self._n),
            pixel_pitch_um=None if cam.get("pixel_pitch_um") is None else float(cam["pixel_pitch_um"]),
            coc_max_um=None if self._coc_max_um is None else float(self._coc_max_um),
            code_for_distance=code_for_distance,
            distance_for_code=distance_for_code,
            settle_time_s=0.0,
            name=rs.name,
            extra={"lens_positions": tuple(float(p) for p in rs.lens_positions), "replay": True},
        )
        self._best = self._best_position()

    @property
    def context(self) -> AFContext:
        """What the AF knows about this stack."""
        return self._context

    def _diopters(self, i: int) -> float:
        d = self.replay.focus_distances_m[i]
        return 0.0 if math.isinf(d) else 1.0 / d

    def _best_position(self) -> tuple[float, float | None]:
        """(best lens position, subject distance or None) for the region."""
        rs = self.replay
        gt = rs.stack.ground_truth or {}
        u = None
        for region in gt.get("regions", []):
            if [int(v) for v in region.get("roi", [])] == list(self.roi):
                u = float(region["subject_distance_m"])
        if u is None and "subject_distance_m" in gt and not gt.get("regions"):
            u = float(gt["subject_distance_m"])
        if u is not None and all(d is not None for d in rs.focus_distances_m):
            v = np.array([self._diopters(i) for i in range(len(rs))])
            order = np.argsort(v)
            return float(np.interp(1.0 / u, v[order], rs.lens_positions[order])), u
        pos = rs.sweep_peak(self.roi)
        if all(d is not None for d in rs.focus_distances_m):
            v = np.array([self._diopters(i) for i in range(len(rs))])
            vb = float(np.interp(pos, rs.lens_positions, v))
            return pos, (math.inf if vb <= 0 else 1.0 / vb)
        return pos, None

    def observe(self, frame_index: int, t_s: float) -> Observation:
        """The frame nearest the lens position in force, cropped to the AF region."""
        rs = self.replay
        i = rs.nearest_index(self._code)
        x, y, w, h = self.roi
        sl = (slice(y, y + h), slice(x, x + w))
        exp = rs.frames[i].exposure_s
        return Observation(
            frame_index=int(frame_index),
            t_s=float(t_s),
            exposure_s=float(exp) if exp is not None else 0.5 * REPLAY_FRAME_INTERVAL_S,
            lens_code=round(self._code),
            reported_code=float(rs.lens_positions[i]),
            roi=self.roi,
            image=rs.images[i][sl].copy(),
            cfa=rs.cfa,
            left=None if rs.left is None else rs.left[i][sl].copy(),
            right=None if rs.right is None else rs.right[i][sl].copy(),
            depth=None,
            frame_shape_px=rs.frame_shape_px,
        )

    def command(self, code: int, t_s: float) -> int:
        """Move the lens to ``code`` (clipped to the stack's range); the move is instant."""
        ctx = self._context
        c = int(np.clip(round(float(code)), ctx.min_code, ctx.max_code))
        self._code = float(c)
        return c

    def truth(self, t_s: float) -> Truth:
        """Truth for the frame currently shown (see the module notes)."""
        rs = self.replay
        i = rs.nearest_index(self._code)
        best, u = self._best
        best_index = float(np.interp(best, rs.lens_positions, np.arange(len(rs), dtype=float)))
        err_dof = None
        if self._optics and u is not None:
            from focuslab.optics.focus import sensor_distance_mm

            f, n = float(self._f_mm), float(self._n)
            fd = rs.focus_distances_m[i]
            s_mm = f if math.isinf(fd) else float(sensor_distance_mm(f, fd))
            v_obj = 0.0 if math.isinf(u) else 1e-3 / u  # 1/mm
            v_foc = 1.0 / f - 1.0 / s_mm  # 1/mm, lens equation
            err_dof = abs((f / n) * s_mm * (v_obj - v_foc)) * 1e3 / float(self._coc_max_um)
        return Truth(
            best_code=float(best),
            focus_error_dof=err_dof,
            lens_code_true=float(rs.lens_positions[i]),
            subject_distance_m=u,
            focus_error_frames=abs(i - best_index),
        )
