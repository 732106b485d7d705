"""The ToF sensor sees moving, magnified layers as the renderer draws them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from focuslab.camera.depth_sensor import DepthSensorSpec
from focuslab.scene import Layer, Scene


def test_a_magnified_layer_covers_more_zones():
    """The ToF sees a layer's scale (an approaching subject grows) exactly as the renderer draws it."""
    h = w = 64
    card = np.zeros((h, w), np.float32)
    card[24:40, 24:40] = 1.0  # the centre quarter (linear), 1/16 of the area
    fg = Layer(radiance=np.full((h, w, 1), 0.8, np.float32), alpha=card, depth_m=0.5)
    bg = Layer(radiance=np.full((h, w, 1), 0.8, np.float32), alpha=np.ones((h, w), np.float32), depth_m=2.0)
    spec = DepthSensorSpec(
        zones_x=8, zones_y=8, hfov_deg=40.0, vfov_deg=40.0, noise_floor_m=1e-9, noise_quadratic_per_m=0.0
    )
    near = []
    for scale in (1.0, 2.0):
        scene = Scene(layers=(bg, replace(fg, scale=scale)), hfov_deg=40.0)
        reading = spec.measure(scene, 0.0, seed=0)
        near.append(int(np.sum(np.abs(reading.true_distance_m - 0.5) < 0.05)))
    assert near[0] == 4 and near[1] == 16  # 2x2 zones, then 4x4 zones
