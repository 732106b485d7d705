"""The pixel-noise estimate behind every contrast threshold (af_signals.robust_noise_sigma)."""

from __future__ import annotations

import numpy as np
import pytest

from focuslab.af.af_signals import focus_value, robust_noise_sigma


def test_white_noise_on_continuous_data():
    rng = np.random.default_rng(0)
    plane = 1.0 + 0.05 * rng.standard_normal((128, 128))
    assert robust_noise_sigma(plane, "RGGB") == pytest.approx(0.05, rel=0.05)
    assert robust_noise_sigma(plane, None) == pytest.approx(0.05, rel=0.05)


@pytest.mark.parametrize("mean_dn", [0.5, 1.0])
def test_quantized_photon_noise_is_not_read_as_none(mean_dn):
    """A dark preview: photon counts of a texture with dark blotches, about one DN on average
    (the low-light suites' 3-12 lux regions: most pixels read exactly black, as here 70-80 %).
    Two independent frames give the truth. The median of the Laplacian, 0 over the black
    blotches, read half of it or less (0-0.17x on the suites' dark regions)."""
    rng = np.random.default_rng(int(mean_dn * 10))
    y, x = np.mgrid[0:96, 0:96]
    lam = 2.0 * mean_dn * (0.5 + 0.5 * np.sin(x / 6.0) * np.sin(y / 9.0)) ** 3

    a, b = rng.poisson(lam).astype(float), rng.poisson(lam).astype(float)
    mu = a.mean()
    truth = float(np.std(a - b) / np.sqrt(2)) / mu
    est = robust_noise_sigma(a / mu, "RGGB")
    assert est == pytest.approx(truth, rel=0.1)
    # and the focus value's predicted noise follows it: thresholds scale with the real noise
    fv = focus_value(a, cfa="RGGB")
    assert fv.noise_sigma == pytest.approx(est, rel=0.05) and fv.noise > 0


def test_finely_quantized_noise_keeps_the_median_estimate():
    rng = np.random.default_rng(3)
    fine = np.round(1000.0 + 8.0 * rng.standard_normal((64, 64)))  # 8 DN of noise: few exact zeros
    assert robust_noise_sigma(fine / 1000.0, None) == pytest.approx(0.008, rel=0.1)
