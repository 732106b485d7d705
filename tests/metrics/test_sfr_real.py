"""e-SFR on real and published edges: Burns' own sfrmat3 output (me.xls), sfrmat5's Test_edge1,
and mtf_estimator's synthetic edge whose file name states its truth."""

from __future__ import annotations

import numpy as np
import pytest

from focuslab.data.image_files import read_image
from focuslab.metrics.sfr import find_single_edge_roi, measure_sfr
from focuslab.metrics.sfr.figures import crossing_frequency

SFRMAT3 = {"window": "hamming", "poly_order": 1, "bin_correction": False}  # sfrmat3 v2.0 settings


@pytest.fixture(scope="module")
def me_xls(shared_data):
    table = np.loadtxt(shared_data / "sfr" / "sfrmat3" / "me.xls", comments="%")
    return table  # frequency, R, G, B, luminance


def test_h_edge_matches_burns_sfrmat3_output(shared_data, me_xls):
    img = read_image(shared_data / "sfr" / "sfrmat3" / "h_edge.tif")
    r = measure_sfr(img, **SFRMAT3)  # whole file, as me.xls: "Selected region: (1, 1), to (300, 125)"
    freq = me_xls[:, 0]
    below = freq <= 0.5
    for col, name in enumerate(("R", "G", "B", "luminance"), start=1):
        ours = np.interp(freq, r.frequencies_cpp, r.channels[name])
        assert np.max(np.abs(ours[below] - me_xls[below, col])) < 0.01, name
    lum = np.interp(freq, r.frequencies_cpp, r.sfr)
    assert np.max(np.abs(lum[below] - me_xls[below, 4])) < 0.006  # measured 0.0050
    burns_mtf50 = crossing_frequency(freq, me_xls[:, 4], 0.5)
    assert burns_mtf50 == pytest.approx(0.1975, abs=5e-4)
    assert r.mtf50_cpp == pytest.approx(burns_mtf50, abs=0.003)  # measured 0.19726 vs 0.19752
    # me.xls header: sampling interval 0.996 px (cos of the edge angle), 0.249 px after 4x binning
    assert r.esf_spacing_px == pytest.approx(0.249, abs=5e-4)
    assert r.orientation == "horizontal"
    assert r.frequencies_cpp[1] == pytest.approx(freq[1], abs=5e-4)
    assert r.warnings == ()


def test_h_and_v_edges_agree_and_iso_2023_is_close_to_sfrmat3(shared_data):
    h = measure_sfr(read_image(shared_data / "sfr" / "sfrmat3" / "h_edge.tif"))
    v = measure_sfr(read_image(shared_data / "sfr" / "sfrmat3" / "v_edge.tif"))
    assert v.orientation == "vertical"
    assert abs(v.angle_deg) == pytest.approx(abs(h.angle_deg), abs=0.01)
    assert v.mtf50_cpp == pytest.approx(h.mtf50_cpp, rel=0.005)
    old = measure_sfr(read_image(shared_data / "sfr" / "sfrmat3" / "h_edge.tif"), **SFRMAT3)
    assert h.mtf50_cpp == pytest.approx(old.mtf50_cpp, rel=0.01)


def test_sfrmat5_test_edge1(shared_data):
    rgb = read_image(shared_data / "sfr" / "sfrmat5" / "Test_edge1.tif")
    mono = read_image(shared_data / "sfr" / "sfrmat5" / "Test_edge1_mono.tif")
    r = measure_sfr(rgb)
    m = measure_sfr(mono)
    assert r.orientation == m.orientation == "horizontal"
    assert r.angle_deg == pytest.approx(5.47, abs=0.02)
    assert m.angle_deg == pytest.approx(r.angle_deg, abs=0.01)
    assert 0.26 < r.mtf50_cpp < 0.29 and 0.26 < m.mtf50_cpp < 0.29
    assert set(r.channels) == {"R", "G", "B", "luminance"}
    assert r.warnings == ()
    roi = find_single_edge_roi(rgb)
    assert measure_sfr(rgb, roi=roi).mtf50_cpp == pytest.approx(r.mtf50_cpp, rel=0.03)


def test_mtf_estimator_edge_with_stated_truth(shared_data):
    """angle 16.776550 deg, Gaussian FWHM 2.101313 px blurred along rows, point sampled.

    A 1-D Gaussian along x seen along the edge normal has sigma * cos(theta); no pixel aperture.
    """
    img = read_image(shared_data / "sfr" / "mtf_estimator" / "myedge_angle_16.776550_fwhm_2.101313.tif")
    r = measure_sfr(img)
    assert r.angle_deg == pytest.approx(-16.776550, abs=2e-3)  # the edge moves to -x going down
    sigma_n = 2.101313 / (2 * np.sqrt(2 * np.log(2))) * np.cos(np.radians(16.776550))
    truth = np.exp(-2 * np.pi**2 * sigma_n**2 * r.frequencies_cpp**2)
    below = r.frequencies_cpp <= 0.5
    assert np.max(np.abs(r.sfr[below] - truth[below])) < 0.002  # measured 1e-4
    mtf50 = np.sqrt(np.log(2) / (2 * np.pi**2)) / sigma_n
    assert r.mtf50_cpp == pytest.approx(mtf50, rel=1e-3)  # measured 0.02 %
