"""Augmentations: Bayer phase kept by flips, the dual-pixel horizontal flip mirrors AND swaps the views."""

from __future__ import annotations

import numpy as np
import pytest

from focuslab.data.augment import augment_pair, augment_stack, flip_mosaic, hflip_dp, vflip_dp
from focuslab.data.generate import generate_shard
from focuslab.data.generate_config import normalize_config


def _colour_index(h: int, w: int) -> np.ndarray:
    """RGGB colour of every pixel: 0 R, 1 G(red row), 2 G(blue row), 3 B."""
    y, x = np.mgrid[0:h, 0:w]
    return (2 * (y % 2) + (x % 2)).astype(float)


def test_flips_keep_the_bayer_phase_and_mirror():
    cfa = _colour_index(8, 10)
    assert np.array_equal(flip_mosaic(cfa, -1), cfa)
    assert np.array_equal(flip_mosaic(cfa, -2), cfa)
    ramp = np.tile(np.arange(10.0), (8, 1))
    out = flip_mosaic(ramp, -1)
    assert np.array_equal(out[:, 1:], np.tile(10.0 - np.arange(1, 10), (8, 1)))  # out[j] = x[N - j]
    assert np.array_equal(out[:, 0], out[:, 2])  # the uncovered column: nearest same-colour pixel
    assert np.array_equal(flip_mosaic(flip_mosaic(ramp, -1), -1)[:, 2:], ramp[:, 2:])
    assert ramp[0, 0] == 0.0  # input untouched


def _disparity_px(left, right, max_shift=8):
    def bin2(x):
        x = np.asarray(x, np.float64)
        return x[0::2, 0::2] + x[1::2, 0::2] + x[0::2, 1::2] + x[1::2, 1::2]

    lft, rgt = bin2(left), bin2(right)
    m = max_shift // 2
    shifts = np.arange(-m, m + 1)
    ssd = np.array([np.mean((lft[:, m:-m] - rgt[:, m + s:lft.shape[1] - m + s]) ** 2) for s in shifts])
    i = int(np.clip(np.argmin(ssd), 1, len(shifts) - 2))
    den = ssd[i - 1] - 2 * ssd[i] + ssd[i + 1]
    return 2.0 * (shifts[i] + (0.5 * (ssd[i - 1] - ssd[i + 1]) / den if den > 0 else 0.0))


@pytest.fixture(scope="module")
def defocused_pairs():
    """Simulated ideal-DP crops, bright light, 3-12 DoF of defocus (a clear disparity)."""
    cfg = normalize_config({"num_samples": 12, "samples_per_shard": 12, "crop_px": 48,
                            "lens": {"aberration_probability": 0.0}, "light_lux": [800.0, 2000.0],
                            "variants": {"ideal": {"family": "ideal"}}, "textures": [{"source": "dead_leaves"}],
                            "contrast": [1.0, 1.0], "lens_position": {"near_fraction": 0.0},
                            "augment": {"hflip": 0.0, "vflip": 0.0, "gain_jitter": 0.0}})
    s = generate_shard(cfg, 7, 0)
    keep = (np.abs(s["defocus_dof"]) >= 3.0) & (np.abs(s["defocus_dof"]) <= 12.0)
    assert keep.sum() >= 3
    return s["left"][keep].astype(np.float32), s["right"][keep].astype(np.float32), s["defocus_dof"][keep]


def test_horizontal_flip_swaps_and_keeps_the_disparity_sign(defocused_pairs):
    lefts, rights, dofs = defocused_pairs
    for left, right, dof in zip(lefts, rights, dofs, strict=True):
        d0 = _disparity_px(left, right)
        assert np.sign(d0) == np.sign(dof)
        fl, fr = hflip_dp(left, right)
        d1 = _disparity_px(fl, fr)
        assert np.sign(d1) == np.sign(dof) and d1 == pytest.approx(d0, abs=0.35)
        # the bug a flip must avoid: mirroring without the swap reverses the disparity
        d_bad = _disparity_px(flip_mosaic(left, -1), flip_mosaic(right, -1))
        assert d_bad == pytest.approx(-d0, abs=0.35)
        vl, vr = vflip_dp(left, right)
        assert _disparity_px(vl, vr) == pytest.approx(d0, abs=0.35)


def test_gain_jitter_and_the_random_stream():
    rng = np.random.default_rng(0)
    left, right = rng.random((2, 16, 16)).astype(np.float32)
    a, b = augment_pair(left, right, {"hflip": 0.0, "vflip": 0.0, "gain_jitter": 0.2}, np.random.default_rng(1))
    g = float(np.mean(a / left))
    assert 0.8 <= g <= 1.2 and np.allclose(a / left, g, rtol=1e-5) and np.allclose(b / right, g, rtol=1e-5)
    r1, r2 = np.random.default_rng(3), np.random.default_rng(3)
    augment_pair(left, right, {"hflip": 1.0, "vflip": 0.0, "gain_jitter": 0.0}, r1)
    augment_pair(left, right, {"hflip": 0.0, "vflip": 1.0, "gain_jitter": 0.5}, r2)
    assert r1.random() == r2.random()  # the draws do not depend on the probabilities
    frames = rng.random((2, 8, 8)).astype(np.float32)
    out = augment_stack(frames, {"hflip": 1.0, "vflip": 0.0, "gain_jitter": 0.0}, np.random.default_rng(0))
    assert np.array_equal(out, flip_mosaic(frames, -1))


def test_batch_augmentation_draws_per_sample():
    from focuslab.data.augment import augment_batch_dp
    from focuslab.errors import InvalidParameterError

    rng = np.random.default_rng(5)
    left, right = rng.random((2, 64, 8, 8)).astype(np.float32)
    aug = {"hflip": 0.5, "vflip": 0.0, "gain_jitter": 0.0}
    bl, br = augment_batch_dp(left, right, aug, np.random.default_rng(2))
    swapped = [np.array_equal(bl[i], flip_mosaic(right[i], -1)) and np.array_equal(br[i], flip_mosaic(left[i], -1))
               for i in range(64)]
    kept = [np.array_equal(bl[i], left[i]) and np.array_equal(br[i], right[i]) for i in range(64)]
    assert all(a != b for a, b in zip(swapped, kept, strict=True))  # each sample either flipped+swapped or kept
    assert 16 <= sum(swapped) <= 48  # independent draws, p = 0.5
    with pytest.raises(InvalidParameterError, match="one shape"):
        augment_batch_dp(left, right[:3], aug, rng)


def test_fusion_flips_move_the_depth_zones_with_the_image():
    from focuslab.data.augment import augment_fusion

    rng = np.random.default_rng(0)
    left, right = rng.random((2, 8, 8)).astype(np.float32)
    depth = np.arange(12, dtype=np.float32).reshape(3, 4)  # zone (row y, column x)
    depth[0, 0] = np.nan
    sigma = depth / 100
    hl, hr, hd, hs = augment_fusion(left, right, depth, sigma, {"hflip": 1.0, "vflip": 0.0}, rng)
    assert np.array_equal(hl, flip_mosaic(right, -1)) and np.array_equal(hr, flip_mosaic(left, -1))
    assert np.array_equal(hd, depth[:, ::-1], equal_nan=True) and np.isnan(hd[0, -1])
    assert np.array_equal(hs, sigma[:, ::-1], equal_nan=True)
    vl, _, vd, _ = augment_fusion(left, right, depth, sigma, {"hflip": 0.0, "vflip": 1.0}, rng)
    assert np.array_equal(vl, flip_mosaic(left, -2)) and np.isnan(vd[-1, 0]) and vd[0, 0] == 8.0
