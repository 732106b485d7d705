"""Focus measures on synthetic truth: blur monotonicity, closed forms, interface contracts."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import fft, ndimage

from focuslab.errors import InvalidParameterError, UnknownNameError
from focuslab.metrics import focus as focus_module
from focuslab.metrics import wavelet_dwt as wd
from focuslab.metrics.focus import (
    describe_focus_measure,
    focus_curve,
    focus_measure,
    focus_measure_families,
    focus_measure_names,
    focus_measure_spec,
)
from focuslab.metrics.focus_gradient import gaussian_gradient
from focuslab.metrics.focus_laplacian import laplacian
from focuslab.metrics.focus_registry import register_focus_measure
from focuslab.metrics.wavelet_dwt import daubechies_lowpass, highpass_from_lowpass, wavelet_subbands

PERTUZ_28 = (
    "ACMO BREN CONT CURV DCTE DCTR GDER GLVA GLLV GLVN GRAE GRAT GRAS HELM HISE HISR "
    "LAPE LAPM LAPV LAPD SFIL SFRQ TENG TENV VOLA WAVS WAVV WAVR"
).split()
SIGMAS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)


def _textures(seed: int) -> dict[str, np.ndarray]:
    r = np.random.default_rng(seed)
    smooth = 0.2 + 0.6 * ndimage.gaussian_filter(r.random((80, 80)), 1.0)
    two_level = np.where(ndimage.gaussian_filter(r.standard_normal((80, 80)), 2.0) > 0, 0.8, 0.2)
    yy, xx = np.mgrid[0:80, 0:80]
    leaves = np.full((80, 80), 0.5)
    for _ in range(50):
        cx, cy, rad = r.uniform(0, 80), r.uniform(0, 80), r.uniform(2, 12)
        leaves[(xx - cx) ** 2 + (yy - cy) ** 2 < rad * rad] = r.uniform(0.05, 0.95)
    return {"smooth_noise": smooth, "two_level": two_level, "dead_leaves": leaves, "white_noise": r.random((80, 80))}


def _blur_stack(texture: np.ndarray, sigmas=SIGMAS) -> np.ndarray:
    return np.stack([ndimage.gaussian_filter(texture, s, mode="reflect") if s else texture for s in sigmas])


# Operators that are legitimately not monotone in blur on some textures (docs/focus_measures.md):
# HISE counts grey levels: blurring a piecewise-constant image first creates new levels (entropy up).
# VOLA = R(1) - R(2) of the autocorrelation: ~0 for white noise (a little blur raises it), and at
# heavy blur of an 80 px frame its boundary term mean(I) (I_row1 - I_rowH-1) / (H-2) dominates.
_NON_MONOTONE = {("HISE", "two_level"), ("HISE", "dead_leaves"), ("VOLA", "white_noise")}
_SIGMA_LIMIT = {"VOLA": 2.0}


def test_the_28_operators_of_pertuz_are_registered_in_six_families():
    assert set(PERTUZ_28) <= set(focus_measure_names())
    fams = focus_measure_families()
    assert list(fams) == ["gradient", "laplacian", "wavelet", "statistics", "dct", "miscellaneous"]
    assert all(fams.values())
    assert sorted(itertools.chain(*fams.values())) == focus_measure_names()
    for name in focus_measure_names():
        spec = focus_measure_spec(name)
        assert spec.reference and spec.description
        assert spec.family in describe_focus_measure(name)
    assert {n for n in focus_measure_names() if focus_measure_spec(n).window_px} == {
        "GDER", "SFIL", "GLLV", "GLVM", "HELM", "DCTE", "DCTR"
    }


def test_registry_refuses_duplicates_and_unknown_families():
    with pytest.raises(InvalidParameterError, match="already registered"):
        register_focus_measure("TENG", family="gradient", description="x", reference="y")(lambda s, w: s)
    with pytest.raises(InvalidParameterError, match="family"):
        register_focus_measure("NEW1", family="optics", description="x", reference="y")


@pytest.mark.parametrize("method", focus_measure_names())
def test_more_blur_never_scores_sharper(method):
    checked = 0
    for seed in range(3):
        for name, texture in _textures(seed).items():
            if (method, name) in _NON_MONOTONE:
                continue
            sigmas = [s for s in SIGMAS if s <= _SIGMA_LIMIT.get(method, np.inf)]
            curve = focus_curve(_blur_stack(texture, sigmas), method)
            steps = np.diff(curve)
            assert np.all(steps <= 1e-12 * np.abs(curve).max()), (name, seed, curve)
            checked += 1
    assert checked >= 6


def test_documented_non_monotone_cases_are_real():
    t = _textures(0)
    hise = focus_curve(_blur_stack(t["two_level"], (0.0, 0.5)), "HISE")
    assert hise[1] > hise[0]  # two grey levels (1 bit) -> many after a little blur
    assert hise[0] == pytest.approx(1.0, abs=0.01)
    vola = focus_curve(_blur_stack(t["white_noise"], (0.0, 0.5)), "VOLA")
    assert vola[1] > vola[0]


@pytest.mark.parametrize("method", focus_measure_names())
def test_vectorised_curve_equals_per_frame_measure(method, monkeypatch):
    stack = _blur_stack(_textures(5)["dead_leaves"], (0.0, 1.0, 2.5))
    per_frame = np.array([focus_measure(f, method) for f in stack])
    np.testing.assert_allclose(focus_curve(stack, method), per_frame, rtol=1e-12, atol=1e-15)
    monkeypatch.setattr(focus_module, "CHUNK_PIXELS", 80 * 80 * 2)  # chunks of 2 frames
    np.testing.assert_allclose(focus_curve(list(stack), method), per_frame, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("method", focus_measure_names())
def test_rgb_roi_dtype_determinism_and_no_mutation(method):
    t = _textures(1)["smooth_noise"]
    rgb = np.stack([t, 0.5 * t, 1.5 * t], axis=2)
    grey = rgb.mean(axis=2)
    before = rgb.copy()
    assert focus_measure(rgb, method) == pytest.approx(focus_measure(grey, method), rel=1e-12)
    np.testing.assert_array_equal(rgb, before)
    roi = (7, 11, 40, 33)
    assert focus_measure(grey, method, roi=roi) == focus_measure(grey[11:44, 7:47], method)
    assert focus_measure(grey.astype(np.float32), method) == pytest.approx(focus_measure(grey, method), rel=1e-5)
    assert focus_measure(grey, method) == focus_measure(grey.copy(), method)


@pytest.mark.parametrize("method", focus_measure_names())
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_pixels_are_refused(method, bad):
    img = np.full((16, 16), 0.5)
    img[3, 4] = bad
    with pytest.raises(InvalidParameterError, match="NaN or inf"):
        focus_measure(img, method)
    with pytest.raises(InvalidParameterError, match="NaN or inf"):
        focus_curve(np.stack([np.full((16, 16), 0.5), img]), method)


@pytest.mark.parametrize("method", [n for n in focus_measure_names() if focus_measure_spec(n).non_negative])
def test_ratio_operators_refuse_negative_images(method):
    with pytest.raises(InvalidParameterError, match="non-negative"):
        focus_measure(np.full((16, 16), -0.1), method)


def test_window_argument():
    t = _textures(2)["smooth_noise"]
    assert focus_measure(t, "GDER", window_px=15) == focus_measure(t, "GDER")
    assert focus_measure(t, "GLLV", window_px=7) != focus_measure(t, "GLLV")
    with pytest.raises(InvalidParameterError, match="no local window"):
        focus_measure(t, "TENG", window_px=5)
    with pytest.raises(InvalidParameterError, match=">= 3"):
        focus_measure(t, "HELM", window_px=1)
    with pytest.raises(InvalidParameterError, match="exceeds"):
        focus_measure(t[:6, :6], "DCTE", window_px=8)
    with pytest.raises(InvalidParameterError, match="integer"):
        focus_measure(t, "HELM", window_px=2.5)
    with pytest.raises(InvalidParameterError, match="at least 8x8"):
        focus_measure(t[:5, :9], "DCTR")
    assert np.isfinite(focus_measure(t[:5, :9], "DCTR", window_px=4))


@pytest.mark.parametrize("method", focus_measure_names())
def test_smallest_images_give_finite_values(method):
    img = np.random.default_rng(9).random((3, 4))
    window = 3 if focus_measure_spec(method).family == "dct" else None
    assert np.isfinite(focus_measure(img, method, window_px=window))


def test_bad_shapes_and_names():
    with pytest.raises(UnknownNameError, match="WAVS"):
        focus_curve(np.zeros((2, 8, 8)), "WAVX")
    with pytest.raises(InvalidParameterError, match="share one shape"):
        focus_curve([np.zeros((8, 8)), np.zeros((9, 8))])
    with pytest.raises(InvalidParameterError, match="N x H x W"):
        focus_curve(np.zeros((8, 8)))
    with pytest.raises(InvalidParameterError, match="too small"):
        focus_measure(np.zeros((2, 8)))
    with pytest.raises(InvalidParameterError, match="four integers"):
        focus_measure(np.zeros((8, 8)), roi=(1, 2, 3))
    assert focus_curve([], "TENG").shape == (0,)


# ---- closed forms -------------------------------------------------------------------------


def test_daubechies_db6_matches_the_published_table_and_is_orthonormal():
    h = daubechies_lowpass(6)
    table = [0.111540743350, 0.494623890398, 0.751133908021, 0.315250351709, -0.226264693965,
             -0.129766867567, 0.097501605587, 0.027522865530, -0.031582039318, 0.000553842201,
             0.004777257511, -0.001077301085]  # Daubechies 1992, Table 6.1 (N = 6), times 1
    np.testing.assert_allclose(h, table, atol=5e-12)
    assert h.sum() == pytest.approx(np.sqrt(2), abs=1e-13)
    for m in range(6):
        assert np.dot(h[: h.size - 2 * m], h[2 * m :]) == pytest.approx(1.0 if m == 0 else 0.0, abs=1e-13)
    g = highpass_from_lowpass(h)
    k = np.arange(12.0)
    for p in range(6):  # 6 vanishing moments
        assert abs(np.dot(g, (k / 11) ** p)) < 1e-11
    np.testing.assert_allclose(daubechies_lowpass(1), [2**-0.5, 2**-0.5], atol=1e-15)


def test_wavelet_subbands_reconstruct_the_frame_and_annihilate_polynomials():
    x = np.random.default_rng(3).random((2, 29, 40))
    b = wavelet_subbands(x, levels=3)
    np.testing.assert_allclose(b["a1"] + b["h"] + b["v"] + b["d"], x, atol=1e-12)
    lo = daubechies_lowpass(6)  # A1 reconstructed from its own coefficients agrees with x - H - V - D
    pad = 12
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad)), mode="symmetric")
    a = wd._analysis(wd._analysis(xp, lo, -1), lo, -2)
    a1 = wd._synthesis(wd._synthesis(a, lo, -2), lo, -1)[:, pad : pad + 29, pad : pad + 40]
    np.testing.assert_allclose(a1, b["a1"], atol=1e-12)
    yy, xx = np.mgrid[0:60, 0:60].astype(float)
    poly = (0.3 + 0.01 * xx + 0.002 * yy**2 - 1e-4 * xx**3)[None]
    d = wavelet_subbands(poly)
    for band in ("h", "v", "d"):  # polynomials of degree < 6 have no db6 detail (interior)
        assert np.abs(d[band][:, 12:-12, 12:-12]).max() < 1e-9


def test_dct_ratios_match_explicit_window_dcts():
    img = np.random.default_rng(4).random((11, 13)) + 0.1
    w = 8
    dcte, dctr = [], []
    for y in range(img.shape[0] - w + 1):
        for x in range(img.shape[1] - w + 1):
            f = fft.dctn(img[y : y + w, x : x + w], norm="ortho")
            dcte.append((np.sum(f * f) - f[0, 0] ** 2) / f[0, 0] ** 2)
            dctr.append((f[0, 1] ** 2 + f[0, 2] ** 2 + f[1, 0] ** 2 + f[1, 1] ** 2 + f[2, 0] ** 2) / f[0, 0] ** 2)
    assert focus_measure(img, "DCTE") == pytest.approx(np.mean(dcte), rel=1e-10)
    assert focus_measure(img, "DCTR") == pytest.approx(np.mean(dctr), rel=1e-12)


def test_closed_forms_on_ramps_levels_and_checkerboards():
    slope = 0.03
    ramp = np.tile(np.arange(50.0) * slope, (40, 1))
    assert focus_measure(ramp, "GRAS") == pytest.approx(slope**2, rel=1e-12)
    assert focus_measure(ramp, "SFRQ") == pytest.approx(slope, rel=1e-12)
    assert focus_measure(ramp, "GRAT") == pytest.approx(slope, rel=1e-12)
    assert focus_measure(ramp, "BREN") == pytest.approx((2 * slope) ** 2, rel=1e-12)
    assert focus_measure(ramp, "HISR") == pytest.approx(49 * slope, rel=1e-12)
    rx, ry = gaussian_gradient(ramp[None], 15)  # unit ramp response: R_x = slope away from the borders
    np.testing.assert_allclose(rx[0, 8:-8, 8:-8], slope, rtol=1e-12)
    np.testing.assert_allclose(ry[0, 8:-8, 8:-8], 0.0, atol=1e-15)
    quad = 0.002 * np.tile(np.arange(30.0) ** 2, (30, 1))
    np.testing.assert_allclose(laplacian(quad[None])[0, 1:-1, 1:-1], 2 * 0.002, rtol=1e-9)
    two = np.where(np.arange(64) % 2 == 0, 0.2, 0.6).repeat(64).reshape(64, 64)
    assert focus_measure(two, "ACMO") == pytest.approx(0.2, rel=1e-12)
    assert focus_measure(two, "GLVA") == pytest.approx(0.04, rel=1e-12)
    assert focus_measure(two, "GLVN") == pytest.approx(0.04 / 0.4, rel=1e-12)
    levels = np.repeat(np.arange(8) / 255.0, 32).reshape(16, 16)  # 8 equally populated grey codes
    assert focus_measure(levels, "HISE") == pytest.approx(3.0, abs=1e-12)
    checker = (np.indices((20, 20)).sum(axis=0) % 2).astype(float)
    assert focus_measure(checker, "CONT") == pytest.approx(4.0, rel=1e-12)
    assert focus_measure(checker, "DCTE", window_px=2) == pytest.approx(1.0, rel=1e-12)
    # HELM: a single bright pixel c on 0 among w x w: U = c/w^2 < c there (ratio w^2), elsewhere
    # I = 0 (ratio 1 by definition)
    dot = np.zeros((15, 15))
    dot[7, 7] = 0.9
    assert focus_measure(dot, "HELM") == pytest.approx((224 + 225) / 225, rel=1e-12)


def test_curvature_ignores_a_constant_offset():
    t = _textures(6)["dead_leaves"]
    assert focus_measure(t + 0.3, "CURV") == pytest.approx(focus_measure(t, "CURV"), rel=1e-12)
    b = 0.01
    row = b * (np.arange(21.0) - 10) ** 2
    e = np.pad(row, 1, mode="edge")  # replicated borders
    p0 = (e[2:] - e[:-2]) / 2  # (M1 * I) / 6 with three equal rows
    p2 = (e[2:] - 2 * e[1:-1] + e[:-2]) / 2
    assert focus_measure(np.tile(row, (21, 1)), "CURV") == pytest.approx(np.mean(np.abs(p0) + np.abs(p2)), rel=1e-12)
