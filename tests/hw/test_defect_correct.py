"""Defect correction: corrected pixels come back within the local noise of the defect-free frame."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import ndimage

from focuslab.errors import InvalidParameterError
from focuslab.hw.defect_correct import correct_defects
from focuslab.hw.defect_planting import plant_defects
from focuslab.sensor import expose, get_sensor


def _scene(spec, *, seed: int, contrast: float = 0.10) -> np.ndarray:
    """Mean photons: left half a lens-blurred random texture (sigma 3 px) on a ramp, right half the ramp."""
    h, w = spec.shape_px
    rng = np.random.default_rng(seed)
    x = np.mgrid[0:h, 0:w][1]
    ramp = 0.3 + 0.4 * x / w
    tex = ndimage.gaussian_filter(rng.standard_normal((h, w)), 3.0)
    tex /= tex.std()
    rel = np.where(x < w // 2, ramp * (1 + contrast * tex), ramp)
    qe = spec.quantum_efficiency * (1.0 if spec.is_mono else max(spec.channel_response))
    ph = 0.6 * spec.saturation_e / qe * np.clip(rel, 0.02, 1.0)
    return np.repeat(ph[..., None], 1 if spec.is_mono else 3, axis=2)


@pytest.mark.parametrize("name", ["imx258", "imx174_mono"])
def test_corrected_pixels_are_within_the_local_noise(name):
    spec = dataclasses.replace(get_sensor(name), width_px=384, height_px=256)
    clean = expose(spec, _scene(spec, seed=3), exposure_s=0.01, seed=5).data.astype(np.float64)
    plan = plant_defects(spec, seed=4, n_hot=80, n_dead=80, n_stuck=40, n_clusters=20)
    m = plan.mask
    bad = clean.copy()
    bad[m] = 0.9 * spec.white_level_dn
    fixed = correct_defects(bad, m, cfa=spec.cfa)
    assert np.array_equal(fixed[~m], clean[~m])  # only defects change
    # local temporal noise of the truth at each defect, DN (EMVA 1288 Eq. 9; the spec's own model)
    signal_e = (clean[m] - spec.black_level_dn) / spec.conversion_gain_dn_per_e
    sigma_dn = spec.conversion_gain_dn_per_e * np.sqrt(spec.read_noise_e**2 + np.maximum(signal_e, 0.0))
    z = (fixed[m] - clean[m]) / sigma_dn
    textured = np.nonzero(m)[1] < spec.width_px // 2
    # measured: rms z 1.22 / 1.38 on the ramp and 1.50 / 1.40 on the texture (imx258 / imx174_mono);
    # interpolating from 8 noisy neighbours alone gives sqrt(1 + pi / 16) = 1.09
    assert np.sqrt(np.mean(z[~textured] ** 2)) < 1.6
    assert np.sqrt(np.mean(z[textured] ** 2)) < 1.8
    assert np.mean(np.abs(z) < 4) > 0.95
    z_uncorrected = (bad[m] - clean[m]) / sigma_dn
    assert np.sqrt(np.mean(z_uncorrected**2)) > 20


def test_directional_correction_keeps_a_line():
    """Defects on a thin blurred line: the pair along the line is used; the median of 8 cuts the line."""
    x = np.arange(64)[None, :] * np.ones((64, 1))
    img = 100.0 + 900.0 * np.exp(-((x - 31.3) ** 2) / (2 * 0.8**2))  # line profile sigma 0.8 px
    img += np.random.default_rng(0).normal(0, 2.0, img.shape)
    mask = np.zeros_like(img, dtype=bool)
    mask[10:60:6, 31] = True  # on the line (mono: neighbours are adjacent)
    bad = img.copy()
    bad[mask] = 4000.0
    fixed = correct_defects(bad, mask, cfa="mono")
    assert np.max(np.abs(fixed[mask] - img[mask])) < 10.0  # the noise of a pair mean is 1.4 DN
    cut = correct_defects(bad, mask, cfa="mono", edge_k=1e9)  # edge test disabled: median of 8
    assert np.min(np.abs(cut[mask] - img[mask])) > 150.0


def test_bayer_correction_uses_same_colour_neighbours_and_keeps_dtype():
    """A red pixel in a red/green checker of a Bayer mosaic is filled from red pixels only."""
    mosaic = np.full((16, 16), 200, dtype=np.uint16)
    mosaic[0::2, 0::2] = 900  # R plane of RGGB
    mask = np.zeros((16, 16), dtype=bool)
    mask[6, 6] = True
    bad = mosaic.copy()
    bad[6, 6] = 0
    fixed = correct_defects(bad, mask, cfa="RGGB")
    assert fixed.dtype == np.uint16 and fixed[6, 6] == 900
    # a 5 x 5 plane cluster (no valid neighbour at its centre) is filled in passes
    big = np.zeros((40, 40), dtype=bool)
    big[10:20:2, 10:20:2] = True
    flat = np.full((40, 40), 900, dtype=np.uint16)
    fixed = correct_defects(np.where(big, 0, flat).astype(np.uint16), big, cfa="RGGB")
    assert np.all(fixed[big] == 900)


def test_bad_inputs():
    with pytest.raises(InvalidParameterError, match="does not match"):
        correct_defects(np.zeros((8, 8)), np.zeros((8, 9), dtype=bool), cfa="mono")
    with pytest.raises(InvalidParameterError, match="2-D"):
        correct_defects(np.zeros((8, 8, 3)), np.zeros((8, 8), dtype=bool), cfa="mono")
    with pytest.raises(InvalidParameterError, match="edge_k"):
        correct_defects(np.zeros((8, 8)), np.zeros((8, 8), dtype=bool), cfa="mono", edge_k=0)
