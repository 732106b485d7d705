"""The noise chain of `expose`: shot noise, clipping, black level, FPN, determinism, bad input."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from focuslab.errors import InvalidParameterError
from focuslab.sensor import RawFrame, SensorSpec, expose, fpn_maps, get_sensor


def spec_(**kw) -> SensorSpec:
    """A 16-bit 'electron counter': K = 1 DN/e-, no temporal or fixed noise unless asked."""
    base = dict(
        name="counter",
        pixel_pitch_um=2.0,
        width_px=320,
        height_px=200,
        quantum_efficiency=1.0,
        full_well_e=60000.0,
        read_noise_e=0.0,
        dark_current_e_per_s=0.0,
        prnu_fraction=0.0,
        dsnu_e=0.0,
        adc_bits=16,
        black_level_dn=0.0,
        conversion_gain_dn_per_e=1.0,
        cfa="mono",
        fpn_seed=11,
    )
    base.update(kw)
    return SensorSpec(**base)


@pytest.mark.parametrize("mean_e", [5.0, 50.0, 500.0, 5000.0])
def test_shot_noise_is_poisson(mean_e):
    spec = spec_()
    roi = (0, 0, 256, 200)
    raw = expose(spec, np.full((200, 256, 1), mean_e), exposure_s=0.01, seed=3, roi=roi)
    e = raw.data.astype(np.float64)
    n = e.size
    assert e.mean() == pytest.approx(mean_e, abs=4 * np.sqrt(mean_e / n))
    # variance / mean = 1 within 4 sigma of the sample variance (sqrt(2/n) relative, ~0.6 %)
    assert e.var() / e.mean() == pytest.approx(1.0, abs=4 * np.sqrt(2.0 / n) + 0.01 / mean_e)


def test_qe_and_channel_response_scale_the_mean():
    spec = spec_(quantum_efficiency=0.5, cfa="RGGB", channel_response=(0.5, 1.0, 0.25))
    raw = expose(spec, np.full((200, 320, 3), 4000.0), exposure_s=0.01, seed=1)
    m = raw.channel_masks()
    d = raw.data.astype(float)
    assert d[m[..., 0]].mean() == pytest.approx(1000.0, rel=0.01)
    assert d[m[..., 1]].mean() == pytest.approx(2000.0, rel=0.01)
    assert d[m[..., 2]].mean() == pytest.approx(500.0, rel=0.01)


def test_cfa_picks_each_pixels_channel():
    spec = spec_(cfa="GRBG")
    photons = np.zeros((200, 320, 3))
    photons[..., 2] = 1000.0  # only blue light
    raw = expose(spec, photons, exposure_s=0.0, seed=1)
    assert np.all(raw.data[1::2, 0::2] > 800)  # GRBG: B at odd rows, even columns
    assert np.all(raw.data[0::2, :] == 0) and np.all(raw.data[1::2, 1::2] == 0)


def test_mono_sums_the_bands():
    spec = spec_()
    a = expose(spec, np.full((200, 320, 3), 100.0), exposure_s=0.0, seed=5).data.astype(float)
    assert a.mean() == pytest.approx(300.0, rel=0.01)


def test_dark_current_mean():
    spec = spec_(dark_current_e_per_s=200.0)
    raw = expose(spec, np.zeros((200, 320, 1)), exposure_s=0.5, seed=2)
    assert raw.data.mean() == pytest.approx(100.0, rel=0.01)
    assert raw.data.var() == pytest.approx(100.0, rel=0.05)


def test_full_well_clip():
    spec = spec_(full_well_e=6000.0, conversion_gain_dn_per_e=0.1, black_level_dn=64.0, adc_bits=12)
    raw = expose(spec, np.full((200, 320, 1), 1e6), exposure_s=0.01, seed=1)
    assert np.all(raw.data == 664)  # 6000 e- * 0.1 DN/e- + 64 DN, below the 4095 white level
    # ADC clip: full well beyond the range saturates at the white level
    imx = get_sensor("imx363")
    r = expose(imx, np.full((64, 64, 3), 1e6), exposure_s=0.01, seed=1, roi=(0, 0, 64, 64))
    # read noise after the clip: saturated pixels sit within a few K sigma_r (0.8 DN) of 1023
    assert r.white_level_dn == 1023 and r.data.max() == 1023
    assert r.data.min() >= 1023 - 5 * imx.read_noise_e * imx.conversion_gain_dn_per_e
    quiet = dataclasses.replace(imx, read_noise_e=0.0)
    q = expose(quiet, np.full((64, 64, 3), 1e6), exposure_s=0.01, seed=1, roi=(0, 0, 64, 64))
    assert np.all(q.data == 1023)


def test_black_level_and_read_noise():
    spec = spec_(black_level_dn=200.0, read_noise_e=4.0, adc_bits=12)
    raw = expose(spec, np.zeros((200, 320, 1)), exposure_s=0.01, seed=9)
    d = raw.data.astype(float)
    assert raw.black_level_dn == 200.0
    assert d.mean() == pytest.approx(200.0, abs=0.05)
    assert d.var() - 1 / 12 == pytest.approx(16.0, rel=0.03)
    clean = expose(spec_(black_level_dn=200.0), np.zeros((200, 320, 1)), exposure_s=0.01, seed=9)
    assert np.all(clean.data == 200)


def test_black_clip_at_zero_dn():
    spec = spec_(black_level_dn=2.0, read_noise_e=20.0)
    raw = expose(spec, np.zeros((200, 320, 1)), exposure_s=0.01, seed=9)
    assert raw.data.min() == 0  # negative excursions clip at 0 DN, never wrap around


def test_prnu_rms_matches_spec():
    spec = spec_(prnu_fraction=0.02)
    gain, _ = fpn_maps(spec, (0, 0, 320, 200))
    assert np.std(gain) == pytest.approx(0.02, rel=0.02)  # 64 000 samples: ~0.3 % sampling error
    assert np.mean(gain) == pytest.approx(1.0, abs=5e-4)
    # end to end (EMVA 1288 Sec. 8): spatial variance of an L-frame average minus temporal/L
    mu, frames = 20000.0, 8
    stack = np.stack(
        [
            expose(spec, np.full((200, 320, 1), mu), exposure_s=0.0, seed=s).data.astype(float)
            for s in range(frames)
        ]
    )
    temporal = stack.var(axis=0, ddof=1).mean()
    spatial = stack.mean(axis=0).var() - temporal / frames
    assert np.sqrt(spatial) / stack.mean() == pytest.approx(0.02, rel=0.05)


def test_dsnu_rms_matches_spec():
    spec = spec_(dsnu_e=3.0, black_level_dn=100.0)
    _, offset = fpn_maps(spec, (0, 0, 320, 200))
    assert np.std(offset) == pytest.approx(3.0, rel=0.02)
    raw = expose(spec, np.zeros((200, 320, 1)), exposure_s=0.01, seed=0)
    # no temporal noise: the frame is the offset map, rounded (+1/12 DN^2)
    assert raw.data.astype(float).var() - 1 / 12 == pytest.approx(9.0, rel=0.03)


def test_fpn_identical_across_seeds_and_between_frame_and_roi():
    spec = spec_(dsnu_e=3.0, black_level_dn=100.0)
    dark = np.zeros((200, 320, 1))
    full_a = expose(spec, dark, exposure_s=0.01, seed=1)
    full_b = expose(spec, dark, exposure_s=0.01, seed=2)
    np.testing.assert_array_equal(full_a.data, full_b.data)
    roi = (77, 45, 130, 70)  # crosses FPN tile borders
    sub = expose(spec, np.zeros((70, 130, 1)), exposure_s=0.01, seed=5, roi=roi)
    np.testing.assert_array_equal(sub.data, full_a.data[45:115, 77:207])
    assert sub.roi == roi
    g_full, o_full = fpn_maps(dataclasses.replace(spec, prnu_fraction=0.01), (0, 0, 320, 200))
    g_roi, o_roi = fpn_maps(dataclasses.replace(spec, prnu_fraction=0.01), roi)
    np.testing.assert_array_equal(g_roi, g_full[45:115, 77:207])
    np.testing.assert_array_equal(o_roi, o_full[45:115, 77:207])
    # another sensor instance (fpn_seed) has another pattern
    other = expose(dataclasses.replace(spec, fpn_seed=12), dark, exposure_s=0.01, seed=1)
    assert not np.array_equal(other.data, full_a.data)


def test_determinism():
    spec = get_sensor("imx363")
    photons = np.full((64, 96, 3), 800.0, np.float32)
    roi = (10, 20, 96, 64)
    a = expose(spec, photons, exposure_s=0.01, seed=42, roi=roi)
    b = expose(spec, photons, exposure_s=0.01, seed=42, roi=roi)
    c = expose(spec, photons, exposure_s=0.01, seed=43, roi=roi)
    assert a.data.tobytes() == b.data.tobytes()
    assert a.data.tobytes() != c.data.tobytes()
    g = expose(spec, photons, exposure_s=0.01, seed=np.random.default_rng(42), roi=roi)
    assert g.data.tobytes() == a.data.tobytes()


def test_output_metadata_and_roi_cfa_phase():
    spec = get_sensor("imx363")
    raw = expose(spec, np.full((32, 32, 3), 100.0), exposure_s=0.02, seed=1, roi=(3, 0, 32, 32))
    assert isinstance(raw, RawFrame) and raw.data.dtype == np.uint16 and raw.data.shape == (32, 32)
    assert raw.cfa == "GRBG"  # RGGB seen from an odd column
    assert raw.exposure_s == 0.02 and raw.roi == (3, 0, 32, 32)
    assert raw.left is None and raw.black_level_dn == 64


def test_input_not_modified():
    photons = np.full((200, 320, 1), 10.0)
    before = photons.copy()
    expose(spec_(prnu_fraction=0.01), photons, exposure_s=0.01, seed=1)
    np.testing.assert_array_equal(photons, before)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, -1.0])
def test_bad_photon_values(bad):
    photons = np.ones((200, 320, 1))
    photons[5, 5, 0] = bad
    with pytest.raises(InvalidParameterError):
        expose(spec_(), photons, exposure_s=0.01, seed=1)


@pytest.mark.parametrize(
    ("shape", "roi"),
    [((100, 320, 1), None), ((200, 320, 2), None), ((200, 320, 1, 1), None), ((10, 10, 1), (0, 0, 12, 10))],
)
def test_bad_photon_shapes(shape, roi):
    with pytest.raises(InvalidParameterError, match="shape"):
        expose(spec_(), np.ones(shape), exposure_s=0.01, seed=1, roi=roi)


@pytest.mark.parametrize("roi", [(-1, 0, 10, 10), (315, 0, 10, 10), (0, 0, 0, 5), (0, 195, 10, 10), "abc"])
def test_bad_roi(roi):
    with pytest.raises(InvalidParameterError):
        expose(spec_(), np.ones((10, 10, 1)), exposure_s=0.01, seed=1, roi=roi)


def test_colour_sensor_needs_three_channels():
    with pytest.raises(InvalidParameterError, match="3"):
        expose(spec_(cfa="RGGB"), np.ones((200, 320, 1)), exposure_s=0.01, seed=1)


def test_bad_exposure_and_spec():
    with pytest.raises(InvalidParameterError):
        expose(spec_(), np.ones((200, 320, 1)), exposure_s=-1.0, seed=1)
    with pytest.raises(InvalidParameterError):
        expose("imx363", np.ones((200, 320, 1)), exposure_s=0.01, seed=1)  # type: ignore[arg-type]


def test_binned_modes_read_noise_in_dark_frames():
    from focuslab.sensor import BinningMode

    spec = spec_(read_noise_e=8.0, black_level_dn=100.0)
    dark = np.zeros((100, 160, 1))
    for mode, sigma_e in ((BinningMode.CHARGE, 8.0), (BinningMode.DIGITAL, 16.0)):
        b = spec.binned(2, mode=mode)
        d = expose(b, dark, exposure_s=0.0, seed=1).data.astype(float)
        # output scaled as an average: K / 4 DN per binned electron
        assert d.var() - 1 / 12 == pytest.approx((sigma_e / 4) ** 2, rel=0.05)
    # a binned pixel with 4x the photons and 4x the well keeps the DN level of the unbinned one
    full = expose(spec, np.full((200, 320, 1), 1000.0), exposure_s=0.0, seed=2).data.mean()
    binned = expose(spec.binned(2), np.full((100, 160, 1), 4000.0), exposure_s=0.0, seed=2).data.mean()
    assert binned == pytest.approx(full, rel=0.005)


def test_fpn_maps_are_cached_and_read_only():
    spec = spec_(prnu_fraction=0.01, dsnu_e=1.0)
    g1, o1 = fpn_maps(spec, (0, 0, 64, 64))
    g2, _ = fpn_maps(spec, (0, 0, 64, 64))
    assert g1 is g2
    with pytest.raises(ValueError):
        g1[0, 0] = 2.0
    with pytest.raises(ValueError):
        o1[0, 0] = 2.0
