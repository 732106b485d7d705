"""Single-frame (dynamic) hot/stuck detection: simulated scene with planted defects, and the real raw."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import ndimage

from focuslab.errors import InvalidParameterError
from focuslab.hw.defect_result import DefectCode
from focuslab.hw.defect_single_frame import detect_single_frame
from focuslab.sensor import expose, get_sensor


def _plant_hot(frame: np.ndarray, *, seed: int, n: int, black: float, white: float, spacing_px: int = 8,
               amplitude: tuple[float, float] = (0.1, 0.6)):
    """Add ``amplitude`` (fractions of the range) to ``n`` pixels at least 3 px apart (isolated hot pixels)."""
    rng = np.random.default_rng(seed)
    h, w = frame.shape
    cells = rng.choice((h // spacing_px) * (w // spacing_px), size=n, replace=False)
    ys = cells // (w // spacing_px) * spacing_px + rng.integers(0, spacing_px - 2, n)
    xs = cells % (w // spacing_px) * spacing_px + rng.integers(0, spacing_px - 2, n)
    out = frame.astype(np.float64).copy()
    out[ys, xs] = np.minimum(out[ys, xs] + rng.uniform(*amplitude, n) * (white - black), white)
    return out, ys, xs


@pytest.mark.parametrize("name", ["imx258", "imx174_mono"])
def test_simulated_scene_recall_and_false_alarms(name):
    spec = dataclasses.replace(get_sensor(name), width_px=512, height_px=384)
    h, w = spec.shape_px
    rng = np.random.default_rng(1)
    tex = ndimage.gaussian_filter(rng.standard_normal((h, w)), 3.0)
    rel = np.clip(0.4 + 0.4 * np.mgrid[0:h, 0:w][1] / w + 0.03 * tex / tex.std(), 0.02, 1.0)
    qe = spec.quantum_efficiency * (1.0 if spec.is_mono else max(spec.channel_response))
    ph = np.repeat((0.7 * spec.saturation_e / qe * rel)[..., None], 1 if spec.is_mono else 3, axis=2)
    clean = expose(spec, ph, exposure_s=0.01, seed=2).data
    untouched = detect_single_frame(clean, cfa=spec.cfa)
    assert untouched.counts()["total"] / clean.size <= 1e-4  # measured: 0 pixels
    frame, ys, xs = _plant_hot(clean, seed=3, n=300, black=spec.black_level_dn, white=spec.white_level_dn,
                               amplitude=(0.2, 0.6))
    frame[5, 7] = 0.0  # a stuck-low pixel
    res = detect_single_frame(frame, cfa=spec.cfa)
    assert np.mean(res.types[ys, xs] == DefectCode.HOT) >= 0.99  # measured: 1.0
    assert res.types[5, 7] == DefectCode.DEAD
    assert np.count_nonzero(res.mask) - 301 <= 1e-4 * frame.size


@pytest.fixture(scope="module")
def blackmagic(shared_data):
    from focuslab.isp.dng import read_dng

    path = shared_data / "raw" / "Blackmagic.dng"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return read_dng(path)


def _crop(raw):
    """The lower left 2048 x 976 window: trees, bare bushes, cars and grass (the busiest part)."""
    return raw.data[1200:2176, 0:2048]  # even offsets: still RGGB


@pytest.mark.shared_data
def test_real_raw_busiest_window(blackmagic):
    """The hardest part of the frame: hot pixels hide in texture as bright as they are."""
    raw = blackmagic
    assert raw.cfa == "RGGB"
    crop = _crop(raw)
    untouched = detect_single_frame(crop, cfa=raw.cfa)
    # measured on this window: 1.6e-4 of the pixels, in the sunlit grass and the tree edges
    assert untouched.counts()["total"] / crop.size < 3e-4
    frame, ys, xs = _plant_hot(crop, seed=7, n=400, black=raw.black_level_dn, white=raw.white_level_dn)
    res = detect_single_frame(frame, cfa=raw.cfa)
    assert np.mean(res.mask[ys, xs]) >= 0.97  # measured 0.9825: misses sit in grass as bright as them
    assert np.count_nonzero(res.mask & ~untouched.mask) - np.count_nonzero(res.mask[ys, xs]) <= 1e-4 * crop.size


@pytest.mark.shared_data
@pytest.mark.slow
def test_real_raw_full_frame(blackmagic):
    """The whole 4128 x 2176 frame: the count reported in docs/hw_defects.md, and planted hot pixels."""
    raw = blackmagic
    untouched = detect_single_frame(raw.data, cfa=raw.cfa)
    fraction = untouched.counts()["total"] / raw.data.size
    assert 1e-6 < fraction < 1.5e-4  # measured: see docs/hw_defects.md (a broken detector gives 0 or far more)
    frame, ys, xs = _plant_hot(raw.data, seed=7, n=1000, black=raw.black_level_dn, white=raw.white_level_dn)
    res = detect_single_frame(frame, cfa=raw.cfa)
    assert np.mean(res.mask[ys, xs]) >= 0.99
    assert np.count_nonzero(res.mask & ~untouched.mask) - np.count_nonzero(res.mask[ys, xs]) <= 1e-5 * frame.size


def test_bad_inputs():
    with pytest.raises(InvalidParameterError, match="2-D"):
        detect_single_frame(np.zeros((16, 16, 3)), cfa="mono")
    with pytest.raises(InvalidParameterError, match="k_sigma"):
        detect_single_frame(np.zeros((16, 16)), cfa="mono", k_sigma=-1)
    with pytest.raises(InvalidParameterError, match="unknown cfa"):
        detect_single_frame(np.zeros((16, 16)), cfa="XYZW")
