"""process_raw on simulated frames and the real Blackmagic DNG; read_dng errors."""

from __future__ import annotations

import numpy as np
import pytest

from focuslab.errors import InputFileError, InvalidParameterError, UnknownNameError
from focuslab.isp import grey_world_gains, process_raw, read_dng, srgb_encode
from focuslab.sensor import RawFrame, expose, get_sensor


def flat_raw(cfa: str, rgb_linear, *, black=64.0, white=1023.0, shape=(16, 20)) -> RawFrame:
    from focuslab.sensor import cfa_channel_index

    idx = cfa_channel_index(cfa, shape)
    signal = np.asarray(rgb_linear)[idx]
    data = np.rint(black + signal * (white - black)).astype(np.uint16)
    return RawFrame(
        data=data,
        black_level_dn=black,
        white_level_dn=white,
        cfa=cfa,
        exposure_s=0.01,
        roi=(0, 0, shape[1], shape[0]),
    )


@pytest.mark.parametrize("cfa", ["RGGB", "BGGR", "GRBG", "GBRG"])
def test_grey_card_comes_out_neutral(cfa):
    tint = np.array([0.3, 0.5, 0.25])  # a grey card seen through unequal channel responses
    raw = flat_raw(cfa, tint)
    gains = (0.5 / 0.3, 1.0, 2.0)
    out = process_raw(raw, wb_gains=gains, encode_srgb=False)
    assert out.shape == (16, 20, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out, 0.5, atol=2e-3)  # 1 DN of quantization at 10 bits
    enc = process_raw(raw, wb_gains=gains)
    np.testing.assert_allclose(enc, srgb_encode(np.float32(0.5)), atol=3e-3)
    # no gains given: grey world on the frame does the same for a uniform card
    np.testing.assert_allclose(process_raw(raw, encode_srgb=False), 0.5, atol=2e-3)


def test_ccm_and_clip():
    raw = flat_raw("RGGB", [0.4, 0.4, 0.4])
    ccm = np.array([[1.5, -0.25, -0.25], [0.0, 1.0, 0.0], [-0.5, 0.0, 1.5]])
    out = process_raw(raw, wb_gains=(1, 1, 1), ccm=ccm, encode_srgb=False)
    np.testing.assert_allclose(out, 0.4, atol=2e-3)  # grey is preserved by a white-preserving CCM
    bright = flat_raw("RGGB", [1.0, 1.0, 1.0])
    assert process_raw(bright, wb_gains=(2.0, 1.0, 2.0)).max() <= 1.0


def test_mono_frame_gives_three_equal_channels():
    spec = get_sensor("imx174_mono")
    raw = expose(spec, np.full((32, 32, 1), 5000.0), exposure_s=0.01, seed=1, roi=(0, 0, 32, 32))
    out = process_raw(raw)
    assert out.shape == (32, 32, 3)
    np.testing.assert_array_equal(out[..., 0], out[..., 2])


def test_simulated_white_is_balanced_by_grey_world():
    spec = get_sensor("imx363")
    photons = np.full((64, 64, 3), 3000.0) * np.array([0.52, 0.25, 0.23]) / 0.25
    raw = expose(spec, photons, exposure_s=0.01, seed=1, roi=(0, 0, 64, 64))
    out = process_raw(raw, encode_srgb=False)
    means = out.reshape(-1, 3).mean(axis=0)
    np.testing.assert_allclose(means / means[1], 1.0, atol=0.01)


def test_process_raw_bad_arguments():
    raw = flat_raw("RGGB", [0.3, 0.3, 0.3])
    with pytest.raises(UnknownNameError):
        process_raw(raw, demosaic="VNG")
    with pytest.raises(InvalidParameterError):
        process_raw(raw, wb_gains=(1.0, 0.0, 1.0))
    with pytest.raises(InvalidParameterError):
        process_raw(raw, ccm=np.eye(3) * 3)
    with pytest.raises(InvalidParameterError):
        process_raw(np.zeros((4, 4), np.uint16))  # type: ignore[arg-type]


def test_read_dng_missing_and_corrupt(tmp_path):
    with pytest.raises(InputFileError, match="does not exist"):
        read_dng(tmp_path / "nope.dng")
    junk = tmp_path / "junk.dng"
    junk.write_bytes(b"II*\x00" + b"\x00" * 200)
    with pytest.raises(InputFileError):
        read_dng(junk)
    with pytest.raises(InputFileError):
        read_dng(tmp_path)  # a folder


@pytest.mark.shared_data
def test_real_blackmagic_dng(shared_data):
    raw = read_dng(shared_data / "raw" / "Blackmagic.dng")
    assert raw.data.shape == (2176, 4128) and raw.data.dtype == np.uint16
    assert raw.black_level_dn == 512
    assert raw.cfa == "RGGB"
    assert raw.white_level_dn > raw.black_level_dn
    gains = raw.metadata["as_shot_wb_gains"]
    assert gains[1] == 1.0 and 1.0 < gains[0] < 4.0 and 1.0 < gains[2] < 4.0  # daylight-ish
    ccm = np.asarray(raw.metadata["camera_to_srgb_ccm"])
    np.testing.assert_allclose(ccm.sum(axis=1), 1.0, atol=1e-3)
    # process a central crop (even origin keeps RGGB) with the camera's WB and matrix
    crop = raw.crop((1024, 576, 1024, 768))
    assert crop.cfa == "RGGB" and crop.roi == (1024, 576, 1024, 768)
    img = process_raw(crop, encode_srgb=False)
    assert img.shape == (768, 1024, 3) and img.dtype == np.float32
    assert np.all(np.isfinite(img)) and 0.0 <= img.min() and img.max() <= 1.0
    assert 0.02 < img.mean() < 0.9
    # after the as-shot white balance a grey-world estimate needs only small corrections
    g = grey_world_gains(img, saturation=1.0)
    assert 0.6 < g[0] < 1.6 and 0.6 < g[2] < 1.6
