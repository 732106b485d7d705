"""Slanted-square detection, edge ROIs and field geometry (no SFR needed)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from charts_synthetic import square_chart

from focuslab.errors import InvalidParameterError, UnknownNameError
from focuslab.metrics.chart_detect import otsu_threshold
from focuslab.metrics.chart_field import classify_direction, field_map, field_position, normal_to_radial_deg
from focuslab.metrics.chart_layouts import chart_layout_names
from focuslab.metrics.charts import find_chart_edges


@pytest.fixture(scope="module")
def chart():
    return square_chart(sigma=lambda r: (1.0 + 1.5 * r, 1.0))


def _match(quads, truths):
    """Each truth square's nearest detected quadrilateral and the corner errors, px."""
    out = []
    for t in truths:
        q = min(quads, key=lambda q: math.dist(q.centroid_xy, t.centre_xy))
        err = [float(np.min(np.hypot(*(q.corners_xy - c).T))) for c in t.corners_xy]
        out.append((q, err))
    return out


def test_every_square_found_with_subpixel_corners(chart):
    img, truths = chart
    det = find_chart_edges(img)
    assert len(det.squares) == len(truths) == 12
    errs = [e for _, err in _match(det.squares, truths) for e in err]
    assert max(errs) < 0.05  # noiseless: refined corners within 0.05 px of the truth
    assert len(det.edges) == 48 and not det.skipped
    for qi, side, er in det.edges:
        x, y, w, h = er.roi
        q = det.squares[qi]
        assert 0 <= x and 0 <= y and x + w <= img.shape[1] and y + h <= img.shape[0]
        assert abs(er.slant_deg - 5.0) < 0.05
        # the ROI holds the middle of the side and no corner of the square
        inside = (q.corners_xy[:, 0] >= x - 0.5) & (q.corners_xy[:, 0] <= x + w - 0.5)
        inside &= (q.corners_xy[:, 1] >= y - 0.5) & (q.corners_xy[:, 1] <= y + h - 0.5)
        assert not inside.any()
        p0, p1 = q.side(side)
        n = np.array(er.normal_xy)
        assert abs(n @ (p1 - p0)) < 1e-9 and n @ (0.5 * (p0 + p1) - q.centroid_xy) > 0  # outward
        assert er.orientation == ("vertical" if abs(p1[1] - p0[1]) > abs(p1[0] - p0[0]) else "horizontal")


def test_noisy_chart_edges_within_a_quarter_pixel():
    img, truths = square_chart(sigma=lambda r: (1.5, 1.5), noise_sd=0.02, seed=3)
    det = find_chart_edges(img)
    assert len(det.squares) == 12
    errs = [e for _, err in _match(det.squares, truths) for e in err]
    assert max(errs) < 0.25


def test_detection_is_deterministic_and_keeps_input(chart):
    img, _ = chart
    before = img.copy()
    a, b = find_chart_edges(img), find_chart_edges(img)
    assert np.array_equal(img, before)
    assert [e[2] for e in a.edges] == [e[2] for e in b.edges]


def test_rgb_and_float32_match_grey(chart):
    img, _ = chart
    grey = find_chart_edges(img)
    rgb = find_chart_edges(np.repeat(img[..., None], 3, axis=2).astype(np.float32))
    assert [e[2].roi for e in rgb.edges] == [e[2].roi for e in grey.edges]


def test_light_squares_on_dark_ground(chart):
    img, _ = chart
    assert len(find_chart_edges(1.0 - img, polarity="light").squares) == 12
    assert len(find_chart_edges(1.0 - img, polarity="dark").squares) == 0


def test_local_threshold_under_vignetting(chart):
    img, _ = chart
    h, w = img.shape
    yy, xx = np.mgrid[0:h, 0:w]
    r2 = ((xx - w / 2) ** 2 + (yy - h / 2) ** 2) / (0.5 * math.hypot(w, h)) ** 2
    det = find_chart_edges(img * (1.0 - 0.6 * r2), threshold="local")
    assert len(det.squares) == 12


def test_axis_aligned_and_45_degree_sides_are_skipped_with_reasons():
    img0, _ = square_chart(grid=(1, 2), rotation_deg=0.3, shape=(200, 300))
    det = find_chart_edges(img0)
    assert len(det.squares) == 2 and not det.edges
    assert all(s.reason.startswith("near-axis") for s in det.skipped)
    assert any("8 edge(s) skipped: near-axis" in w for w in det.warnings)
    img45, _ = square_chart(grid=(1, 2), rotation_deg=44.6, shape=(200, 300), side_px=50)
    det = find_chart_edges(img45)
    assert det.skipped and all(s.reason.startswith("near-45") for s in det.skipped)


def test_square_at_the_border_and_short_edges():
    img, _ = square_chart(grid=(1, 1), shape=(120, 160), side_px=50)
    det = find_chart_edges(img[:, 80:])  # the square cut in half by the left border
    assert len(det.squares) == 0 and "1 dark object(s) ignored: touches the image border" in det.warnings
    small, _ = square_chart(grid=(1, 1), shape=(120, 160), side_px=26)
    det = find_chart_edges(small, min_edge_length_px=20)
    assert len(det.squares) == 1 and not det.edges
    assert all(s.reason.startswith("too short") for s in det.skipped)


def test_esfr_layout_drops_axis_aligned_patches(chart):
    img, _ = chart
    img = img.copy()
    img[10:45, 300:335] = 0.1  # an axis-aligned grey patch
    img[440:470, 300:360] = 0.1  # and a rectangle
    assert len(find_chart_edges(img, layout="squares").squares) == 14
    det = find_chart_edges(img, layout="esfr")
    assert len(det.squares) == 12
    assert any("layout 'esfr'" in w for w in det.warnings)
    assert set(chart_layout_names()) >= {"squares", "esfr"}


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_image_is_refused(chart, bad):
    img = chart[0].copy()
    img[5, 7] = bad
    with pytest.raises(InvalidParameterError, match="NaN or inf"):
        find_chart_edges(img)


def test_bad_inputs():
    with pytest.raises(InvalidParameterError, match="flat"):
        find_chart_edges(np.full((64, 64), 0.5))
    with pytest.raises(InvalidParameterError, match="shape"):
        find_chart_edges(np.zeros((4, 64, 64)))
    with pytest.raises(InvalidParameterError, match="at least 32"):
        find_chart_edges(np.random.default_rng(0).random((16, 64)))
    with pytest.raises(UnknownNameError, match="squares"):
        find_chart_edges(np.random.default_rng(0).random((64, 64)), layout="nope")
    with pytest.raises(InvalidParameterError, match="polarity"):
        find_chart_edges(np.random.default_rng(0).random((64, 64)), polarity="grey")
    with pytest.raises(InvalidParameterError, match="threshold"):
        find_chart_edges(np.random.default_rng(0).random((64, 64)), threshold="mean")
    with pytest.raises(InvalidParameterError, match="max_angle_deg"):
        find_chart_edges(np.random.default_rng(0).random((64, 64)), min_angle_deg=30, max_angle_deg=20)


def test_noise_only_has_no_edges():
    det = find_chart_edges(np.random.default_rng(1).random((200, 200)))
    assert not det.edges


def test_otsu_splits_a_bimodal_histogram():
    v = np.concatenate([np.full(300, 0.2), np.full(700, 0.7)])
    t = otsu_threshold(v)
    assert 0.2 < t <= 0.7
    assert otsu_threshold(np.full(10, 3.0)) == 3.0


def test_field_position_and_direction_convention():
    shape = (101, 201)  # centre (100, 50), half-diagonal hypot(200, 100) / 2
    r, phi = field_position(200.0, 100.0, shape)
    assert r == pytest.approx(1.0) and phi == pytest.approx(math.degrees(math.atan2(50, 100)))
    assert field_position(100.0, 50.0, shape)[0] == 0.0
    # a point right of the centre: the radial direction is +x
    assert classify_direction((1.0, 0.0), 0.5, 0.0) == "meridional"  # normal radial: tangential edge
    assert classify_direction((-1.0, 0.0), 0.5, 0.0) == "meridional"  # sign of the normal is irrelevant
    assert classify_direction((0.0, 1.0), 0.5, 0.0) == "sagittal"  # normal tangential: edge along the radius
    assert classify_direction((math.sqrt(0.5), math.sqrt(0.5)), 0.5, 0.0) == "mixed"
    assert classify_direction((1.0, 0.0), 0.01, 0.0) == "mixed"  # at the centre
    assert normal_to_radial_deg((0.0, -1.0), 90.0) == pytest.approx(0.0)
    assert normal_to_radial_deg((1.0, 0.0), 90.0) == pytest.approx(90.0)
    with pytest.raises(InvalidParameterError):
        classify_direction((1.0, 0.0), 0.5, 0.0, ambiguity_deg=50.0)


def test_field_map_interpolates_a_plane_exactly():
    rng = np.random.default_rng(0)
    pts = rng.uniform([0, 0], [199, 99], size=(40, 2))
    pts = np.vstack([pts, [[0, 0], [199, 0], [0, 99], [199, 99]]])
    val = 0.3 - 0.001 * pts[:, 0] + 0.0005 * pts[:, 1]
    dirs = ["sagittal"] * 22 + ["meridional"] * 22
    fm = field_map(pts, val, dirs, (100, 200), grid_shape=(5, 6))
    gx, gy = np.meshgrid(fm.x_px, fm.y_px)
    assert np.allclose(fm.mtf50_cpp["all"], 0.3 - 0.001 * gx + 0.0005 * gy)
    assert fm.mtf50_cpp["sagittal"].shape == (5, 6)
    few = field_map(pts[:2], val[:2], ["sagittal", "sagittal"], (100, 200))
    assert np.isnan(few.mtf50_cpp["all"]).all()
    d = fm.to_dict()
    assert len(d["x_px"]) == 6 and len(d["mtf50_cpp"]["all"]) == 5
    with pytest.raises(InvalidParameterError):
        field_map(pts, val, dirs, (100, 200), grid_shape=(1, 5))


def test_discs_and_triangles_are_not_quadrilaterals(chart):
    img = chart[0].copy()
    yy, xx = np.mgrid[0 : img.shape[0], 0 : img.shape[1]]
    img[(xx - 320) ** 2 + (yy - 25) ** 2 < 18**2] = 0.2  # a fiducial disc in the top margin
    tri = (yy > 440) & (yy < 475) & (np.abs(xx - 320) < (yy - 440))  # a triangle in the bottom margin
    img[tri] = 0.2
    det = find_chart_edges(img)
    assert len(det.squares) == 12
    assert "2 dark object(s) ignored: not a quadrilateral" in det.warnings


def test_sheared_squares_are_still_quadrilaterals(chart):
    from scipy import ndimage

    # the chart seen obliquely (affine: squares become parallelograms, slants 1.3 to 4.5 deg)
    warped = ndimage.affine_transform(chart[0], np.array([[1 / 0.9, 0.0], [-0.12, 1.0]]), offset=(0, 30), order=1,
                                      mode="nearest")
    det = find_chart_edges(warped)
    assert len(det.squares) == 12 and len(det.edges) == 48
    assert len(find_chart_edges(warped, layout="esfr").squares) == 12  # mild obliquity is within its tolerance
