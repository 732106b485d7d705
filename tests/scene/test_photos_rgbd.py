"""Real photographs: sRGB decoding, bundled photos, RGB-D depth decodings, Middlebury depth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from focuslab.errors import InputFileError, InvalidParameterError, UnknownNameError
from focuslab.scene.photos import linear_to_srgb, photo, photo_names, photo_path, srgb_to_linear
from focuslab.scene.rgbd import (
    MIDDLEBURY_MOTORCYCLE,
    disparity_to_depth_m,
    fill_invalid_depth,
    load_rgbd,
    middlebury_motorcycle,
    nyu_raw_to_depth_m,
    rgbd_datasets,
    shared_data_dir,
    sun_raw_to_depth_m,
)


# ---------------------------------------------------------------- sRGB
def test_srgb_known_values():
    # IEC 61966-2-1: code 128/255 -> 0.21586; 0.5 -> 0.21404; the linear toe below 0.04045
    assert float(srgb_to_linear(128 / 255)) == pytest.approx(0.2158605, abs=1e-7)
    assert float(srgb_to_linear(0.5)) == pytest.approx(0.2140411, abs=1e-7)
    assert float(srgb_to_linear(0.04)) == pytest.approx(0.04 / 12.92, rel=1e-12)
    assert float(srgb_to_linear(1.0)) == pytest.approx(1.0, abs=1e-12)
    assert float(srgb_to_linear(0.0)) == 0.0
    v = np.linspace(0, 1, 1001)
    assert np.allclose(linear_to_srgb(srgb_to_linear(v)), v, atol=1e-12)
    assert np.all(np.diff(srgb_to_linear(v)) > 0)
    # continuity of the two branches at the threshold
    assert float(srgb_to_linear(0.04045 + 1e-9)) == pytest.approx(0.04045 / 12.92, rel=1e-6)
    assert srgb_to_linear(np.float32(0.5)[None]).dtype == np.float32


def test_photo_is_linear_decode_of_the_bundled_file():
    raw = np.asarray(Image.open(photo_path("astronaut")).convert("RGB"))
    lin = photo("astronaut")
    assert lin.dtype == np.float32 and lin.shape == raw.shape
    for i, j in [(0, 0), (100, 200), (300, 411)]:
        expect = ((raw[i, j] / 255 + 0.055) / 1.055) ** 2.4
        expect = np.where(raw[i, j] / 255 <= 0.04045, raw[i, j] / 255 / 12.92, expect)
        assert np.allclose(lin[i, j], expect, rtol=1e-5, atol=1e-7)
    grey = photo("camera")
    assert grey.shape == (512, 512, 3) and np.array_equal(grey[..., 0], grey[..., 2])


def test_photo_resampled_shape_and_mean_preserved():
    full = photo("chelsea")  # 300 x 451
    small = photo("chelsea", (60, 90))
    assert small.shape == (60, 90, 3) and small.dtype == np.float32
    # area-preserving (anti-aliased) resampling of linear light keeps the mean
    assert np.allclose(small.mean(axis=(0, 1)), full[:, 0:450].mean(axis=(0, 1)), rtol=0.02)
    y = photo("coffee", (40, 40), grey=True)
    assert y.shape == (40, 40)


def test_photo_names_and_errors():
    names = photo_names()
    assert {"astronaut", "camera", "chelsea", "coffee", "rocket"} <= set(names)
    for n in names:
        assert photo_path(n).is_file()
    with pytest.raises(UnknownNameError, match="astronaut"):
        photo("lena")
    with pytest.raises(InvalidParameterError):
        photo("camera", (0, 5))


# ---------------------------------------------------------------- depth decodings
def test_depth_decoders_closed_forms():
    z, ok = nyu_raw_to_depth_m(np.array([980, 2047, 1100, 0]))
    assert z[0] == pytest.approx(351.3 / (1092.5 - 980), rel=1e-6)
    assert z[3] == pytest.approx(351.3 / 1092.5, rel=1e-6)
    assert ok.tolist() == [True, False, False, True]  # 2047: no return; 1100: behind the camera
    # SUN: stored = mm rotated left by 3 bits; 2723 mm -> (2723 << 3) | (2723 >> 13)
    stored = np.array([(2723 << 3) & 0xFFFF | (2723 >> 13), 0], dtype=np.uint16)
    z, ok = sun_raw_to_depth_m(stored)
    assert z[0] == pytest.approx(2.723) and ok.tolist() == [True, False]
    z, ok = disparity_to_depth_m(np.array([100.0, np.inf, np.nan]), focal_length_px=1000.0,
                                 baseline_mm=200.0, doffs_px=25.0)
    assert z[0] == pytest.approx(1000 * 200 / 125 / 1000) and ok.tolist() == [True, False, False]


def test_fill_invalid_depth_nearest_neighbour():
    d = np.array([[1.0, 0.0, 0.0, 4.0]], dtype=np.float32)
    ok = d > 0
    assert fill_invalid_depth(d, ok).tolist() == [[1.0, 1.0, 4.0, 4.0]]
    assert fill_invalid_depth(d, ok) is not d and d[0, 1] == 0.0  # input untouched
    with pytest.raises(InputFileError):
        fill_invalid_depth(d, np.zeros_like(ok))


def test_middlebury_depth_equals_fB_over_d_plus_doffs():
    import skimage.data

    _, _, disp = skimage.data.stereo_motorcycle()
    img = middlebury_motorcycle()
    f, b, doffs = (MIDDLEBURY_MOTORCYCLE[k] for k in ("focal_length_px", "baseline_mm", "doffs_px"))
    assert img.rgb.shape == (500, 741, 3) and img.depth_m.shape == (500, 741)
    for i, j in [(250, 370), (100, 100), (400, 600), (200, 500)]:
        assert np.isfinite(disp[i, j])
        assert img.depth_m[i, j] == pytest.approx(f * b / (disp[i, j] + doffs) / 1000.0, rel=1e-6)
    assert np.array_equal(img.valid, np.isfinite(disp))
    # a filled pixel takes the depth of a valid pixel at the smallest distance
    ii, jj = np.nonzero(~img.valid)
    vi, vj = np.nonzero(img.valid)
    for k in (0, len(ii) // 2, len(ii) - 1):
        dist2 = (vi - ii[k]) ** 2 + (vj - jj[k]) ** 2
        nearest = img.depth_m[vi[dist2 == dist2.min()], vj[dist2 == dist2.min()]]
        assert img.depth_m[ii[k], jj[k]] in nearest
    assert img.hfov_deg == pytest.approx(np.degrees(2 * np.arctan(741 / 2 / f)))
    med = float(np.median(img.depth_m[img.valid]))
    assert med == pytest.approx(2.750, abs=0.01)  # measured 2.750 m; range 2.11-5.02 m
    assert 2.0 < img.depth_m.min() and img.depth_m.max() < 5.1


# measured medians of the valid depths (m): a wrong decoding is off by far more than 1 %
RGBD_MEDIANS_M = {"redwood": 1.861, "tum": 2.415, "sun": 2.723, "nyu": 3.268}


@pytest.mark.shared_data
@pytest.mark.parametrize("dataset", sorted(RGBD_MEDIANS_M))
def test_rgbd_datasets_decode_to_plausible_metric_depth(shared_data, dataset):
    img = load_rgbd(dataset, data_dir=shared_data)
    assert img.rgb.shape == (480, 640, 3) and img.rgb.dtype == np.float32
    assert 0.0 <= img.rgb.min() and img.rgb.max() <= 1.0
    assert img.depth_m.dtype == np.float32 and img.valid.mean() > 0.75
    valid = img.depth_m[img.valid]
    assert valid.min() >= 0.3 and valid.max() <= 10.0  # indoor scenes
    assert float(np.median(valid)) == pytest.approx(RGBD_MEDIANS_M[dataset], rel=0.01)
    assert np.all(img.depth_m > 0)  # filled
    assert 55 < img.hfov_deg < 70


@pytest.mark.shared_data
def test_rgbd_redwood_frames_and_errors(shared_data, monkeypatch, tmp_path):
    frames = [load_rgbd("redwood", index=k, data_dir=shared_data) for k in (0, 4)]
    assert not np.array_equal(frames[0].depth_m, frames[1].depth_m)
    with pytest.raises(InvalidParameterError):
        load_rgbd("redwood", index=5, data_dir=shared_data)
    with pytest.raises(InvalidParameterError):
        load_rgbd("tum", index=1, data_dir=shared_data)
    assert rgbd_datasets() == ["nyu", "redwood", "sun", "tum"]


def test_rgbd_unknown_dataset_and_missing_folder(monkeypatch, tmp_path):
    with pytest.raises(UnknownNameError, match="redwood"):
        load_rgbd("kitti")
    monkeypatch.setenv("FOCUSLAB_SHARED_DATA", str(tmp_path / "nowhere"))
    assert shared_data_dir() == Path(tmp_path / "nowhere")
    with pytest.raises(InputFileError, match="FOCUSLAB_SHARED_DATA") as info:
        load_rgbd("tum")
    assert str(tmp_path / "nowhere") in str(info.value) and "\n" not in str(info.value)
