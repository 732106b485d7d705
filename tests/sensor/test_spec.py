"""SensorSpec validation, derived properties, binned modes, presets."""

from __future__ import annotations

import dataclasses
import math

import pytest

from focuslab.errors import FocuslabError, InvalidParameterError, UnknownNameError
from focuslab.sensor import BinningMode, SensorSpec, get_sensor, sensor_names
from focuslab.sensor.presets import register_sensor


def small_spec(**kw) -> SensorSpec:
    base = dict(
        name="t",
        pixel_pitch_um=1.4,
        width_px=64,
        height_px=48,
        quantum_efficiency=0.8,
        full_well_e=6000.0,
        read_noise_e=2.0,
        dark_current_e_per_s=1.0,
        prnu_fraction=0.01,
        dsnu_e=1.0,
        adc_bits=12,
        black_level_dn=64.0,
        conversion_gain_dn_per_e=0.5,
    )
    base.update(kw)
    return SensorSpec(**base)


def test_imx363_preset_values():
    s = get_sensor("imx363")
    assert (s.width_px, s.height_px, s.pixel_pitch_um, s.adc_bits) == (4032, 3024, 1.4, 10)
    assert s.full_well_e == 6000 and s.read_noise_e == 5 and s.black_level_dn == 64
    assert s.cfa == "RGGB" and s.dual_pixel
    # full well maps onto the 10-bit range: K = (1023 - 64) / 6000
    assert s.conversion_gain_dn_per_e == pytest.approx(959 / 6000, rel=1e-12)
    assert s.e_per_dn == pytest.approx(6000 / 959, rel=1e-12)
    assert s.white_level_dn == 1023
    assert s.size_mm == pytest.approx((5.6448, 4.2336))
    assert s.saturation_e == pytest.approx(6000.0)
    # 20 log10(6000 / sqrt(5^2 + (6.257)^2 / 12)) = 61.05 dB
    assert s.dynamic_range_db == pytest.approx(20 * math.log10(6000 / math.hypot(5, s.e_per_dn / 12**0.5)))
    assert s.snr_max_db == pytest.approx(10 * math.log10(6000))


def test_presets_cover_required_kinds():
    specs = [get_sensor(n) for n in sensor_names()]
    assert len(specs) >= 4
    assert any(s.dual_pixel for s in specs)
    assert any(not s.dual_pixel and not s.is_mono for s in specs)
    assert any(s.is_mono for s in specs)
    assert any(1.0 <= s.pixel_pitch_um <= 1.12 and s.adc_bits == 12 and not s.is_mono for s in specs)
    for s in specs:  # every preset maps full well to the ADC range
        assert s.full_well_e * s.conversion_gain_dn_per_e + s.black_level_dn == pytest.approx(
            s.white_level_dn
        )


def test_unknown_preset_lists_names():
    with pytest.raises(UnknownNameError, match="imx363"):
        get_sensor("imx999")


def test_duplicate_registration_refused():
    with pytest.raises(InvalidParameterError, match="already registered"):
        register_sensor("imx363")(lambda: small_spec())


@pytest.mark.parametrize(
    "kw",
    [
        {"adc_bits": 0},
        {"adc_bits": 17},
        {"adc_bits": 10.0},
        {"black_level_dn": 4095.0},
        {"black_level_dn": 5000.0},
        {"black_level_dn": -1.0},
        {"cfa": "RGBG"},
        {"cfa": "rggb"},
        {"pixel_pitch_um": 0.0},
        {"pixel_pitch_um": float("nan")},
        {"width_px": 0},
        {"height_px": 2.5},
        {"quantum_efficiency": 1.2},
        {"quantum_efficiency": 0.0},
        {"full_well_e": -5.0},
        {"read_noise_e": float("inf")},
        {"read_noise_e": -1.0},
        {"dark_current_e_per_s": -1.0},
        {"prnu_fraction": 0.6},
        {"dsnu_e": float("nan")},
        {"conversion_gain_dn_per_e": 0.0},
        {"fpn_seed": -1},
        {"dual_pixel": 1},
        {"channel_response": (1.0, 1.0)},
        {"channel_response": (1.0, 1.5, 1.0)},
        {"name": ""},
    ],
)
def test_bad_fields_raise(kw):
    with pytest.raises(InvalidParameterError) as info:
        small_spec(**kw)
    assert isinstance(info.value, FocuslabError)
    assert "\n" not in str(info.value)


def test_spec_is_frozen_and_hashable():
    s = small_spec()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.read_noise_e = 1.0  # type: ignore[misc]
    assert hash(s) == hash(small_spec())


def test_charge_binning():
    s = get_sensor("imx363")
    b = s.binned(2)
    assert b.name == "imx363_bin2"
    assert (b.width_px, b.height_px, b.pixel_pitch_um) == (2016, 1512, pytest.approx(2.8))
    assert b.full_well_e == pytest.approx(24000.0)
    assert b.read_noise_e == pytest.approx(5.0)
    assert b.dark_current_e_per_s == pytest.approx(4.0)
    assert b.prnu_fraction == pytest.approx(0.0035)
    assert b.conversion_gain_dn_per_e == pytest.approx(s.conversion_gain_dn_per_e / 4)
    # the binned full well still reaches exactly the white level
    assert b.full_well_e * b.conversion_gain_dn_per_e + b.black_level_dn == pytest.approx(1023)
    # SNR gain of binning (read-noise limited): DR rises
    assert b.dynamic_range_db > s.dynamic_range_db
    assert s.binned(1) == s


def test_digital_binning_pays_read_noise_per_pixel():
    s = small_spec()
    d = s.binned(3, mode=BinningMode.DIGITAL)
    assert d.read_noise_e == pytest.approx(3 * s.read_noise_e)
    assert d.dsnu_e == pytest.approx(3 * s.dsnu_e)
    assert d.full_well_e == pytest.approx(9 * s.full_well_e)
    assert (d.width_px, d.height_px) == (21, 16)


@pytest.mark.parametrize("factor", [0, -2, 1.5, True, 100])
def test_bad_binning_factor(factor):
    with pytest.raises(InvalidParameterError):
        small_spec().binned(factor)
