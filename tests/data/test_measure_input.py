"""Loading files for measurement: scaling by bit depth, raw planes, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from focuslab.data.image_files import write_png
from focuslab.data.measure_input import cfa_plane, load_measurement_image
from focuslab.errors import InputFileError, InvalidParameterError


def test_bit_depth_scaling(tmp_path):
    write_png(tmp_path / "a8.png", np.array([[0, 51, 255]], np.uint8))
    write_png(tmp_path / "a16.png", np.array([[0, 13107, 65535]], np.uint16))
    for name, bits in (("a8.png", 8), ("a16.png", 16)):
        m = load_measurement_image(tmp_path / name)
        np.testing.assert_allclose(m.data, [[0.0, 0.2, 1.0]], atol=1e-12)
        assert m.bit_depth == bits and not m.linear and not m.is_raw
        assert m.clipped_fraction == pytest.approx(1 / 3)


@pytest.mark.parametrize(("cfa", "which", "cell"), [
    ("RGGB", "R", (0, 0)), ("RGGB", "G", (0, 1)), ("RGGB", "G2", (1, 0)), ("RGGB", "B", (1, 1)),
    ("GRBG", "G", (0, 0)), ("GRBG", "R", (0, 1)), ("GRBG", "G2", (1, 1)), ("BGGR", "B", (0, 0)),
])
def testcfa_planes(cfa, which, cell):
    mosaic = np.arange(36.0).reshape(6, 6)
    np.testing.assert_array_equal(cfa_plane(mosaic, cfa, which), mosaic[cell[0]::2, cell[1]::2])


def test_errors(tmp_path):
    with pytest.raises(InputFileError, match="does not exist"):
        load_measurement_image(tmp_path / "nope.png")
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(InputFileError, match="unsupported file type"):
        load_measurement_image(tmp_path / "x.txt")
    (tmp_path / "trunc.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(InputFileError, match="cannot decode"):
        load_measurement_image(tmp_path / "trunc.png")
    with pytest.raises(InvalidParameterError, match="raw_mode"):
        load_measurement_image(tmp_path / "x.txt", raw_mode="cfa:Q")


@pytest.mark.shared_data
def test_real_dng_planes(shared_data):
    path = shared_data / "raw" / "Blackmagic.dng"
    full = load_measurement_image(path, raw_mode="mosaic")
    assert full.is_raw and full.linear and full.cfa == "RGGB" and full.data.shape == (2176, 4128)
    g = load_measurement_image(path, raw_mode="cfa:G")
    assert g.data.shape == (1088, 2064) and g.sample_pitch_factor == 2
    np.testing.assert_array_equal(g.data, full.data[0::2, 1::2])
    rgb = load_measurement_image(path, raw_mode="demosaic")
    assert rgb.data.shape == (2176, 4128, 3)
    # the demosaiced green averages to the mosaic's greens
    assert rgb.data[..., 1].mean() == pytest.approx(full.data[0::2, 1::2].mean(), rel=0.02)
