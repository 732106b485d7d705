"""Layer scale and KeyframeMotion scales: validation, resolution at t, pinhole growth of approaching_subject."""

from __future__ import annotations

import numpy as np
import pytest

from focuslab.errors import InvalidParameterError
from focuslab.scene import KeyframeMotion, Layer, Scene
from focuslab.scene.library import make_scene


def _layer(**kw):
    return Layer(np.full((4, 6, 1), 0.5, np.float32), np.ones((4, 6), np.float32), 2.0, **kw)


def test_default_scale_is_one_and_static_layer_keeps_it():
    lay = _layer()
    assert lay.scale == 1.0 and lay.scale_center_deg == (0.0, 0.0)
    m = KeyframeMotion(times_s=(0.0, 1.0), depths_m=(2.0, 1.0))
    assert m.scale(0.5) == 1.0 and _layer(motion=m).at(0.5).scale == 1.0


def test_scales_interpolate_as_one_over_distance():
    d0, d1 = 3.0, 0.5
    m = KeyframeMotion(times_s=(0.0, 2.0), depths_m=(d0, d1), scales=(1.0, d0 / d1), scale_center_deg=(1.0, -2.0))
    for t in (-1.0, 0.0, 0.3, 1.0, 1.7, 2.0, 5.0):
        assert m.scale(t) == pytest.approx(d0 / m.depth_m(t), rel=1e-12)
    lay = _layer(motion=m, scale=1.5, scale_center_deg=(1.0, -2.0)).at(1.0)
    assert lay.motion is None and lay.scale == pytest.approx(1.5 * d0 / 1.75)
    assert lay.scale_center_deg == (1.0, -2.0)
    scene = Scene((_layer(motion=m),), 30.0)
    assert scene.at(2.0).layers[0].scale == pytest.approx(6.0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"scales": (1.0,)},
        {"scales": (1.0, 0.0)},
        {"scales": (1.0, -2.0)},
        {"scales": (1.0, float("nan"))},
        {"scales": (1.0, float("inf"))},
        {"scales": (1.0, 2.0), "scale_center_deg": (0.0, float("nan"))},
        {"scales": (1.0, 2.0), "scale_center_deg": (0.0,)},
        {"scales": (1.0, 2.0), "scale_center_deg": (95.0, 0.0)},
    ],
)
def test_motion_rejects_bad_scales(kwargs):
    with pytest.raises(InvalidParameterError):
        KeyframeMotion(times_s=(0.0, 1.0), depths_m=(2.0, 1.0), **kwargs)


@pytest.mark.parametrize("kwargs", [{"scale": 0.0}, {"scale": -1.0}, {"scale": float("inf")},
                                    {"scale": float("nan")}, {"scale_center_deg": (float("inf"), 0.0)}])
def test_layer_rejects_bad_scale(kwargs):
    with pytest.raises(InvalidParameterError):
        _layer(**kwargs)


def test_layer_scale_and_motion_scales_need_one_centre():
    m = KeyframeMotion(times_s=(0.0, 1.0), depths_m=(2.0, 1.0), scales=(1.0, 2.0), scale_center_deg=(1.0, 0.0))
    with pytest.raises(InvalidParameterError, match="one centre"):
        _layer(motion=m, scale=2.0, scale_center_deg=(0.0, 0.0))
    assert _layer(motion=m, scale_center_deg=(5.0, 5.0)).at(1.0).scale_center_deg == (1.0, 0.0)


def test_approaching_subject_card_grows_as_start_over_distance():
    s = make_scene("approaching_subject", shape=(40, 60), subject_distance_m=0.5, start_distance_m=2.5,
                   duration_s=2.0, background_distance_m=6.0)
    card = s.layers[s.subject_layer]
    assert card.motion.scale_center_deg == (0.0, 0.0)
    for t in (0.0, 0.5, 1.0, 2.0, 3.0):
        assert s.at(t).layers[1].scale == pytest.approx(2.5 / s.subject_distance_m(t), rel=1e-12)
    assert s.at(1.0).layers[0].scale == 1.0  # the background does not move
