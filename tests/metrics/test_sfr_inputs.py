"""e-SFR bad inputs (one-line FocuslabError), warnings, linearisation, edge finding, import guard."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from focuslab.errors import FocuslabError, InvalidParameterError, UnknownNameError
from focuslab.metrics.sfr import decode, find_single_edge_roi, measure_sfr
from focuslab.metrics.sfr.synthetic import slanted_edge

SFR_DIR = Path(__file__).resolve().parents[2] / "src" / "focuslab" / "metrics" / "sfr"


@pytest.fixture(scope="module")
def edge():
    return slanted_edge((96, 96), angle_deg=5.0, size_px=1.0)


def _one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg and msg
    return msg


@pytest.mark.parametrize("roi", [(-1, 0, 10, 10), (0, 0, 97, 96), (90, 90, 10, 10), (0, 0, 0, 10), (1, 2, 3)])
def test_roi_outside_the_image(edge, roi):
    with pytest.raises(InvalidParameterError) as exc:
        measure_sfr(edge, roi=roi)
    _one_line(exc)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values(edge, bad):
    img = edge.copy()
    img[40, 40] = bad
    with pytest.raises(InvalidParameterError, match="NaN or inf") as exc:
        measure_sfr(img)
    _one_line(exc)
    assert measure_sfr(img, roi=(0, 50, 96, 40)).mtf50_cpp > 0  # a clean ROI elsewhere is fine


def test_flat_image():
    with pytest.raises(InvalidParameterError, match="flat"):
        measure_sfr(np.full((64, 64), 0.5))


def test_no_edge_in_noise():
    rng = np.random.default_rng(3)
    with pytest.raises(InvalidParameterError, match="edge") as exc:
        measure_sfr(0.5 + 0.01 * rng.standard_normal((64, 64)))
    _one_line(exc)


def test_smooth_gradient_is_not_an_edge():
    ramp = np.tile(np.linspace(0.2, 0.8, 64), (64, 1))
    with pytest.raises(InvalidParameterError, match="edge"):
        measure_sfr(ramp)


def test_two_edges_a_bar():
    a = slanted_edge((96, 96), angle_deg=5.0, size_px=1.0, offset_px=-20.0)
    b = slanted_edge((96, 96), angle_deg=5.0, size_px=1.0, offset_px=20.0)
    bar = 0.1 + a - b  # light bar between two edges
    with pytest.raises(InvalidParameterError, match="two edges") as exc:
        measure_sfr(bar)
    _one_line(exc)


def test_edge_leaving_the_roi_through_a_side():
    img = slanted_edge((96, 96), angle_deg=30.0, size_px=1.0)
    with pytest.raises(InvalidParameterError, match="leaves the ROI"):
        measure_sfr(img, roi=(0, 0, 40, 96))


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"window": "kaiser"}, UnknownNameError),
        ({"channel": "X"}, InvalidParameterError),
        ({"channel": "R"}, InvalidParameterError),  # grey image
        ({"poly_order": 0}, InvalidParameterError),
        ({"poly_order": 6}, InvalidParameterError),
        ({"nbin": 1}, InvalidParameterError),
        ({"tukey_alpha": 0.0}, InvalidParameterError),
        ({"encoding": "log"}, InvalidParameterError),
        ({"encoding": "gamma:-1"}, InvalidParameterError),
        ({"encoding": "gamma:x"}, InvalidParameterError),
        ({"lsf_window_px": -2.0}, InvalidParameterError),
        ({"lsf_window_px": "wide"}, InvalidParameterError),
        ({"oecf": np.array([[0.0, 0.0]])}, InvalidParameterError),
        ({"oecf": np.array([[0.5, 0.1], [0.2, 0.9]])}, InvalidParameterError),
        ({"oecf": np.array([[0.0, 0.0], [1.0, 1.0]]), "encoding": "srgb"}, InvalidParameterError),
    ],
)
def test_bad_options(edge, kwargs, error):
    with pytest.raises(error) as exc:
        measure_sfr(edge, **kwargs)
    assert isinstance(exc.value, FocuslabError)
    _one_line(exc)


@pytest.mark.parametrize("shape", [(4, 64, 64), (64, 64, 2), (64,)])
def test_bad_shapes(shape):
    with pytest.raises(InvalidParameterError):
        measure_sfr(np.zeros(shape))


def test_bad_dtype():
    with pytest.raises(InvalidParameterError):
        measure_sfr(np.array([["a"] * 20] * 20))


def test_clipped_edge_warns():
    img = slanted_edge((96, 96), angle_deg=5.0, size_px=1.0, dark=-0.2, light=1.3).clip(0.0, 1.0)
    r = measure_sfr(img)
    assert any(w.startswith("clipping") for w in r.warnings)
    r8 = measure_sfr(np.round(img * 255).astype(np.uint8))
    assert any(w.startswith("clipping") for w in r8.warnings)


def test_rgb_with_a_flat_channel_warns():
    e = slanted_edge((96, 96), angle_deg=5.0, size_px=1.0)
    r = measure_sfr(np.stack([e, e, np.full_like(e, 0.5)], axis=-1), channel="G")
    assert any("no clean edge in channel B" in w for w in r.warnings)
    assert r.mtf50_cpp == pytest.approx(measure_sfr(e).mtf50_cpp, rel=1e-9)


def test_low_contrast_warns():
    r = measure_sfr(slanted_edge((96, 96), angle_deg=5.0, size_px=1.0, dark=0.45, light=0.55))
    assert any(w.startswith("low contrast") for w in r.warnings)
    assert r.contrast == pytest.approx(0.1, abs=2e-3)


def test_small_angle_and_too_few_rows_warn():
    r = measure_sfr(slanted_edge((40, 64), angle_deg=0.7, size_px=1.0))
    text = " ".join(r.warnings)
    assert "below 1 deg" in text and "too few rows" in text and "empty bins" in text


def test_near_45_deg_and_border_warn():
    r = measure_sfr(slanted_edge((96, 96), angle_deg=42.0, size_px=1.0))
    text = " ".join(r.warnings)
    assert "near 45 deg" in text and "too close to the ROI border" in text
    assert r.mtf50_cpp > 0


def test_decode_srgb_gamma_oecf():
    v = np.array([0.0, 0.02, 0.5, 1.0])
    np.testing.assert_allclose(decode(v, "srgb"), [0.0, 0.02 / 12.92, ((0.5 + 0.055) / 1.055) ** 2.4, 1.0])
    np.testing.assert_allclose(decode(v, "gamma:2.2"), v**2.2)
    table = np.array([[0.0, 0.0], [0.5, 0.2], [1.0, 1.0]])
    np.testing.assert_allclose(decode(v, oecf=table), [0.0, 0.008, 0.2, 1.0])
    np.testing.assert_array_equal(decode(v), v)


@pytest.mark.parametrize("encoding", ["srgb", "gamma:2.2"])
def test_encoded_edge_is_linearised(encoding):
    lin = slanted_edge((96, 96), angle_deg=5.0, size_px=1.0)
    enc = lin ** (1 / 2.2) if encoding.startswith("gamma") else np.where(
        lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)
    ref = measure_sfr(lin)
    got = measure_sfr(enc, encoding=encoding)
    np.testing.assert_allclose(got.sfr, ref.sfr, atol=1e-6)
    wrong = measure_sfr(enc)  # measured as if linear: the tone curve changes the SFR
    assert abs(wrong.mtf50_cpp - ref.mtf50_cpp) > 0.002


def test_measured_oecf_table_is_inverted():
    lin = slanted_edge((96, 96), angle_deg=5.0, size_px=1.0)
    grid = np.linspace(0.0, 1.0, 257)
    encoded_of = np.sqrt(grid) * 0.9 + 0.05 * grid  # a monotonic camera response
    enc = np.interp(lin, grid, encoded_of)
    got = measure_sfr(enc, oecf=np.stack([encoded_of, grid], axis=1))
    np.testing.assert_allclose(got.sfr, measure_sfr(lin).sfr, atol=2e-3)


def test_find_single_edge_roi(edge):
    big = np.full((200, 260), 0.1)
    big[40:136, 100:196] = edge
    big[40:136, 196:] = 0.9
    big[:40, :] = big[40:41, :]
    big[136:, :] = big[135:136, :]
    x, y, w, h = find_single_edge_roi(big)
    assert x < 148 < x + w and h > 80
    r = measure_sfr(big, roi=(x, y, w, h))
    assert r.mtf50_cpp == pytest.approx(measure_sfr(edge).mtf50_cpp, rel=0.01)


def test_find_single_edge_roi_refuses_several_edges_and_flat():
    square = np.full((128, 128), 0.9)
    square[40:90, 40:90] = 0.1
    with pytest.raises(InvalidParameterError, match="edge"):
        find_single_edge_roi(square)
    with pytest.raises(InvalidParameterError, match="flat"):
        find_single_edge_roi(np.zeros((64, 64)))
    with pytest.raises(InvalidParameterError, match="NaN"):
        find_single_edge_roi(np.full((64, 64), np.nan))


def test_sfr_package_imports_numpy_scipy_only():
    allowed = {"numpy", "scipy", "focuslab", "__future__", "math", "dataclasses", "typing", "collections"}
    for path in SFR_DIR.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top in allowed, f"{path.name} imports {name}"
                if top == "focuslab":
                    assert name.startswith(("focuslab.metrics", "focuslab.errors", "focuslab.registry")), name
