"""EMVA 1288 characterization of simulated sensors gives back their own parameters.

The simulated frames go through the full noise chain of ``focuslab.sensor.expose`` (Poisson
shot noise, dark-current shot noise, read noise, PRNU/DSNU maps, full well, gain, ADC), so the
truth is the SensorSpec itself.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from focuslab.hw.emva import characterize_frames
from focuslab.hw.emva_simulate import SeriesDesign, series_plan, simulate_frames
from focuslab.sensor.presets import get_sensor

# 100 steps up to 1.1 x saturation (1.1 % apart), 64 frames for DSNU/PRNU; a dark current large
# enough to be measured from the dark variance over 1 s exposures
DESIGN = SeriesDesign(width_px=128, height_px=128, n_steps=100, max_exposure_s=1.0, overdrive=1.1, spatial_frames=64)
DARK_CURRENT_E_PER_S = 50.0


def _characterize(name: str, seed: int):
    spec = replace(get_sensor(name), dark_current_e_per_s=DARK_CURRENT_E_PER_S)
    res = characterize_frames(simulate_frames(spec, DESIGN, seed=seed), series_plan(spec, DESIGN), cfa=spec.cfa,
                              white_level_dn=spec.white_level_dn)
    return spec, res


@pytest.fixture(scope="module")
def mono():
    return _characterize("imx174_mono", 2)


@pytest.fixture(scope="module")
def bayer():
    return _characterize("imx258", 3)


def _rel(a: float, b: float) -> float:
    return abs(a / b - 1.0)


def test_mono_sensor_recovered_within_3_percent(mono):
    spec, res = mono
    s = res.channels["mono"].summary()
    assert _rel(s["system_gain_dn_per_e"], spec.conversion_gain_dn_per_e) < 0.03
    assert _rel(s["temporal_dark_noise_e"], spec.read_noise_e) < 0.03
    assert _rel(s["full_well_e"], spec.saturation_e) < 0.03
    assert _rel(s["dsnu_e"], spec.dsnu_e) < 0.03
    assert _rel(s["prnu_percent"], 100 * spec.prnu_fraction) < 0.03
    assert _rel(s["dark_current_mean_e_per_s"], DARK_CURRENT_E_PER_S) < 0.03
    assert _rel(s["dark_current_var_e_per_s"], DARK_CURRENT_E_PER_S) < 0.03
    assert _rel(s["quantum_efficiency"], spec.quantum_efficiency) < 0.03
    # EMVA saturation capacity (variance maximum) sits 2-3 sigma of the pixel spread below the
    # clipping level: sigma = sqrt(FW + (PRNU FW)^2) = 0.75 % of FW here, plus one 1.1 % step
    spread = math.sqrt(spec.saturation_e + (spec.prnu_fraction * spec.saturation_e) ** 2) / spec.saturation_e
    assert 1 - 3 * spread - 0.011 - 0.005 < s["saturation_capacity_e"] / spec.saturation_e <= 1.0
    assert s["snr_max"] == pytest.approx(math.sqrt(s["saturation_capacity_e"]))
    assert not res.notes  # 100 steps, saturation reached, darks at 100 exposure times


def test_mono_derived_figures_follow_the_linear_model(mono):
    spec, res = mono
    t = res.channels["mono"].temporal
    s_dark = t.temporal_dark_noise_dn / t.system_gain_dn_per_e
    assert t.sensitivity_threshold_e == pytest.approx(0.5 + math.sqrt(0.25 + s_dark**2))
    assert t.dynamic_range_db == pytest.approx(20 * math.log10(t.saturation_capacity_e / t.sensitivity_threshold_e))
    assert t.dynamic_range_bits == pytest.approx(t.dynamic_range_db / (20 * math.log10(2)))
    # the sensor is linear: linearity error well below 0.5 % (shot noise of 16 k pixels)
    assert abs(t.linearity_error_min_percent) < 0.5 and abs(t.linearity_error_max_percent) < 0.5
    assert t.linearity_error_min_percent < 0 < t.linearity_error_max_percent
    # the measured SNR follows the model within 3 % over the photon-transfer fit range
    fit = t.gain_fit_indices[t.signal_e()[t.gain_fit_indices] > 100]
    ratio = t.snr_measured()[fit] / t.snr_theory(t.signal_e()[fit])
    assert np.all(np.abs(ratio - 1) < 0.03)
    # white DSNU/PRNU: flat spectrograms whose mean power is the spatial variance (Parseval)
    sp = res.channels["mono"].spatial
    f, amp_e = sp.spectrograms["dsnu_horizontal_e"]
    assert f[0] == 0 and f[-1] == pytest.approx(0.5)
    floor = sp.spectrogram_noise_floor["dsnu_e"]
    assert np.sqrt(np.mean(amp_e[1:] ** 2) - floor**2) == pytest.approx(spec.dsnu_e, rel=0.05)


def test_bayer_sensor_recovered_per_channel(bayer):
    spec, res = bayer
    assert list(res.channels) == ["R", "Gr", "Gb", "B"]
    response = dict(zip("RGB", spec.channel_response, strict=True))
    for name, ch in res.channels.items():
        s = ch.summary()
        assert _rel(s["system_gain_dn_per_e"], spec.conversion_gain_dn_per_e) < 0.03, name
        assert _rel(s["temporal_dark_noise_e"], spec.read_noise_e) < 0.03, name
        assert _rel(s["full_well_e"], spec.saturation_e) < 0.03, name
        assert _rel(s["prnu_percent"], 100 * spec.prnu_fraction) < 0.03, name
        assert _rel(s["dark_current_mean_e_per_s"], DARK_CURRENT_E_PER_S) < 0.03, name
        assert _rel(s["dark_current_var_e_per_s"], DARK_CURRENT_E_PER_S) < 0.03, name
        assert _rel(s["quantum_efficiency"], spec.quantum_efficiency * response[name[0]]) < 0.03, name
        # 10-bit ADC at 5.2 e-/DN: the averaged dark image keeps some quantization error
        assert _rel(s["dsnu_e"], spec.dsnu_e) < 0.04, name


def test_saturated_and_unsaturated_series_are_told_apart():
    spec = get_sensor("imx174_mono")
    short = SeriesDesign(width_px=32, height_px=32, n_steps=12, overdrive=1.3)
    res = characterize_frames(simulate_frames(spec, short, seed=0), series_plan(spec, short), cfa="mono",
                              white_level_dn=spec.white_level_dn)
    assert res.channels["mono"].temporal.saturation_reached
    assert any("recommends >= 50" in n for n in res.notes)
    # the same series cut after 7 of its 12 steps stops at 76 % of saturation
    plan = series_plan(spec, short)
    kept = {k: n for k, n in plan.items() if k.exposure_s <= 7.01 * short.max_exposure_s / 12}
    frames = ((k, f) for k, f in simulate_frames(spec, short, seed=0) if k in kept)
    res = characterize_frames(frames, kept, cfa="mono", white_level_dn=spec.white_level_dn)
    assert not res.channels["mono"].temporal.saturation_reached
    assert any("saturation may not be reached" in n for n in res.notes)
