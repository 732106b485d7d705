"""render_optical_image / render_focal_stack: ROI = crop, field blending, stacks, devices, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from render_psf_doubles import FieldGaussianDouble, PillboxDouble
from render_scenes import (
    FOCUS_1M_MM,
    LENS,
    PITCH_UM,
    depth_map_scene,
    disc,
    matched_hfov_deg,
    two_plane_scene,
)

from focuslab.errors import InvalidParameterError
from focuslab.optics import LensSpec, sensor_distance_mm
from focuslab.render import OpticalImage, render_focal_stack, render_optical_image
from focuslab.scene.scene import KeyframeMotion, Layer, Scene


def _render(scene, *, psf=None, s_mm=FOCUS_1M_MM, shape=(48, 64), pixel_pitch_um=PITCH_UM, **kw):
    return render_optical_image(
        scene,
        LENS,
        sensor_distance_mm=s_mm,
        pixel_pitch_um=pixel_pitch_um,
        sensor_shape_px=shape,
        psf=psf or PillboxDouble(),
        **kw,
    )


def _textured_scene(rng, shape=(60, 80)):
    """Random RGB texture background at 2 m, a textured disc at 0.5 m and an RGB-D ramp layer."""
    h, w = shape
    bg = Layer(rng.random((h, w, 3)).astype(np.float32), np.ones((h, w), np.float32), 2.0, name="bg")
    fg_alpha = disc(shape, (w * 0.3, h * 0.4), h / 5).astype(np.float32)
    fg = Layer(rng.random((h, w, 3)).astype(np.float32), fg_alpha, 0.5, name="fg")
    ramp = np.linspace(0.6, 1.5, w, dtype=np.float32)[None, :].repeat(h, 0)
    mid_alpha = disc(shape, (w * 0.7, h * 0.6), h / 4).astype(np.float32)
    mid = Layer(rng.random((h, w, 3)).astype(np.float32), mid_alpha, ramp, name="rgbd")
    return Scene((bg, fg, mid), matched_hfov_deg(w) * 1.1)


@pytest.mark.parametrize("roi", [(10, 7, 21, 17), (0, 0, 9, 11), (50, 30, 14, 18)])
def test_roi_render_equals_crop_of_full_frame(rng, roi):
    scene = _textured_scene(rng)
    s = sensor_distance_mm(4.0, 0.8)
    full = _render(scene, s_mm=s, dual_pixel=True)
    part = _render(scene, s_mm=s, dual_pixel=True, roi=roi)
    x, y, w, h = roi
    assert part.roi == roi and part.irradiance.shape == (h, w, 3)
    for name in ("irradiance", "left", "right"):
        crop = getattr(full, name)[y : y + h, x : x + w]
        assert np.max(np.abs(getattr(part, name) - crop)) < 1e-5


def test_roi_equals_crop_with_field_dependent_psf(rng):
    scene = _textured_scene(rng)
    psf = FieldGaussianDouble()
    full = _render(scene, psf=psf).irradiance
    part = _render(scene, psf=psf, roi=(40, 5, 20, 12)).irradiance
    assert np.max(np.abs(part - full[5:17, 40:60])) < 1e-5


def test_field_dependent_psf_conserves_flux_and_blurs_more_at_corners():
    h, w, ss = 48, 64, 2
    alpha = np.zeros((h * ss, w * ss), bool)
    for cx, cy in ((w, h), (24, 24)):  # spots at the centre and near the top-left corner (scene samples)
        alpha |= disc(alpha.shape, (cx, cy), 1.5)
    scene = Scene(
        (Layer(np.ones((h * ss, w * ss, 1), np.float32), alpha.astype(np.float32), 1.0),), matched_hfov_deg(w)
    )
    img = _render(scene, psf=FieldGaussianDouble(growth_px=3.0), shape=(h, w)).irradiance[..., 0]
    sharp = _render(scene, shape=(h, w)).irradiance[..., 0]
    centre, corner = img[14:34, 22:42], img[0:20, 0:20]
    assert abs(img.sum() / sharp.sum() - 1.0) < 1e-5  # eq. (2) conserves flux exactly
    assert abs(centre.sum() / corner.sum() - 1.0) < 5e-3  # windows cut the far tails
    assert corner.max() < 0.5 * centre.max()  # the corner PSF is wider


def test_field_dependent_uniform_field_ripple_is_small_and_shrinks_with_grid():
    white = Scene((Layer(np.ones((8, 8, 1), np.float32), np.ones((8, 8), np.float32), 0.5),), 20.0)
    psf = FieldGaussianDouble(growth_px=1.0, base_px=2.0)  # sigma 4 px at the centre, 5 px at corners
    ripple = [np.max(np.abs(_render(white, psf=psf, field_grid=k).irradiance - 1.0)) for k in (3, 5)]
    assert ripple[0] < 0.03 and ripple[1] < 0.6 * ripple[0]  # measured 2.8 % and 1.4 %


def test_field_grid_of_one_uses_the_centre_psf(rng):
    scene = _textured_scene(rng)
    psf = FieldGaussianDouble()

    class CentreOnly(FieldGaussianDouble):
        field_dependent = False

    a = _render(scene, psf=psf, field_grid=1).irradiance
    b = _render(scene, psf=CentreOnly()).irradiance
    assert np.max(np.abs(a - b)) < 1e-6


def test_focal_stack_equals_individual_renders():
    scene = two_plane_scene((64, 80), fg_radiance=1.0, bg_radiance=0.3)
    distances = [sensor_distance_mm(4.0, d) for d in (0.4, 0.5, 1.0, 3.0)]
    stack = render_focal_stack(
        scene,
        LENS,
        sensor_distances_mm=distances,
        pixel_pitch_um=PITCH_UM,
        sensor_shape_px=(48, 64),
        psf=PillboxDouble(),
        dual_pixel=True,
    )
    assert len(stack) == 4 and all(isinstance(f, OpticalImage) for f in stack)
    for frame, s in zip(stack, distances, strict=True):
        single = _render(scene, s_mm=s, dual_pixel=True)
        assert frame.sensor_distance_mm == s
        assert abs(frame.focus_distance_m - single.focus_distance_m) < 1e-12
        assert np.max(np.abs(frame.irradiance - single.irradiance)) < 1e-6
        assert np.max(np.abs(frame.left - single.left)) < 1e-6
    # the frame focused on the foreground (0.5 m) is the sharpest at the disc's edge
    grads = [np.abs(np.diff(f.irradiance[24, :, 0])).max() for f in stack]
    assert int(np.argmax(grads)) == 1


def test_focus_breathing_magnifies_with_sensor_distance():
    h, w = 48, 64
    lens = LensSpec(4.0, 16.0)  # small aperture: the refocused spot stays small
    alpha = disc((h, w), (w / 2 + 15, h / 2), 2.0).astype(np.float32)  # 15 px right of the axis at s = 4
    scene = Scene((Layer(np.ones((h, w, 1), np.float32), alpha, 1e6),), matched_hfov_deg(w, s_mm=4.0))
    xx = np.arange(w) + 0.5 - w / 2
    for s in (4.0, 4.2):
        img = render_optical_image(
            scene,
            lens,
            sensor_distance_mm=s,
            pixel_pitch_um=PITCH_UM,
            sensor_shape_px=(h, w),
            psf=PillboxDouble(),
        ).irradiance[..., 0]
        prof = img.sum(axis=0)
        # an object at infinity is imaged at x = s tan(theta): 15 px * s / 4 mm (blur is symmetric)
        assert abs((prof * xx).sum() / prof.sum() - 15.0 * s / 4.0) < 0.02


def test_layer_offset_shifts_image_and_motion_is_resolved_at_t():
    h, w = 48, 64
    alpha = disc((h, w), (w / 2, h / 2), 4.0).astype(np.float32)
    rad = np.ones((h, w, 1), np.float32)
    hfov = matched_hfov_deg(w)
    deg_per_px = np.degrees(np.arctan(PITCH_UM * 1e-3 / FOCUS_1M_MM))
    moving = Layer(rad, alpha, 1.0, motion=KeyframeMotion((0.0, 1.0), (1.0, 1.0), ((0.0, 0.0), (5 * deg_per_px, 0.0))))
    scene = Scene((moving,), hfov)
    xx = np.arange(w) + 0.5

    def cx(img):
        prof = img[..., 0].sum(axis=0)
        return (prof * xx).sum() / prof.sum()

    shift = cx(_render(scene, shape=(h, w), t_s=1.0).irradiance) - cx(_render(scene, shape=(h, w)).irradiance)
    assert abs(shift - 5.0) < 0.02


def test_deterministic_and_float32(rng):
    scene = _textured_scene(rng)
    a = _render(scene, dual_pixel=True, psf=FieldGaussianDouble())
    b = _render(scene, dual_pixel=True, psf=FieldGaussianDouble())
    assert np.array_equal(a.irradiance, b.irradiance) and np.array_equal(a.left, b.left)
    assert a.irradiance.dtype == np.float32 and a.left.dtype == np.float32
    assert a.roi is None and a.pixel_pitch_um == PITCH_UM
    assert abs(a.focus_distance_m - 1.0) < 1e-9


def test_scene_is_not_modified(rng):
    scene = _textured_scene(rng)
    before = [lay.radiance.copy() for lay in scene.layers]
    _render(scene)
    assert all(np.array_equal(b, lay.radiance) for b, lay in zip(before, scene.layers, strict=True))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")
def test_cuda_matches_cpu(rng):
    scene = _textured_scene(rng)
    cpu = _render(scene, dual_pixel=True)
    gpu = _render(scene, dual_pixel=True, device="cuda")
    assert np.max(np.abs(cpu.irradiance - gpu.irradiance)) < 1e-4


def test_device_auto_and_cpu(rng):
    scene = two_plane_scene((32, 32))
    a = _render(scene, shape=(16, 16), device="cpu").irradiance
    b = _render(scene, shape=(16, 16), device="auto").irradiance
    assert np.max(np.abs(a - b)) < 1e-4


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"roi": (60, 0, 10, 10)}, "not inside"),
        ({"roi": (0, 0, 0, 10)}, "not inside"),
        ({"roi": (-1, 0, 5, 5)}, "not inside"),
        ({"roi": (0, 0, 5)}, "roi must be"),
        ({"shape": (48,)}, "sensor_shape_px"),
        ({"shape": (0, 10)}, "sensor_shape_px"),
        ({"supersample": 0}, "supersample"),
        ({"supersample": 1.5}, "supersample"),
        ({"field_grid": 0}, "field_grid"),
        ({"s_mm": 3.9}, "shorter than the focal length"),
        ({"s_mm": float("nan")}, "finite"),
        ({"psf": object()}, "PsfModel"),
        ({"device": "tpu9"}, "device"),
        ({"depth_bin_step_px": 0.0}, "depth_bin_step_px"),
        ({"t_s": float("nan")}, "t_s must be a finite"),
        ({"pixel_pitch_um": float("inf")}, "pixel_pitch_um must be a finite"),
        ({"s_mm": float("inf")}, "finite"),
    ],
)
def test_bad_inputs_raise(kwargs, match):
    scene = depth_map_scene((32, 32))
    with pytest.raises(InvalidParameterError, match=match):
        _render(scene, **kwargs)


def test_bad_scene_lens_and_cuda_errors():
    scene = two_plane_scene((32, 32))
    with pytest.raises(InvalidParameterError, match="Scene"):
        _render("not a scene")
    with pytest.raises(InvalidParameterError, match="LensSpec"):
        render_optical_image(
            scene,
            "lens",
            sensor_distance_mm=4.1,
            pixel_pitch_um=1.0,
            sensor_shape_px=(8, 8),
            psf=PillboxDouble(),
        )
    with pytest.raises(InvalidParameterError, match="pixel_pitch_um"):
        render_optical_image(
            scene,
            LensSpec(4.0, 2.0),
            sensor_distance_mm=4.1,
            pixel_pitch_um=-1.0,
            sensor_shape_px=(8, 8),
            psf=PillboxDouble(),
        )
    with pytest.raises(InvalidParameterError, match="sensor_distances_mm"):
        render_focal_stack(
            scene,
            LENS,
            sensor_distances_mm=[],
            pixel_pitch_um=1.0,
            sensor_shape_px=(8, 8),
            psf=PillboxDouble(),
        )
    if not torch.cuda.is_available():
        with pytest.raises(InvalidParameterError, match="CUDA is not available"):
            _render(scene, device="cuda")


def test_bad_psf_kernel_is_reported():
    class EvenPsf(PillboxDouble):
        def kernel(self, coc_px, *, field_xy=(0.0, 0.0), samples_per_px=1):
            return np.ones((4, 4)) / 16

    with pytest.raises(InvalidParameterError, match="k odd"):
        _render(two_plane_scene((32, 32)), psf=EvenPsf())


def test_chromatic_psf_on_grey_scene_is_reported():
    class RgbPsf(PillboxDouble):
        def kernel(self, coc_px, *, field_xy=(0.0, 0.0), samples_per_px=1):
            return np.stack([super().kernel(coc_px, samples_per_px=samples_per_px)] * 3)

    with pytest.raises(InvalidParameterError, match="3-channel kernels but the scene has 1"):
        _render(two_plane_scene((32, 32)), psf=RgbPsf())


def test_focal_stack_without_breathing_reuses_one_geometry(rng):
    h, w = 48, 64
    alpha = disc((h, w), (w / 2 + 15, h / 2), 2.0).astype(np.float32)  # 15 px right of the axis at s = 4
    spot = Scene((Layer(np.ones((h, w, 1), np.float32), alpha, 1e6),), matched_hfov_deg(w, s_mm=4.0))
    lens = LensSpec(4.0, 16.0)
    distances = [4.0, 4.1, 4.2]
    kw = dict(pixel_pitch_um=PITCH_UM, sensor_shape_px=(h, w), psf=PillboxDouble(), dual_pixel=True)
    xx = np.arange(w) + 0.5 - w / 2
    for frame in render_focal_stack(spot, lens, sensor_distances_mm=distances, focus_breathing=False, **kw):
        prof = frame.irradiance[..., 0].sum(axis=0)  # every frame: the magnification of the mean, 4.1 mm
        assert abs((prof * xx).sum() / prof.sum() - 15.0 * 4.1 / 4.0) < 0.02
    # with depth-map layers too: at the mean distance the frame equals the breathing render
    scene = _textured_scene(rng, (h, w))
    fixed = render_focal_stack(scene, LENS, sensor_distances_mm=distances, focus_breathing=False, **kw)
    breathing = render_focal_stack(scene, LENS, sensor_distances_mm=distances, **kw)
    assert np.max(np.abs(fixed[1].irradiance - breathing[1].irradiance)) < 1e-5
    assert all(np.max(np.abs(f.left + f.right - f.irradiance)) < 1e-5 for f in fixed)


def test_scene_with_nothing_covered_renders_black():
    depth = np.full((16, 16), 2.0, np.float32)
    empty = Scene((Layer(np.ones((16, 16, 1), np.float32), np.zeros((16, 16), np.float32), depth),), 10.0)
    img = _render(empty, shape=(8, 8), dual_pixel=True)
    assert img.irradiance.shape == (8, 8, 1) and not img.irradiance.any() and not img.left.any()
