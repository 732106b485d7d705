"""Demosaicing: flat colour fields, all Bayer phases, registry errors."""

from __future__ import annotations

import numpy as np
import pytest

from focuslab.errors import InvalidParameterError, UnknownNameError
from focuslab.isp import demosaic, demosaic_names, register_demosaic
from focuslab.sensor import cfa_channel_index

PATTERNS = ("RGGB", "BGGR", "GRBG", "GBRG")


def mosaic_of(rgb: np.ndarray, cfa: str) -> np.ndarray:
    idx = cfa_channel_index(cfa, rgb.shape[:2])
    return np.take_along_axis(rgb, idx[..., None].astype(np.intp), axis=2)[..., 0]


@pytest.mark.parametrize("method", ["bilinear", "Malvar2004", "Menon2007"])
@pytest.mark.parametrize("cfa", PATTERNS)
def test_flat_colour_field_is_returned(method, cfa):
    colour = np.array([0.7, 0.4, 0.15], np.float32)
    flat = np.broadcast_to(colour, (24, 30, 3)).copy()
    out = demosaic(mosaic_of(flat, cfa), cfa, method=method)
    assert out.shape == (24, 30, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out, flat, atol=1e-5)


@pytest.mark.parametrize("cfa", PATTERNS)
def test_phase_matters(cfa):
    """A red field demosaiced with the right phase is red; with a wrong phase it is not."""
    red = np.zeros((16, 16, 3))
    red[..., 0] = 1.0
    right = demosaic(mosaic_of(red, cfa), cfa)
    np.testing.assert_allclose(right[4:-4, 4:-4], red[4:-4, 4:-4], atol=1e-9)
    wrong = "BGGR" if cfa == "RGGB" else "RGGB"
    assert not np.allclose(demosaic(mosaic_of(red, cfa), wrong)[4:-4, 4:-4], red[4:-4, 4:-4], atol=0.1)


def test_smooth_gradient_is_interpolated():
    y, x = np.mgrid[0:32, 0:32] / 32.0
    rgb = np.stack([0.2 + 0.5 * x, 0.3 + 0.2 * y, 0.5 - 0.3 * x * y], axis=2)
    for method in demosaic_names():
        out = demosaic(mosaic_of(rgb, "GRBG"), "GRBG", method=method)
        assert np.max(np.abs(out[3:-3, 3:-3] - rgb[3:-3, 3:-3])) < 0.02, method


def test_default_is_malvar_and_input_untouched():
    m = np.random.default_rng(0).random((10, 12))
    before = m.copy()
    np.testing.assert_array_equal(demosaic(m, "RGGB"), demosaic(m, "RGGB", method="Malvar2004"))
    np.testing.assert_array_equal(m, before)
    assert demosaic(m, "RGGB").dtype == np.float64


def test_unknown_method_lists_names():
    with pytest.raises(UnknownNameError, match="Malvar2004"):
        demosaic(np.zeros((4, 4)), "RGGB", method="AHD")


def test_duplicate_method_refused():
    with pytest.raises(InvalidParameterError, match="already registered"):
        register_demosaic("bilinear")(lambda m, p: m)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_mosaic(bad):
    m = np.zeros((8, 8))
    m[3, 3] = bad
    with pytest.raises(InvalidParameterError):
        demosaic(m, "RGGB")


def test_bad_shape_and_cfa():
    with pytest.raises(InvalidParameterError):
        demosaic(np.zeros((8, 8, 3)), "RGGB")
    with pytest.raises(InvalidParameterError):
        demosaic(np.zeros((8, 8)), "mono")
