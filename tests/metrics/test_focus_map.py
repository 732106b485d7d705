"""Per-pixel focus maps (shape from focus): a two-depth synthetic truth and a real sweep."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from focuslab.errors import InvalidParameterError
from focuslab.metrics.focus import focus_map, focus_map_names, focus_measure, focus_measure_spec


def _two_depth_stack(seed: int = 0) -> np.ndarray:
    """5 frames of 60 x 120: the left half is sharp in frame 1, the right half in frame 3."""
    r = np.random.default_rng(seed)
    t = 0.2 + 0.6 * ndimage.gaussian_filter(r.random((60, 120)), 1.0)
    left, right = (2.5, 0.0, 1.5, 3.0, 4.0), (4.0, 3.0, 1.5, 0.0, 2.5)

    def blur(s):
        return ndimage.gaussian_filter(t, s) if s else t

    pairs = zip(left, right, strict=True)
    return np.stack([np.concatenate([blur(a)[:, :60], blur(b)[:, 60:]], axis=1) for a, b in pairs])


def test_operators_with_a_per_pixel_form():
    assert len(focus_map_names()) >= 18
    assert {"TENG", "LAPM", "GDER", "WAVS", "DCTR", "HELM"} <= set(focus_map_names())


@pytest.mark.parametrize("method", focus_map_names())
def test_sharpest_frame_of_each_half_is_found(method):
    stack = _two_depth_stack()
    fm = focus_map(stack, method)
    assert fm.shape == stack.shape and fm.dtype == np.float64
    k = np.argmax(fm, axis=0)
    assert np.all(k[:, 5:45] == 1) and np.all(k[:, 75:115] == 3)  # 15 px away from the depth step


@pytest.mark.parametrize("method", focus_map_names())
def test_response_mean_is_the_focus_measure(method):
    img = _two_depth_stack(1)[2]
    spec = focus_measure_spec(method)
    resp = spec.response(img[None], spec.window_px)
    assert resp.mean() == pytest.approx(focus_measure(img, method), rel=1e-12)


def test_focus_map_inputs_and_errors():
    stack = _two_depth_stack(2)[:2]
    rgb = np.repeat(stack[..., None], 3, axis=3)
    np.testing.assert_allclose(focus_map(rgb, "TENG"), focus_map(list(stack), "TENG"), rtol=1e-12)
    assert focus_map(stack, "TENG", smooth_px=1).shape == stack.shape
    with pytest.raises(InvalidParameterError, match="no per-pixel form"):
        focus_map(stack, "TENV")
    with pytest.raises(InvalidParameterError, match="smooth_px"):
        focus_map(stack, "TENG", smooth_px=0)
    with pytest.raises(InvalidParameterError, match="N x H x W"):
        focus_map(stack[0], "TENG")
    bad = stack.copy()
    bad[0, 1, 1] = np.nan
    with pytest.raises(InvalidParameterError, match="NaN"):
        focus_map(bad, "LAPM")


@pytest.mark.shared_data
def test_real_sweep_depth_map_orders_near_and_far(shared_data):
    """depth-mapper (near -> far): the sharpest frame of the bottom rows comes before the top's."""
    cv2 = pytest.importorskip("cv2")
    from focuslab.data.focal_stack import read_focal_stack

    stack = read_focal_stack(shared_data / "focal_stacks" / "depth-mapper")
    frames = np.stack(
        [cv2.imread(str(stack.root / f.file), cv2.IMREAD_REDUCED_GRAYSCALE_8) for f in stack.frames]
    ).astype(np.float64) / 255.0
    depth = np.argmax(focus_map(frames, "LAPM", smooth_px=9), axis=0)
    h, w = depth.shape
    near = np.median(depth[-h // 6 :, w // 6 : -w // 6])
    far = np.median(depth[: h // 4, w // 2 :])
    assert near + 10 < far, (near, far)
