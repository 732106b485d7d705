"""Dual-pixel calibration: kernel measurements, fit round trip, and the Pixel 4 data (Xin et al. 2021)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from focuslab.errors import InputFileError, InvalidParameterError
from focuslab.optics import (
    PIXEL4_DP_RESPONSE,
    DualPixelResponse,
    GeometricPsf,
    VignettingMaps,
    blur_diameter_px,
    calibrate_pixel4,
    disparity_per_coc,
    dp_combined_kernel,
    dp_disparity_px,
    fit_dual_pixel_response,
    kernel_centroid_px,
    kernel_energy,
    load_pixel4_dp_kernels,
    load_pixel4_vignetting,
    patch_grid_field_xy,
    vignetting_lr_ratio,
)
from focuslab.optics.dual_pixel import geometric_pair
from focuslab.optics.psf_geometric import aperture_kernel

TRUE_RESPONSE = DualPixelResponse(
    split_softness=0.4, crosstalk=0.08, left_gain=1.0, right_gain=0.85, split_shift_per_field=0.25
)


def _synthetic_grid(response: DualPixelResponse, sign: float = 1.0, size: int = 41):
    """Per-view-normalised kernels of a 3 x 4 grid, padded to `size` and moved off centre, as measured."""
    psf = GeometricPsf(dp_response=response)
    fxy = patch_grid_field_xy((3, 4), patch_px=300, image_shape_px=(1512, 2016))
    cocs = sign * (18.0 + 2.0 * np.arange(len(fxy)) / 3.0)
    left, right, ratio = [], [], []
    for i, (c, f) in enumerate(zip(cocs, fxy, strict=True)):
        lk, rk = psf.kernel_pair(float(c), field_xy=tuple(f))
        ratio.append(lk.sum() / rk.sum())
        pad = (size - lk.shape[0]) // 2
        move = (i % 3 - 1, i % 2)  # registration offset of a measured kernel
        left.append(np.roll(np.pad(lk / lk.sum(), pad), move, axis=(0, 1)))
        right.append(np.roll(np.pad(rk / rk.sum(), pad), move, axis=(0, 1)))
    return np.array(left), np.array(right), fxy, cocs, np.array(ratio)


# ---------------------------------------------------------------- measurements on kernels


def test_pixel4_grid_field_positions():
    fxy = patch_grid_field_xy((6, 8), patch_px=168, image_shape_px=(1512, 2016))
    assert fxy.shape == (48, 2)
    np.testing.assert_allclose(fxy[0], [-588.0 / 1260.0, -420.0 / 1260.0])  # top-left patch centre
    np.testing.assert_allclose(fxy[-1], [588.0 / 1260.0, 420.0 / 1260.0])
    np.testing.assert_allclose(fxy[7], [588.0 / 1260.0, -420.0 / 1260.0])  # row-major: end of first row
    np.testing.assert_allclose(fxy.mean(axis=0), 0.0, atol=1e-15)
    whole = patch_grid_field_xy((2, 2), patch_px=1, image_shape_px=(2, 2))  # each patch one pixel
    np.testing.assert_allclose(np.hypot(*whole.T), 0.5 * math.sqrt(2) / math.sqrt(2))  # centre offset / half-diagonal


@pytest.mark.parametrize(("c", "rel"), [(8.0, 3e-3), (15.5, 5e-4), (25.0, 5e-4), (40.0, 5e-4)])
def test_blur_diameter_of_pillbox_is_its_diameter(c, rel):
    assert float(blur_diameter_px(aperture_kernel(c))) == pytest.approx(c, rel=rel)


@pytest.mark.parametrize("c", [25.0, -25.0, 60.0])
def test_disparity_and_centroids_of_the_ideal_split(c):
    left, right = geometric_pair(c)
    assert float(dp_disparity_px(left, right)) == pytest.approx(4 * c / (3 * math.pi), rel=0.01)
    assert float(disparity_per_coc(left, right)) == pytest.approx(4 / (3 * math.pi), rel=0.01)
    lx, ly = kernel_centroid_px(left)
    assert float(ly) == pytest.approx(0.0, abs=1e-12)
    assert (float(lx) < 0) == (c > 0)  # focuslab: left PSF at -x for c > 0
    assert float(kernel_energy(left) + kernel_energy(right)) == pytest.approx(1.0)
    # L + R: the pillbox, resampled along x by a one-sample tent (geometric_pair keeps the
    # sub-sample centroids): rows as the area-sampled kernel's, x variance c^2/16 + 1/6
    both, whole = dp_combined_kernel(left, right), aperture_kernel(c)
    np.testing.assert_allclose(both.sum(axis=1)[1:-1], whole.sum(axis=1), atol=1e-12)
    x = np.arange(both.shape[1]) - both.shape[1] // 2
    assert float((both.sum(axis=0) * x**2).sum()) == pytest.approx(c * c / 16 + 1 / 6, rel=2e-3)


def test_centroid_of_a_shifted_kernel_and_batches():
    k = np.pad(aperture_kernel(9.0), 6)
    moved = np.roll(k, (2, -3), axis=(0, 1))
    x, y = kernel_centroid_px(np.stack([k, moved]))
    np.testing.assert_allclose(x, [0.0, -3.0], atol=1e-12)
    np.testing.assert_allclose(y, [0.0, 2.0], atol=1e-12)
    np.testing.assert_allclose(kernel_energy(np.stack([k, 2 * k])), [1.0, 2.0])


def test_vignetting_ratio_reads_the_window_at_each_field_position():
    ramp = np.tile(np.linspace(1.0, 2.0, 200), (150, 1))
    maps = VignettingMaps(left=ramp * 3.0, right=ramp)
    np.testing.assert_allclose(vignetting_lr_ratio(maps, [(0.0, 0.0), (0.5, -0.3)], window_px=11), 3.0)
    brighter_right = VignettingMaps(left=np.ones((150, 200)), right=ramp)
    r = vignetting_lr_ratio(brighter_right, [(-0.6, 0.0), (0.0, 0.0), (0.6, 0.0)], window_px=21)
    assert r[0] > r[1] > r[2]
    with pytest.raises(InvalidParameterError, match="no lit"):
        vignetting_lr_ratio(maps, [(3.0, 0.0)], window_px=11)


# ---------------------------------------------------------------- fit: synthetic round trip


def test_fit_recovers_a_known_response():
    left, right, fxy, cocs, ratio = _synthetic_grid(TRUE_RESPONSE)
    cal = fit_dual_pixel_response(left, right, fxy, lr_energy_ratio=ratio)
    r = cal.response
    assert cal.success
    assert r.split_softness == pytest.approx(0.4, abs=1e-5)
    assert r.crosstalk == pytest.approx(0.08, abs=1e-5)
    assert r.split_shift_per_field == pytest.approx(0.25, abs=1e-5)
    assert r.left_gain == 1.0 and r.right_gain == pytest.approx(0.85, abs=1e-6)
    np.testing.assert_allclose(cal.coc_px, cocs, atol=1e-4)
    np.testing.assert_allclose(cal.model_disparity_px, cal.measured_disparity_px, atol=1e-5)
    np.testing.assert_allclose(cal.model_lr_ratio, ratio, rtol=1e-6)
    assert cal.profile_rms < 1e-7


def test_fit_of_back_focused_kernels_without_ratio():
    response = DualPixelResponse(split_softness=0.2, crosstalk=0.03, split_shift_per_field=-0.3)
    left, right, fxy, cocs, _ = _synthetic_grid(response, sign=-1.0)
    cal = fit_dual_pixel_response(left, right, fxy)
    assert np.all(cal.measured_disparity_px < 0)
    np.testing.assert_allclose(cal.coc_px, cocs, atol=1e-4)  # c < 0 found from the disparity sign
    assert cal.response.split_softness == pytest.approx(0.2, abs=1e-4)
    assert cal.response.crosstalk == pytest.approx(0.03, abs=1e-4)
    assert cal.response.split_shift_per_field == pytest.approx(-0.3, abs=1e-4)
    assert cal.response.left_gain == cal.response.right_gain == 1.0
    assert cal.measured_lr_ratio is None and cal.model_lr_ratio is None


def test_fit_is_deterministic():
    left, right, fxy, _, ratio = _synthetic_grid(TRUE_RESPONSE)
    a = fit_dual_pixel_response(left, right, fxy, lr_energy_ratio=ratio * 1.01, max_nfev=5)
    b = fit_dual_pixel_response(left, right, fxy, lr_energy_ratio=ratio * 1.01, max_nfev=5)
    assert a.response == b.response
    np.testing.assert_array_equal(a.coc_px, b.coc_px)


def test_fit_rejects_bad_input():
    left, right, fxy, _, ratio = _synthetic_grid(TRUE_RESPONSE)
    with pytest.raises(InvalidParameterError, match="expected left/right"):
        fit_dual_pixel_response(left, right[:-1], fxy)
    with pytest.raises(InvalidParameterError, match="odd k"):
        fit_dual_pixel_response(left[:, 1:, 1:], right[:, 1:, 1:], fxy)
    with pytest.raises(InvalidParameterError, match="lr_energy_ratio"):
        fit_dual_pixel_response(left, right, fxy, lr_energy_ratio=-ratio)
    bad = left.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(InvalidParameterError, match="finite"):
        fit_dual_pixel_response(bad, right, fxy)
    with pytest.raises(InvalidParameterError, match="no disparity"):
        fit_dual_pixel_response(left, left, fxy)


# ---------------------------------------------------------------- loaders: user errors


def test_loaders_report_missing_and_corrupt_files(tmp_path):
    with pytest.raises(InputFileError, match=r"blur_kernels_left\.npy is missing"):
        load_pixel4_dp_kernels(tmp_path)
    with pytest.raises(InputFileError, match=r"white_sheet_left\.png is missing"):
        load_pixel4_vignetting(tmp_path)
    (tmp_path / "blur_kernels_left.npy").write_bytes(b"not an array")
    with pytest.raises(InputFileError, match=r"not a readable \.npy"):
        load_pixel4_dp_kernels(tmp_path)
    np.save(tmp_path / "blur_kernels_left.npy", np.ones((5, 61, 61), np.float32))
    with pytest.raises(InputFileError, match="48 finite non-negative square kernels"):
        load_pixel4_dp_kernels(tmp_path)
    (tmp_path / "white_sheet_left.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(InputFileError, match="not a readable image"):
        load_pixel4_vignetting(tmp_path)


# ---------------------------------------------------------------- the real Pixel 4 data


@pytest.fixture(scope="module")
def pixel4_folder(shared_data):
    return shared_data / "dual_pixel" / "pixel4" / "calibration"


@pytest.fixture(scope="module")
def pixel4_fit(pixel4_folder):
    return calibrate_pixel4(pixel4_folder)


@pytest.mark.shared_data
def test_loaders_read_the_real_grids(pixel4_folder):
    grid = load_pixel4_dp_kernels(pixel4_folder)
    assert grid.left.shape == grid.right.shape == (48, 61, 61)
    assert grid.left.dtype == np.float64 and grid.grid_shape == (6, 8)
    assert grid.field_xy.shape == (48, 2)
    np.testing.assert_allclose(kernel_energy(grid.left), 1.0, atol=1e-5)  # normalised per view as measured
    np.testing.assert_allclose(kernel_energy(grid.right), 1.0, atol=1e-5)
    maps = load_pixel4_vignetting(pixel4_folder)
    assert maps.left.shape == maps.right.shape == (1512, 2016)
    assert maps.left.min() > 0 and maps.right.min() > 0


@pytest.mark.shared_data
def test_real_kernels_are_front_focused_with_about_half_the_ideal_disparity(pixel4_folder):
    grid = load_pixel4_dp_kernels(pixel4_folder)
    d = dp_disparity_px(grid.left, grid.right)
    assert np.all(d > 4.5) and np.all(d < 6.0)  # x_R - x_L > 0: left at -x, focuslab's c > 0
    ratio = disparity_per_coc(grid.left, grid.right)
    assert np.all((ratio > 0.18) & (ratio < 0.25))  # ideal split: 0.424


@pytest.mark.shared_data
def test_model_disparity_per_blur_matches_the_real_kernels(pixel4_folder):
    """PIXEL4_DP_RESPONSE at each kernel's measured blur diameter: mean within 5 %, each within 15 %."""
    grid = load_pixel4_dp_kernels(pixel4_folder)
    measured = disparity_per_coc(grid.left, grid.right)
    psf = GeometricPsf(dp_response=PIXEL4_DP_RESPONSE)
    coc = blur_diameter_px(dp_combined_kernel(grid.left, grid.right))
    model = np.array(
        [
            float(disparity_per_coc(*psf.kernel_pair(float(c), field_xy=tuple(f))))
            for c, f in zip(coc, grid.field_xy, strict=True)
        ]
    )
    assert model.mean() == pytest.approx(measured.mean(), rel=0.05)
    np.testing.assert_allclose(model, measured, rtol=0.15)


@pytest.mark.shared_data
def test_model_lr_ratio_trend_follows_the_white_sheet(pixel4_folder, pixel4_fit):
    grid = load_pixel4_dp_kernels(pixel4_folder)
    measured = vignetting_lr_ratio(load_pixel4_vignetting(pixel4_folder), grid.field_xy)
    assert np.all(measured > 1.0)  # the left view is the brighter one
    fx = grid.field_xy[:, 0]
    slope_measured = np.polyfit(fx, np.log(measured), 1)[0]
    psf = GeometricPsf(dp_response=PIXEL4_DP_RESPONSE)
    model = np.array([np.divide(*(k.sum() for k in psf.kernel_pair(24.0, field_xy=tuple(f)))) for f in grid.field_xy])
    slope_model = np.polyfit(fx, np.log(model), 1)[0]
    assert slope_measured > 0 and slope_model > 0  # same sign: L / R rises towards +x
    assert slope_model == pytest.approx(slope_measured, rel=0.25)
    np.testing.assert_allclose(pixel4_fit.model_lr_ratio, measured, rtol=0.1)


@pytest.mark.shared_data
def test_stored_pixel4_response_equals_a_fresh_fit(pixel4_fit):
    fresh, stored = pixel4_fit.response, PIXEL4_DP_RESPONSE
    assert pixel4_fit.success
    for name in ("split_softness", "crosstalk", "left_gain", "right_gain", "split_shift_per_field"):
        assert getattr(fresh, name) == pytest.approx(getattr(stored, name), abs=0.005), name
