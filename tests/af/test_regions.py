"""AF region selection: centre, tapped ROI, multi-zone nearest-subject priority."""

from __future__ import annotations

import numpy as np
import pytest

from focuslab.af.green_plane import balanced_mosaic, green_plane
from focuslab.af.regions import centre_roi, check_roi, multizone, zone_grid
from focuslab.af.types import DepthZones
from focuslab.errors import InvalidParameterError


def test_centre_roi_is_centred_even_and_sized():
    x, y, w, h = centre_roi((756, 1008))
    assert (w, h) == (252, 188)
    assert all(v % 2 == 0 for v in (x, y, w, h))
    assert abs((x + w / 2) - 504) <= 1 and abs((y + h / 2) - 378) <= 1
    assert centre_roi((100, 100), 1.0) == (0, 0, 100, 100)


@pytest.mark.parametrize("fraction", [0.0, -0.1, 1.5, float("nan"), float("inf")])
def test_centre_roi_bad_fraction(fraction):
    with pytest.raises(InvalidParameterError):
        centre_roi((100, 100), fraction)


def test_check_roi_snaps_to_even_and_refuses_bad_taps():
    assert check_roi((11, 21, 40, 30), (100, 200)) == (10, 20, 40, 30)
    assert check_roi((10, 20, 41, 31), (100, 200)) == (10, 20, 40, 30)
    for bad in [(0, 0, 4, 4), (-2, 0, 20, 20), (190, 0, 20, 20), (0, 0, 20), ("a", 0, 20, 20), (0.5, 0, 20, 20)]:
        with pytest.raises(InvalidParameterError):
            check_roi(bad, (100, 200))
    with pytest.raises(InvalidParameterError):
        check_roi((0, 0, 10, 10), (2, 2))


def test_zone_grid_tiles_the_central_span():
    z = zone_grid((300, 400), (3, 4), span_fraction=0.75)
    assert z.shape == (3, 4, 4)
    assert np.all(z[..., 2] == z[0, 0, 2]) and np.all(z[..., 3] == z[0, 0, 3])
    assert np.all(np.diff(z[0, :, 0]) == z[0, 0, 2]) and np.all(np.diff(z[:, 0, 1]) == z[0, 0, 3])
    assert z[0, 0, 0] >= 0 and z[-1, -1, 0] + z[-1, -1, 2] <= 400
    with pytest.raises(InvalidParameterError):
        zone_grid((300, 400), (0, 3))


def depth_zones(distance, valid=None, sigma_fraction=0.02, frame=(300, 300)):
    d = np.asarray(distance, dtype=float)
    n = d.shape[0]
    step = frame[0] // n
    rois = np.zeros((n, n, 4))
    for r in range(n):
        for c in range(n):
            rois[r, c] = (c * step, r * step, step, step)
    v = np.isfinite(d) if valid is None else np.asarray(valid)
    return DepthZones(distance_m=d, valid=v, sigma_m=np.where(v, sigma_fraction * d, np.nan), rois_px=rois)


def test_multizone_picks_the_nearest_depth_zone():
    d = np.full((3, 3), 2.0)
    d[2, 0] = 0.5
    roi, idx = multizone((300, 300), grid=(3, 3), span_fraction=1.0, depth=depth_zones(d))
    assert idx == (2, 0) and roi == (0, 200, 100, 100)


def test_multizone_ignores_unconfident_depth_and_falls_back_to_centre():
    d = np.full((3, 3), 2.0)
    d[0, 0] = 0.3
    z = depth_zones(d)
    noisy = DepthZones(z.distance_m, z.valid, np.where(d < 1, 0.2, z.sigma_m), z.rois_px)  # 67 % noise
    _, idx = multizone((300, 300), span_fraction=1.0, depth=noisy)
    assert idx == (1, 1)  # all others tie at 2 m: the centre wins the tie
    _, idx = multizone((300, 300), span_fraction=1.0, depth=depth_zones(np.full((3, 3), np.nan)))
    assert idx == (1, 1)
    _, idx = multizone((300, 300))
    assert idx == (1, 1)


def test_multizone_disparity_toward_near_wins_when_confident():
    disp = np.zeros((3, 3))
    disp[0, 2] = 2.5
    disp[2, 2] = 4.0
    conf = np.ones((3, 3))
    conf[2, 2] = 0.1
    _, idx = multizone((300, 300), disparity_px=disp, confidence=conf)
    assert idx == (0, 2)
    with pytest.raises(InvalidParameterError):
        multizone((300, 300), disparity_px=np.zeros((2, 2)))


def test_green_plane_and_balanced_mosaic():
    mosaic = np.zeros((4, 6), np.float32)
    mosaic[0::2, 1::2] = 0.4  # RGGB greens
    mosaic[1::2, 0::2] = 0.6
    mosaic[0::2, 0::2] = 0.9  # red
    g = green_plane(mosaic, "RGGB")
    assert g.shape == (2, 3) and g.dtype == np.float32 and np.allclose(g, 0.5)
    assert np.allclose(green_plane(mosaic, "GRBG"), (0.9 + 0.0) / 2)
    assert green_plane(mosaic, None) is not mosaic and np.array_equal(green_plane(mosaic, None), mosaic)
    b = balanced_mosaic(mosaic, "RGGB")
    # every Bayer site over its own mean: the Gr/Gb imbalance (0.4 vs 0.6) is removed too
    assert b.dtype == np.float32 and np.allclose(b[0::2, 0::2], 1.0) and np.allclose(b[1::2, 1::2], 0.0)
    assert np.allclose(b[0::2, 1::2], 1.0) and np.allclose(b[1::2, 0::2], 1.0)
    # af_signals' checked entry calls the same implementation (float64), and refuses a dark site
    from focuslab.af import af_signals
    rng = np.random.default_rng(3)
    m = rng.uniform(0.1, 0.9, (6, 8)).astype(np.float32)
    assert np.allclose(af_signals.balanced_mosaic(m, "GRBG"), balanced_mosaic(m, "GRBG"), rtol=1e-6)
    assert af_signals.balanced_mosaic(m, "GRBG").dtype == np.float64
    for r in (0, 1):
        for c in (0, 1):
            assert abs(float(balanced_mosaic(m, "GRBG")[r::2, c::2].mean()) - 1.0) < 1e-5
    with pytest.raises(InvalidParameterError, match="no light"):
        af_signals.balanced_mosaic(mosaic, "RGGB")  # its blue site is 0
    with pytest.raises(InvalidParameterError):
        green_plane(mosaic, "XYZW")
    with pytest.raises(InvalidParameterError):
        balanced_mosaic(np.zeros((2, 2, 3)), "RGGB")
