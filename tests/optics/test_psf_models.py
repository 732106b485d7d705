"""The PsfModel implementations: protocol, kernel conventions, bad inputs, determinism."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from focuslab.errors import FocuslabError, InvalidParameterError, UnknownNameError
from focuslab.optics import (
    DualPixelResponse,
    FieldDependentPsf,
    GaussianPsf,
    GeometricPsf,
    LensSpec,
    PsfModel,
    SeidelAberrations,
    WavePsf,
    mono_spectrum,
)
from focuslab.optics.mtf import otf_of_psf

MODELS = {
    "geometric": GeometricPsf(),
    "hexagon": GeometricPsf(blades=6, rotation_deg=15.0),
    "gaussian": GaussianPsf(sigma_min_px=0.3),
    "wave": WavePsf(1.8, 1.0),
    "field": FieldDependentPsf(1.8, 1.0, seidel=SeidelAberrations(w131_um=0.2, w222_um=0.2, w220_um=0.2)),
}


@pytest.fixture(params=sorted(MODELS))
def model(request):
    return MODELS[request.param]


def test_implements_protocol(model):
    assert isinstance(model, PsfModel)
    assert isinstance(model.name, str) and model.name
    assert isinstance(model.field_dependent, bool)


@pytest.mark.parametrize("coc_px", [0.0, 0.4, -3.3, 7.0])
@pytest.mark.parametrize("spp", [1, 2])
def test_kernel_conventions(model, coc_px, spp):
    k = model.kernel(coc_px, field_xy=(0.3, -0.2), samples_per_px=spp)
    assert k.dtype == np.float64 and k.ndim in (2, 3)
    assert k.shape[-1] == k.shape[-2] and k.shape[-1] % 2 == 1
    assert np.all(np.isfinite(k)) and np.all(k >= 0)
    np.testing.assert_allclose(k.sum(axis=(-2, -1)), 1.0, atol=1e-12)
    left, right = model.kernel_pair(coc_px, field_xy=(0.3, -0.2), samples_per_px=spp)
    assert left.shape == right.shape
    if isinstance(model, GeometricPsf) and coc_px != 0.0:
        # the geometric pair is resampled along x by a one-sample tent (it keeps sub-sample
        # centroids, optics.dual_pixel.strip_splat_matrix): 2 samples wider, rows add up
        assert left.shape[-1] == k.shape[-1] + 2
        np.testing.assert_allclose((left + right).sum(axis=-1)[1:-1], k.sum(axis=-1), atol=1e-12)
        np.testing.assert_allclose((left + right).sum(), 1.0, atol=1e-12)
    else:
        assert left.shape == k.shape
        np.testing.assert_allclose(left + right, k, atol=1e-12)  # ideal response: halves add up


def test_kernel_is_centred_in_focus(model):
    k = model.kernel(0.0, samples_per_px=2)
    k2 = k if k.ndim == 2 else k[1]
    h = k2.shape[0] // 2
    if model.field_dependent:
        return
    assert np.unravel_index(np.argmax(k2), k2.shape) == (h, h)


def test_blur_lowers_mtf_monotonically(model):
    mtf = []
    for c in (0.0, 2.0, 4.0, 6.0):
        k = model.kernel(c, samples_per_px=2)
        k = k if k.ndim == 2 else k[1]
        mtf.append(abs(otf_of_psf(k, [0.05])[0]))
    assert all(a > b for a, b in itertools.pairwise(mtf))


def test_samples_per_px_scales_the_blur():
    g = GeometricPsf()
    assert g.kernel(10.0, samples_per_px=1).shape == (11, 11)
    assert g.kernel(10.0, samples_per_px=3).shape == (31, 31)
    x = np.arange(31) - 15
    k3 = g.kernel(10.0, samples_per_px=3)
    var_px = (k3.sum(axis=0) * x * x).sum() / 9.0  # in pixels^2
    assert var_px == pytest.approx((10.0 / 2) ** 2 / 4 + 1 / 108, rel=1e-3)  # R^2/4 + box/spp^2


def test_gaussian_sigma_rule():
    m = GaussianPsf(sigma_per_coc=0.25, sigma_min_px=0.5)
    k = m.kernel(8.0, samples_per_px=1)
    x = np.arange(k.shape[0]) - k.shape[0] // 2
    var = (k.sum(axis=0) * x * x).sum()
    assert var == pytest.approx(2.0**2 + 0.5**2 + 1 / 12, rel=2e-3)


def test_geometric_from_lens_uses_the_aperture():
    lens = LensSpec(50.0, 2.8, min_focus_distance_m=0.45, aperture_blades=7, aperture_rotation_deg=5.0)
    g = GeometricPsf.from_lens(lens)
    assert g.blades == 7 and g.rotation_deg == 5.0 and "lens" in g.name
    np.testing.assert_array_equal(g.kernel(12.0), GeometricPsf(blades=7, rotation_deg=5.0).kernel(12.0))


def test_field_dependence_flags():
    assert not GeometricPsf().field_dependent
    assert GeometricPsf(dp_response=DualPixelResponse(split_shift_per_field=0.2)).field_dependent
    assert FieldDependentPsf(2.0, 1.0).field_dependent
    assert not WavePsf(2.0, 1.0).field_dependent
    w = WavePsf(2.0, 1.0, spectra=mono_spectrum())
    np.testing.assert_array_equal(w.kernel(3.0, field_xy=(0.9, 0.9)), w.kernel(3.0))


def test_deterministic_and_cache_safe():
    w = WavePsf(2.0, 1.0, spectra=mono_spectrum())
    a = w.kernel(4.2)
    a[...] = -1.0  # the caller may scribble on its copy
    b = w.kernel(4.2)
    c = WavePsf(2.0, 1.0, spectra=mono_spectrum()).kernel(4.2)
    assert np.all(b >= 0)
    np.testing.assert_array_equal(b, c)
    left, _right = w.kernel_pair(4.2)
    left[...] = 0.0
    assert w.kernel_pair(4.2)[0].sum() == pytest.approx(0.5, abs=1e-3)


def test_models_are_hashable_and_comparable():
    assert WavePsf(2.0, 1.0, zernike_um={"coma_x": 0.1}) == WavePsf(2.0, 1.0, zernike_um={"coma_x": 0.1})
    assert hash(WavePsf(2.0, 1.0, zernike_um={"spherical": 0.1})) == hash(
        WavePsf(2.0, 1.0, zernike_um={"spherical": 0.1})
    )


@pytest.mark.parametrize("bad_coc", [float("nan"), float("inf"), -float("inf"), "3"])
def test_bad_coc_raises(model, bad_coc):
    with pytest.raises(FocuslabError):
        model.kernel(bad_coc)
    with pytest.raises(FocuslabError):
        model.kernel_pair(bad_coc)


@pytest.mark.parametrize("bad_spp", [0, -1, 1.5, True, "2"])
def test_bad_samples_per_px_raises(model, bad_spp):
    with pytest.raises(InvalidParameterError):
        model.kernel(1.0, samples_per_px=bad_spp)


@pytest.mark.parametrize("bad_field", [(float("nan"), 0.0), (1.0, 2.0, 3.0), None])
def test_bad_field_raises(model, bad_field):
    with pytest.raises(InvalidParameterError):
        model.kernel(1.0, field_xy=bad_field)


def test_too_much_blur_for_the_wave_model_says_what_to_do():
    with pytest.raises(InvalidParameterError, match="GeometricPsf"):
        WavePsf(1.8, 1.0, spectra=mono_spectrum()).kernel(2000.0, samples_per_px=2)


@pytest.mark.parametrize(
    ("factory", "error"),
    [
        (lambda: GeometricPsf(blades=2), InvalidParameterError),
        (lambda: GeometricPsf(rotation_deg=math.nan), InvalidParameterError),
        (lambda: GeometricPsf(dp_response="ideal"), InvalidParameterError),
        (lambda: GaussianPsf(sigma_per_coc=-0.1), InvalidParameterError),
        (lambda: GaussianPsf(sigma_min_px=math.inf), InvalidParameterError),
        (lambda: WavePsf(0.3, 1.0), InvalidParameterError),
        (lambda: WavePsf(2.0, 0.0), InvalidParameterError),
        (lambda: WavePsf(2.0, 1.0, spectra=()), InvalidParameterError),
        (lambda: WavePsf(2.0, 1.0, zernike_um={"focus": 0.1}), UnknownNameError),
        (lambda: WavePsf(2.0, 1.0, zernike_um={4: math.nan}), InvalidParameterError),
        (lambda: WavePsf(2.0, 1.0, coherent_halves=1), InvalidParameterError),
        (lambda: FieldDependentPsf(math.nan, 1.0), InvalidParameterError),
    ],
)
def test_bad_construction_raises(factory, error):
    with pytest.raises(error):
        factory()
