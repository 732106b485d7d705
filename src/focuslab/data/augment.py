"""Label-preserving augmentations of raw AF crops: dual-pixel-aware flips and gain jitter.

The crops are raw Bayer mosaics (docs/dataset_format.md), so a flip must keep the CFA
phase: flipping an even-width ``RGGB`` crop left-right would give ``GRBG``. The flips here
mirror the array, then shift it by one pixel along the flipped axis so every pixel keeps its
colour; the one column (row) that the shift uncovers is filled with its nearest same-colour
neighbour (two pixels in).

Dual pixel. The left photodiode sees the left half of the pupil (pupil x < 0) and the right
one the right half; a subject nearer than the focus plane (c > 0) puts the left view at -x
and the right view at +x: disparity x_R - x_L = +4c/(3 pi) for an ideal split
(:mod:`focuslab.optics.dual_pixel`). Mirroring the scene left-right mirrors the pupil too:
the mirrored *right* view is what a *left* photodiode would have seen. So a horizontal flip
must **mirror and swap** the views - ``left' = mirror(right)``, ``right' = mirror(left)`` -
which keeps the disparity's sign and the defocus label unchanged. Mirroring without the
swap would flip the disparity's sign against the label (the bug this module avoids). The
swap also swaps the photodiodes' gains (a sensor whose left side is the darker one), which
is another plausible sensor. A vertical flip leaves the left/right split alone.

Gain jitter multiplies both views by one factor g ~ U(1 - j, 1 + j) (exposure and analogue
gain error); the defocus labels do not depend on it.
"""

from __future__ import annotations

import numpy as np

from focuslab.errors import InvalidParameterError


def flip_mosaic(x: np.ndarray, axis: int) -> np.ndarray:
    """Mirror ``x`` along ``axis`` keeping the Bayer phase of an even-sized mosaic (see module notes).

    ``out[j] = x[N - j]`` for j >= 1 (the mirror about the centre of pixel N/2, so pixel j
    keeps the colour of pixel j for even N) and ``out[0] = out[2]`` (no pixel N exists).
    """
    a = np.asarray(x)
    f = np.roll(np.flip(a, axis=axis), 1, axis=axis)
    idx0 = [slice(None)] * a.ndim
    idx2 = [slice(None)] * a.ndim
    idx0[axis], idx2[axis] = 0, 2
    f[tuple(idx0)] = f[tuple(idx2)]
    return f


def hflip_dp(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal flip of a dual-pixel pair ``(..., H, W)``: mirror **and swap** the views."""
    return flip_mosaic(right, -1), flip_mosaic(left, -1)


def vflip_dp(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertical flip of a dual-pixel pair ``(..., H, W)`` (no swap)."""
    return flip_mosaic(left, -2), flip_mosaic(right, -2)


def _draws(aug: dict, rng: np.random.Generator) -> tuple[bool, bool, float]:
    u = rng.random(3)  # always three draws: the stream does not depend on the probabilities
    j = float(aug.get("gain_jitter", 0.0))
    return bool(u[0] < aug.get("hflip", 0.0)), bool(u[1] < aug.get("vflip", 0.0)), 1.0 + j * (2.0 * u[2] - 1.0)


def augment_pair(left: np.ndarray, right: np.ndarray, aug: dict, rng: np.random.Generator):
    """Random flips (probabilities ``aug["hflip"]``, ``aug["vflip"]``) and gain jitter of a DP pair."""
    h, v, g = _draws(aug, rng)
    if h:
        left, right = hflip_dp(left, right)
    if v:
        left, right = vflip_dp(left, right)
    return np.asarray(left, np.float32) * np.float32(g), np.asarray(right, np.float32) * np.float32(g)


def augment_fusion(left: np.ndarray, right: np.ndarray, depth_m: np.ndarray, sigma_m: np.ndarray, aug: dict,
                   rng: np.random.Generator):
    """:func:`augment_pair` for fusion samples: the depth sensor's zone grids follow the flips.

    The zones are laid out symmetrically about the optical axis (``zones_y x zones_x``, +x
    right, +y down, boresighted with the camera) and the AF crop sits on the axis, so a
    horizontal (vertical) image flip reverses the zone columns (rows).
    """
    h, v, g = _draws(aug, rng)
    if h:
        left, right = hflip_dp(left, right)
        depth_m, sigma_m = depth_m[..., ::-1], sigma_m[..., ::-1]
    if v:
        left, right = vflip_dp(left, right)
        depth_m, sigma_m = depth_m[..., ::-1, :], sigma_m[..., ::-1, :]
    return (np.asarray(left, np.float32) * np.float32(g), np.asarray(right, np.float32) * np.float32(g),
            np.ascontiguousarray(depth_m), np.ascontiguousarray(sigma_m))


def augment_stack(frames: np.ndarray, aug: dict, rng: np.random.Generator) -> np.ndarray:
    """The same random flips and gain for every frame of ``(T, H, W)`` (non-DP frames: a plain mirror)."""
    h, v, g = _draws(aug, rng)
    if h:
        frames = flip_mosaic(frames, -1)
    if v:
        frames = flip_mosaic(frames, -2)
    return np.asarray(frames, np.float32) * np.float32(g)


def augment_batch_dp(left: np.ndarray, right: np.ndarray, aug: dict, rng: np.random.Generator):
    """:func:`augment_pair` with independent draws for each sample of ``(N, ..., H, W)`` batches.

    For training-time augmentation of dual-pixel sets (``dp``, ``fusion`` without its zones,
    ``video`` sequences: one draw per sequence). Returns float32 arrays; inputs are untouched.
    """
    left, right = np.asarray(left), np.asarray(right)
    if left.shape != right.shape or left.ndim < 3:
        raise InvalidParameterError(f"left and right must be (N, ..., H, W) batches of one shape, got "
                                    f"{left.shape} and {right.shape}")
    out_l = np.empty(left.shape, np.float32)
    out_r = np.empty(right.shape, np.float32)
    for i in range(left.shape[0]):
        out_l[i], out_r[i] = augment_pair(left[i], right[i], aug, rng)
    return out_l, out_r
