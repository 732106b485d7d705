"""The near/far cascade of dp-defocus weights: which crops the far reader reads, which cameras
get one, and what learned-dp and focuslab evaluate read with."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from focuslab.errors import InvalidParameterError
from focuslab.models import load_model
from focuslab.models.dp_cascade import FAR_ABOVE_DOF, FarCascade, dp_reader, is_shipped_general, sensor_family
from focuslab.models.predict import dp_defocus


class MeanReader(nn.Module):
    """Reads ``scale`` x the crop's mean of channel 0 as its defocus, log-variance ``logvar``."""

    def __init__(self, scale: float, logvar: float = 0.0, crop_px: int = 16) -> None:
        super().__init__()
        self.scale, self.logvar, self.crop_px = scale, logvar, crop_px
        self.calls: list[int] = []

    def forward(self, x):
        self.calls.append(x.shape[0])
        d = self.scale * x[:, 0].mean(dim=(1, 2))
        return torch.stack([d, torch.full_like(d, self.logvar)], dim=1)


def test_far_reader_reads_only_the_crops_read_beyond_the_threshold():
    near, far = MeanReader(1.0), MeanReader(-100.0, logvar=1.5)
    cas = FarCascade(near, far)
    x = torch.zeros(4, 3, 16, 16)
    x[:, 0] = torch.tensor([0.0, 5.9, -6.1, 20.0])[:, None, None]
    out = cas(x)
    np.testing.assert_allclose(out[:, 0].numpy(), [0.0, 5.9, 610.0, -2000.0], rtol=1e-6)
    np.testing.assert_allclose(out[:, 1].numpy(), [0.0, 0.0, 1.5, 1.5])
    assert near.calls == [4] and far.calls == [2]  # the far reader sees the two far crops only
    # a region read near costs the near network alone
    near.calls.clear()
    far.calls.clear()
    cas(torch.full((4, 3, 16, 16), 2.0))
    assert near.calls == [4] and far.calls == []
    assert cas.crop_px == 16 and FAR_ABOVE_DOF == 6.0


def test_far_reader_bad_setup():
    with pytest.raises(InvalidParameterError, match="16- and 64-px crops"):
        FarCascade(MeanReader(1.0), MeanReader(1.0, crop_px=64))
    with pytest.raises(InvalidParameterError, match="far_above_dof must be"):
        FarCascade(MeanReader(1.0), MeanReader(1.0), far_above_dof=float("nan"))


@pytest.mark.parametrize("camera, family", [("phone_main", "pixel4"), ("phone_main_tof", "pixel4"),
                                            ("phone_tele", None), ("no_pdaf", None)])
def test_per_sensor_family_follows_the_cameras_dual_pixel_response(camera, family):
    assert sensor_family(camera) == family


def test_a_camera_with_another_response_gets_no_per_sensor_weights():
    from dataclasses import replace

    from focuslab.camera import get_camera

    cam = get_camera("phone_main")
    softer = replace(cam, psf=replace(cam.psf, dp_response=replace(cam.psf.dp_response, split_softness=0.7)))
    assert sensor_family(cam) == "pixel4" and sensor_family(softer) is None


def test_auto_cascades_the_shipped_general_weights_with_the_cameras_own():
    general = load_model("dp-defocus")
    assert is_shipped_general(general) and not is_shipped_general(load_model("dp-defocus", "pixel4"))
    reader, label = dp_reader(general, "phone_main")
    assert isinstance(reader, FarCascade) and reader.near is general
    assert reader.far.metadata["train_config"]["dp_families"] == ["pixel4"]
    assert label == "far=dp-defocus-pixel4.pt above 6 DoF"
    # no per-sensor weights for the camera, weights chosen by hand, or told not to: one network
    assert dp_reader(general, "phone_tele") == (general, "")
    pixel4 = load_model("dp-defocus", "pixel4")
    assert dp_reader(pixel4, "phone_main") == (pixel4, "")
    assert dp_reader(general, "phone_main", "none") == (general, "")
    assert dp_reader(general, "phone_main", None) == (general, "")
    # named far weights apply on any camera
    assert isinstance(dp_reader(general, "phone_tele", "pixel4")[0], FarCascade)
    # another dual-pixel response gets the Pixel 4 far reader only when the pair is calibrated
    tele, label = dp_reader(general, "phone_tele", calibrated=True)
    assert isinstance(tele, FarCascade) and label == "far=dp-defocus-pixel4.pt above 6 DoF"
    assert dp_reader(general, "no_pdaf", calibrated=True) == (general, "")
    assert dp_reader(pixel4, "phone_tele", calibrated=True) == (pixel4, "")


def test_the_cascade_reads_a_far_region_with_the_far_weights_and_a_near_one_with_the_general():
    """Through predict.dp_defocus: a textured pair shifted by 4 px (far from focus for every
    network) reads what the far weights read alone; an unshifted one what the general read."""
    from scipy import ndimage

    rng = np.random.default_rng(3)
    base = ndimage.gaussian_filter(rng.random((64, 72)), 1.0).astype(np.float32) * 0.5 + 0.1
    general, pixel4 = load_model("dp-defocus"), load_model("dp-defocus", "pixel4")
    reader, _ = dp_reader(general, "phone_main")
    far_l, far_r = base[:, 4:68], base[:, 0:64]
    assert abs(dp_defocus(general, far_l, far_r)[0]) > FAR_ABOVE_DOF
    assert dp_defocus(reader, far_l, far_r) == pytest.approx(dp_defocus(pixel4, far_l, far_r), rel=1e-5)
    near_l = base[:, 4:68]
    assert abs(dp_defocus(general, near_l, near_l)[0]) < FAR_ABOVE_DOF
    assert dp_defocus(reader, near_l, near_l) == pytest.approx(dp_defocus(general, near_l, near_l), rel=1e-6)


def test_learned_dp_reads_with_the_cascade_on_a_pixel4_camera_or_a_calibrated_one():
    from focuslab.af.backends import SimulatorBackend
    from focuslab.af.registry import get_policy
    from focuslab.camera import get_camera
    from focuslab.scene.library import make_scene

    def reader_of(camera, calibrating=False, **options):
        pol = get_policy("learned-dp", calibration="auto" if calibrating else None, **options)
        backend = SimulatorBackend(get_camera(camera), make_scene("dead_leaves"), roi=(0, 0, 64, 64))
        pol.reset(backend.context)
        assert pol._calibrate_preset == calibrating
        reader, label = pol._make_reader(calibrating)  # what the first predict reads with
        assert (label != "") == isinstance(reader, FarCascade)
        return reader

    assert isinstance(reader_of("phone_main"), FarCascade)  # its own response: raw or calibrated
    assert isinstance(reader_of("phone_main", True), FarCascade)
    assert not isinstance(reader_of("phone_tele"), FarCascade)  # another response, read raw
    assert isinstance(reader_of("phone_tele", True), FarCascade)  # ... calibrated for the pair
    assert not isinstance(reader_of("phone_main", far_weights="none"), FarCascade)
    assert not isinstance(reader_of("phone_main", weights="pixel4"), FarCascade)
    with pytest.raises(InvalidParameterError, match="far_weights must be"):
        get_policy("learned-dp", far_weights=3)


def test_a_refused_calibration_leaves_another_response_with_the_general_weights_alone(monkeypatch):
    """On phone_tele the Pixel 4 far reader needs the pair's calibration; if the chart sweep is
    refused, the policy reads as on a camera it cannot calibrate: the general network alone."""
    import focuslab.models.dp_calibration as dc
    from focuslab.af.backends import SimulatorBackend
    from focuslab.af.policies import learned_dp
    from focuslab.af.registry import get_policy
    from focuslab.camera import get_camera
    from focuslab.scene.library import make_scene

    def refuse(*a, **k):
        raise InvalidParameterError("a defocus calibration needs >= 20 points, got 3")

    monkeypatch.setattr(dc, "calibrate_dp_network", refuse)
    monkeypatch.setattr(learned_dp, "_CALIBRATIONS", {})
    backend = SimulatorBackend(get_camera("phone_tele"), make_scene("dead_leaves"), roi=(0, 0, 64, 64))
    pol = get_policy("learned-dp")
    pol.reset(backend.context)
    obs = backend.observe(0, 0.0)
    assert pol.predict(obs, float(obs.lens_code), 1.0) is not None
    assert pol.calibration is None and not isinstance(pol._reader, FarCascade) and pol._reader_label == ""
