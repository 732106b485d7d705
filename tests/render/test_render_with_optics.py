"""The renderer with the real focuslab.optics PSF models (geometric, wave, field dependent)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from render_scenes import FOCUS_1M_MM, LENS, PITCH_UM, coc_px, disc, matched_hfov_deg, two_plane_scene

from focuslab.optics import FieldDependentPsf, GeometricPsf, SeidelAberrations, WavePsf, sensor_distance_mm
from focuslab.render import render_optical_image
from focuslab.scene.scene import Layer, Scene


def _render(scene, psf, *, s_mm=FOCUS_1M_MM, shape=(48, 48), **kw):
    return render_optical_image(
        scene, LENS, sensor_distance_mm=s_mm, pixel_pitch_um=PITCH_UM, sensor_shape_px=shape, psf=psf, **kw
    )


@pytest.mark.parametrize("focus_m", [0.5, 2.0, 0.9])
def test_geometric_psf_two_planes_equal_radiance_uniform(focus_m):
    scene = two_plane_scene((64, 64), fg_radiance=0.6, bg_radiance=0.6)
    img = _render(scene, GeometricPsf(), s_mm=sensor_distance_mm(4.0, focus_m), dual_pixel=True)
    assert np.max(np.abs(img.irradiance - 0.6)) < 1e-5
    # the DP pair is the whole PSF resampled along x by a one-sample tent (it keeps sub-sample
    # disparities): L + R equals the image but where the occlusion edge meets that extra blur
    assert np.max(np.abs(img.left + img.right - img.irradiance)) < 1e-3
    assert abs(float((img.left + img.right).mean() - img.irradiance.mean())) < 1e-5


@pytest.mark.parametrize("depth_m", [0.5, 3.0])
def test_geometric_psf_dual_pixel_disparity_matches_half_disk_centroids(depth_m):
    h, w, ss = 64, 64, 2
    alpha = disc((h * ss, w * ss), (w * ss / 2, h * ss / 2), 1.0).astype(np.float32)
    scene = Scene((Layer(np.ones((h * ss, w * ss, 1), np.float32), alpha, depth_m),), matched_hfov_deg(w))
    img = _render(scene, GeometricPsf(), shape=(h, w), dual_pixel=True)
    xx = np.arange(w) + 0.5

    def cx(a):
        p = a[..., 0].astype(np.float64).sum(axis=0)
        return (p * xx).sum() / p.sum()

    c = coc_px(depth_m)
    disparity = cx(img.right) - cx(img.left)
    assert abs(disparity / (4.0 * c / (3.0 * math.pi)) - 1.0) < 0.03  # sign included
    assert abs(img.irradiance.sum() / (img.left.sum() + img.right.sum()) - 1.0) < 1e-5


def test_wave_psf_chromatic_white_diffuser_and_roi_crop(rng):
    psf = WavePsf(f_number=LENS.f_number, pixel_pitch_um=PITCH_UM)
    white = Scene((Layer(np.ones((16, 16, 3), np.float32), np.ones((16, 16), np.float32), 0.7),), 10.0)
    img = _render(white, psf, shape=(24, 24)).irradiance
    assert img.shape == (24, 24, 3) and np.max(np.abs(img - 1.0)) < 1e-5
    scene = two_plane_scene((48, 48), c=3, fg_radiance=0.9, bg_radiance=0.2)
    full = _render(scene, psf, shape=(40, 40), dual_pixel=True)
    part = _render(scene, psf, shape=(40, 40), dual_pixel=True, roi=(5, 22, 15, 12))
    assert np.max(np.abs(part.irradiance - full.irradiance[22:34, 5:20])) < 1e-5
    # wave-optical half-pupil PSFs do not add up to the whole-pupil PSF pointwise (the coherent
    # cross term is missing), but they carry the same flux
    assert abs((full.left.sum() + full.right.sum()) / full.irradiance.sum() - 1.0) < 1e-3
    assert full.irradiance.min() >= 0.2 - 1e-3  # no dark halo (wave PSFs ring slightly)


def test_field_dependent_psf_roi_crop_and_flux():
    psf = FieldDependentPsf(f_number=LENS.f_number, pixel_pitch_um=PITCH_UM, seidel=SeidelAberrations(w220_um=0.6))
    h, w = 40, 48
    alpha = disc((h, w), (w / 2, h / 2), 6).astype(np.float32)
    scene = Scene((Layer(np.full((h, w, 3), 0.5, np.float32), alpha, 1.0),), matched_hfov_deg(w) * 1.0)
    full = _render(scene, psf, shape=(h, w), field_grid=3).irradiance
    part = _render(scene, psf, shape=(h, w), field_grid=3, roi=(3, 4, 20, 9)).irradiance
    assert np.max(np.abs(part - full[4:13, 3:23])) < 1e-5
    sharp = _render(scene, GeometricPsf(), shape=(h, w)).irradiance
    assert abs(full.sum() / sharp.sum() - 1.0) < 0.01  # flux kept (tails beyond the frame aside)
