"""Dual-pixel exposure: per-photodiode charge, half full well, one read of the charge sum."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from focuslab.errors import InvalidParameterError
from focuslab.sensor import expose, get_sensor

SHAPE = (128, 128, 3)
ROI = (200, 100, 128, 128)


def test_left_right_and_sum_means():
    spec = get_sensor("imx363")
    left = np.full(SHAPE, 1500.0)
    right = np.full(SHAPE, 500.0)
    raw = expose(spec, left + right, exposure_s=0.01, seed=4, roi=ROI, left_photons=left, right_photons=right)
    assert raw.has_dual_pixel and raw.left.shape == raw.data.shape == (128, 128)
    k, b = spec.conversion_gain_dn_per_e, spec.black_level_dn
    g = raw.channel_masks()[..., 1]
    qe_g = spec.quantum_efficiency  # green response 1.0
    assert raw.left[g].mean() - b == pytest.approx(1500 * qe_g * k, rel=0.01)
    assert raw.right[g].mean() - b == pytest.approx(500 * qe_g * k, rel=0.01)
    assert raw.data[g].mean() - b == pytest.approx(2000 * qe_g * k, rel=0.01)
    lnorm, rnorm = raw.normalized_pair()
    assert lnorm.dtype == np.float32
    assert lnorm[g].mean() + rnorm[g].mean() == pytest.approx(raw.normalized()[g].mean(), rel=0.01)


def test_sum_is_read_once():
    """var(data) carries one read noise; var(left) + var(right) carries two."""
    spec = dataclasses.replace(get_sensor("imx174_mono"), prnu_fraction=0.0, dsnu_e=0.0, dual_pixel=True)
    shape = (128, 128, 1)
    half = np.full(shape, 1000.0)
    k, s = spec.conversion_gain_dn_per_e, spec.read_noise_e
    raws = [
        expose(spec, 2 * half, exposure_s=0.0, seed=i, roi=ROI, left_photons=half, right_photons=half)
        for i in (1, 2)
    ]
    var = {
        n: 0.5 * np.var(getattr(raws[0], n).astype(float) - getattr(raws[1], n).astype(float))
        for n in ("data", "left", "right")
    }
    shot = k * k * spec.quantum_efficiency * 1000.0
    assert var["left"] == pytest.approx(shot + k * k * s * s + 1 / 12, rel=0.04)
    assert var["data"] == pytest.approx(2 * shot + k * k * s * s + 1 / 12, rel=0.04)


def test_half_full_well_per_photodiode():
    spec = dataclasses.replace(get_sensor("imx363"), read_noise_e=0.0)
    big = np.full(SHAPE, 1e6)
    raw = expose(spec, big, exposure_s=0.01, seed=1, roi=ROI, left_photons=big, right_photons=np.zeros(SHAPE))
    k, b = spec.conversion_gain_dn_per_e, spec.black_level_dn
    assert np.all(raw.left == np.rint(3000 * k + b))  # half the 6000 e- well
    assert np.all(raw.right == 64)
    assert np.all(raw.data == np.rint(3000 * k + b))  # the sum holds what the left diode held


def test_dual_pixel_determinism_and_fpn():
    spec = get_sensor("tele_1p0um")
    lp = np.full(SHAPE, 300.0)
    a = expose(spec, 2 * lp, exposure_s=0.01, seed=8, roi=ROI, left_photons=lp, right_photons=lp)
    b = expose(spec, 2 * lp, exposure_s=0.01, seed=8, roi=ROI, left_photons=lp, right_photons=lp)
    assert a.left.tobytes() == b.left.tobytes() and a.right.tobytes() == b.right.tobytes()
    assert a.data.tobytes() == b.data.tobytes()


def test_dual_pixel_bad_inputs():
    spec = get_sensor("imx363")
    ph = np.ones(SHAPE)
    with pytest.raises(InvalidParameterError, match="both"):
        expose(spec, ph, exposure_s=0.01, seed=1, roi=ROI, left_photons=ph)
    with pytest.raises(InvalidParameterError, match="no dual pixel"):
        expose(get_sensor("imx258"), ph, exposure_s=0.01, seed=1, roi=ROI, left_photons=ph, right_photons=ph)
    with pytest.raises(InvalidParameterError):
        expose(spec, ph, exposure_s=0.01, seed=1, roi=ROI, left_photons=ph, right_photons=ph[:, :, :1])
    bad = ph.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(InvalidParameterError):
        expose(spec, ph, exposure_s=0.01, seed=1, roi=ROI, left_photons=bad, right_photons=ph)
