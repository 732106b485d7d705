"""Test doubles for the contrast, phase and hybrid policies (no tests here).

A fake camera whose AF region is a fixed random texture blurred by a Gaussian whose width
grows with |code - best| (a synthetic focus curve), with dual-pixel views shifted by a
disparity k (best - code) and optional depth zones; the lens reaches each command at once.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from focuslab.af.types import AFContext, Command, DepthZones, Observation

CODES_PER_DOF = 15.0
GAIN_CODES_PER_PX = 100.0
#: Diopters per code of the fake factory map: 1 DoF of blur (2.8 µm) = 15 codes with
#: f = 4.38 mm, N = 1.73 near the middle of the range (see make_context).
SIZE = 48


def make_context(*, lens_model: bool = False, dual_pixel: bool = True, depth: bool = False, name: str = "fake"):
    """A 0..600 code context; with ``lens_model`` a linear diopter map (D = code * q)."""
    extra = {"codes_per_dof": CODES_PER_DOF}
    if not lens_model:
        return AFContext(min_code=0, max_code=600, frame_interval_s=1 / 30, has_dual_pixel=dual_pixel,
                         has_depth=depth, name=name, extra=extra)
    q = 0.02  # diopters per code: 0..12 D

    def distance_for_code(code):
        return math.inf if code <= 0 else 1.0 / (code * q)

    def code_for_distance(d):
        return round(min(600.0, 1.0 / (d * q)))

    return AFContext(min_code=0, max_code=600, frame_interval_s=1 / 30, has_dual_pixel=dual_pixel,
                     has_depth=depth, focal_length_mm=4.38, f_number=1.73, pixel_pitch_um=5.6, coc_max_um=2.8,
                     code_for_distance=code_for_distance, distance_for_code=distance_for_code, name=name)


class FakeCamera:
    """Synthetic observations around a true best code."""

    def __init__(self, best_code: float, *, start_code: int = 0, seed: int = 0, noise: float = 0.002,
                 dp_noise: float = 0.002, texture: float = 1.0, depth_m: float | None = None, dual_pixel=True,
                 codes_per_dof: float = CODES_PER_DOF):
        self.best = float(best_code)
        self.code = int(start_code)
        self.rng = np.random.default_rng(seed)
        base = np.random.default_rng(1000 + seed).random((SIZE + 16, SIZE + 16))
        self.tex = 0.5 + texture * (ndimage.gaussian_filter(base, 0.7) - 0.5)
        self.noise, self.dp_noise = noise, dp_noise
        self.depth_m = depth_m
        self.dual_pixel = dual_pixel
        self.cpd = codes_per_dof
        self.commands: list[int] = []

    def blur_px(self, code: float) -> float:
        return math.hypot(0.6, 0.35 * abs(code - self.best) / self.cpd)

    def observe(self, i: int) -> Observation:
        sig = self.blur_px(self.code)
        img = ndimage.gaussian_filter(self.tex, sig)
        crop = (slice(8, 8 + SIZE), slice(8, 8 + SIZE))
        image = (img[crop] + self.rng.normal(0, self.noise, (SIZE, SIZE))).astype(np.float32)
        left = right = None
        if self.dual_pixel:
            d = (self.best - self.code) / GAIN_CODES_PER_PX
            left = ndimage.shift(img, (0, -d / 2), order=3, mode="nearest")[crop]
            right = ndimage.shift(img, (0, d / 2), order=3, mode="nearest")[crop]
            left = (left + self.rng.normal(0, self.dp_noise, left.shape)).astype(np.float32)
            right = (right + self.rng.normal(0, self.dp_noise, right.shape)).astype(np.float32)
        depth = None
        if self.depth_m is not None:
            depth = DepthZones(distance_m=np.array([[self.depth_m]]), valid=np.array([[True]]),
                               sigma_m=np.array([[0.01 * self.depth_m]]), rois_px=np.array([[[0, 0, SIZE, SIZE]]]))
        return Observation(frame_index=i, t_s=i / 30, exposure_s=0.01, lens_code=self.code,
                           reported_code=float(self.code), roi=(0, 0, SIZE, SIZE), image=image, left=left,
                           right=right, depth=depth, frame_shape_px=(SIZE, SIZE))


def run(policy, camera: FakeCamera, context: AFContext, *, max_frames: int = 40):
    """Closed loop on the fake: returns (frames used, final code, commands, done)."""
    policy.reset(context)
    commands = [camera.code]
    for i in range(max_frames):
        cmd: Command = policy.step(camera.observe(i))
        if cmd.target_code is not None:
            camera.code = int(np.clip(cmd.target_code, context.min_code, context.max_code))
            commands.append(camera.code)
        if cmd.done:
            return i + 1, camera.code, commands, True
    return max_frames, camera.code, commands, False


def reversals(codes) -> int:
    d = np.diff(np.asarray(codes, dtype=float))
    s = np.sign(d[d != 0])
    return int(np.count_nonzero(s[1:] != s[:-1]))
