"""sRGB curve, black level, white balance and colour correction."""

from __future__ import annotations

import numpy as np
import pytest

from focuslab.errors import InvalidParameterError
from focuslab.isp import (
    apply_ccm,
    apply_white_balance,
    grey_world_gains,
    srgb_decode,
    srgb_encode,
    subtract_black_level,
)


def test_srgb_round_trip_and_anchor_points():
    x = np.linspace(0, 1, 10001)
    np.testing.assert_allclose(srgb_decode(srgb_encode(x)), x, atol=1e-12)
    v = np.linspace(0, 1, 10001)
    np.testing.assert_allclose(srgb_encode(srgb_decode(v)), v, atol=1e-12)
    # IEC 61966-2-1: 18 % grey encodes to ~0.4613 (118/255); breakpoint continuity
    assert srgb_encode(np.array(0.18)) == pytest.approx(0.46135, abs=1e-4)
    assert srgb_encode(np.array(0.0031308)) == pytest.approx(0.0031308 * 12.92, rel=1e-9)
    assert srgb_encode(np.array(1.0)) == pytest.approx(1.0, abs=1e-12)
    assert np.all(np.diff(srgb_encode(x)) > 0)  # strictly increasing


def test_srgb_dtype_and_special_values():
    f32 = np.linspace(0, 1, 101, dtype=np.float32)
    assert srgb_encode(f32).dtype == np.float32 and srgb_decode(f32).dtype == np.float32
    np.testing.assert_allclose(srgb_decode(srgb_encode(f32)), f32, atol=2e-6)
    out = srgb_encode(np.array([-1.0, -np.inf, np.inf, 2.0]))
    np.testing.assert_allclose(out, [0.0, 0.0, 1.0, 1.0], atol=1e-12)
    with pytest.raises(InvalidParameterError):
        srgb_encode(np.array([0.5, np.nan]))
    with pytest.raises(InvalidParameterError):
        srgb_decode(np.array([np.nan]))


def test_black_level_subtraction():
    d = np.array([[64, 1023], [600, 0]], np.uint16)
    out = subtract_black_level(d, black_level_dn=64, white_level_dn=1023)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0, 1], [536 / 959, -64 / 959]], rtol=1e-6)
    assert subtract_black_level(d, black_level_dn=64, white_level_dn=1023, clip=True).min() == 0
    with pytest.raises(InvalidParameterError):
        subtract_black_level(d, black_level_dn=1023, white_level_dn=64)


def test_white_balance_of_grey_patch():
    grey = np.ones((8, 8, 3))
    tint = np.array([0.5, 0.8, 0.4])
    patch = grey * tint  # a grey card seen through the sensor's channel response
    gains = grey_world_gains(patch)
    assert gains == pytest.approx((1.6, 1.0, 2.0))
    np.testing.assert_allclose(apply_white_balance(patch, gains), 0.8, rtol=1e-12)


def test_white_balance_on_mosaic():
    cfa = "GBRG"
    mosaic = np.empty((6, 8))
    mosaic[0::2, 0::2] = 0.8  # G
    mosaic[0::2, 1::2] = 0.4  # B
    mosaic[1::2, 0::2] = 0.5  # R
    mosaic[1::2, 1::2] = 0.8  # G
    gains = grey_world_gains(mosaic, cfa=cfa)
    assert gains == pytest.approx((1.6, 1.0, 2.0))
    np.testing.assert_allclose(apply_white_balance(mosaic, gains, cfa=cfa), 0.8, rtol=1e-12)
    f32 = mosaic.astype(np.float32)
    assert apply_white_balance(f32, gains, cfa=cfa).dtype == np.float32


def test_grey_world_excludes_saturation():
    img = np.full((4, 4, 3), 0.25)
    img[0, 0] = [1.0, 0.1, 0.1]
    assert grey_world_gains(img, saturation=1.0) == pytest.approx((1.0, 1.0, 1.0))


@pytest.mark.parametrize(
    "gains", [(1.0, 1.0), (1.0, 0.0, 1.0), (1.0, -1.0, 1.0), (np.nan, 1.0, 1.0), (np.inf, 1.0, 1.0)]
)
def test_bad_gains(gains):
    with pytest.raises(InvalidParameterError):
        apply_white_balance(np.ones((2, 2, 3)), gains)


def test_white_balance_bad_inputs():
    with pytest.raises(InvalidParameterError):
        apply_white_balance(np.ones((2, 2)), (1, 1, 1))  # a mosaic needs its cfa
    with pytest.raises(InvalidParameterError):
        grey_world_gains(np.zeros((4, 4, 3)))
    bad = np.ones((2, 2, 3))
    bad[0, 0, 0] = np.nan
    with pytest.raises(InvalidParameterError):
        grey_world_gains(bad)


def test_ccm_preserves_white_and_mixes():
    ccm = np.array([[1.6, -0.4, -0.2], [-0.3, 1.5, -0.2], [0.0, -0.5, 1.5]])
    white = np.ones((3, 3, 3), np.float32)
    out = apply_ccm(white, ccm)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, 1.0, rtol=1e-6)
    np.testing.assert_allclose(apply_ccm(np.array([1.0, 0.0, 0.0]), ccm), [1.6, -0.3, 0.0])
    np.testing.assert_allclose(apply_ccm(np.array([0.2, 0.5, 0.9]), np.eye(3)), [0.2, 0.5, 0.9])


@pytest.mark.parametrize("ccm", [np.eye(2), np.eye(3) * 2, np.array([[1, 0, 0], [0, 1, 0], [0, 0, np.nan]])])
def test_bad_ccm(ccm):
    with pytest.raises(InvalidParameterError):
        apply_ccm(np.ones((2, 2, 3)), ccm)
