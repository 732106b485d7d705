"""Charts: exact area coverage of the slanted edge, measured angles, star cycles, checkerboard."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from focuslab.errors import InvalidParameterError, UnknownNameError
from focuslab.scene.charts import checkerboard, halfplane_coverage, siemens_star, slanted_edge, text_card


def crossings_50(img: np.ndarray, level: float) -> np.ndarray:
    """Per-row x (pixel-centre coordinates, +0.5) where the profile crosses ``level``."""
    xs = []
    for row in img.astype(np.float64):
        d = row - level
        k = np.nonzero(np.sign(d[:-1]) != np.sign(d[1:]))[0][0]
        xs.append(k + 0.5 + d[k] / (d[k] - d[k + 1]))
    return np.asarray(xs)


def measured_angle_deg(img: np.ndarray, level: float) -> float:
    x = crossings_50(img, level)
    y = np.arange(img.shape[0]) + 0.5
    return float(np.degrees(np.arctan(np.polyfit(y, x, 1)[0])))


@pytest.mark.parametrize("angle", [1.0, 2.0, 5.0, 10.0, 20.0, 33.0, 44.0])
def test_slanted_edge_measured_angle(angle):
    # rows where the edge stays inside the grid
    img = slanted_edge((128, 400), angle_deg=angle)
    assert measured_angle_deg(img, 0.5) == pytest.approx(angle, abs=0.05)


@pytest.mark.parametrize("angle", [0.0, 3.0, 5.0, 17.5, 45.0])
def test_slanted_edge_rows_integrate_to_exact_light_length(angle):
    # Σ_j coverage(i, j) = ∫_i^{i+1} (W - x_edge(y)) dy = W - cx - tanθ (i + 1/2 - cy)
    h, w = 60, 160
    dark, light = 0.2, 0.8
    img = slanted_edge((h, w), angle_deg=angle, dark=dark, light=light).astype(np.float64)
    cov = (img - dark) / (light - dark)
    truth = w - w / 2 - np.tan(np.radians(angle)) * (np.arange(h) + 0.5 - h / 2)
    assert np.max(np.abs(cov.sum(axis=1) - truth)) < 1e-5 * w


def test_slanted_edge_pixels_equal_brute_force_area():
    angle = 7.0
    img = slanted_edge((8, 10), angle_deg=angle, dark=0.0, light=1.0).astype(np.float64)
    n = 600
    sub = (np.arange(n) + 0.5) / n
    c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    for i, j in [(0, 4), (3, 5), (4, 4), (7, 5), (2, 3)]:
        xx, yy = j + sub[None, :], i + sub[:, None]
        area = np.mean((xx - 5.0) * c - (yy - 4.0) * s > 0)
        assert img[i, j] == pytest.approx(area, abs=2.0 / n)


def test_halfplane_coverage_closed_form_properties():
    t = np.linspace(-0.5, 2.0, 101)
    for a, b in [(1.0, 0.0), (0.8, 0.6), (np.cos(0.3), np.sin(0.3))]:
        area = halfplane_coverage(a, b, t)
        assert np.all(np.diff(area) >= -1e-15)  # monotone in t
        assert area[0] == 0.0 and area[-1] == 1.0
        # point symmetry about the square's centre: A(t) + A(a + b - t) = 1
        assert np.allclose(area + halfplane_coverage(a, b, a + b - t), 1.0, atol=1e-12)
    # 45°: A(t) = t^2 / (2ab) for t <= min(a, b)
    a = b = np.sqrt(0.5)
    assert halfplane_coverage(a, b, np.array([0.3]))[0] == pytest.approx(0.09 / (2 * a * b), rel=1e-12)


def test_slanted_edge_polarities_and_orientations():
    v = slanted_edge((40, 60), angle_deg=5.0, dark=0.1, light=0.9)
    v_inv = slanted_edge((40, 60), angle_deg=5.0, dark=0.1, light=0.9, polarity="light_to_dark")
    assert np.allclose(v + v_inv, 1.0, atol=1e-6)
    assert v[:, 0].max() == pytest.approx(0.1) and v[:, -1].min() == pytest.approx(0.9)
    hz = slanted_edge((60, 40), angle_deg=5.0, dark=0.1, light=0.9, orientation="horizontal")
    assert hz.shape == (60, 40)
    assert np.array_equal(hz, v.T)
    assert hz[0].max() == pytest.approx(0.1) and hz[-1].min() == pytest.approx(0.9)  # dark on top
    big = slanted_edge((400, 128), angle_deg=6.0, orientation="horizontal")
    assert measured_angle_deg(big.T, 0.5) == pytest.approx(6.0, abs=0.05)
    # angle 0 is an exactly grid-aligned edge: a pure step
    step = slanted_edge((4, 6), angle_deg=0.0, dark=0.0, light=1.0)
    assert np.array_equal(step, np.tile([0, 0, 0, 1, 1, 1], (4, 1)).astype(np.float32))


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"angle_deg": 46.0}, InvalidParameterError),
        ({"angle_deg": -1.0}, InvalidParameterError),
        ({"angle_deg": float("nan")}, InvalidParameterError),
        ({"orientation": "diagonal"}, UnknownNameError),
        ({"polarity": "up"}, UnknownNameError),
        ({"dark": 0.8, "light": 0.2}, InvalidParameterError),
        ({"light": 1.5}, InvalidParameterError),
    ],
)
def test_slanted_edge_bad_inputs(kwargs, error):
    with pytest.raises(error):
        slanted_edge((16, 16), **kwargs)


@pytest.mark.parametrize(("cycles", "profile"), [(12, "sinusoidal"), (36, "binary"), (72, "sinusoidal")])
def test_siemens_star_cycle_count(cycles, profile):
    img = siemens_star((256, 256), cycles=cycles, profile=profile, dark=0.2, light=0.8)
    assert img.dtype == np.float32 and 0.2 - 1e-6 <= img.min() and img.max() <= 0.8 + 1e-6
    phi = np.linspace(0, 2 * np.pi, 4096, endpoint=False)
    rad = 90.0
    ring = ndimage.map_coordinates(
        img.astype(np.float64), [128 + rad * np.sin(phi) - 0.5, 128 + rad * np.cos(phi) - 0.5], order=1
    )
    spec = np.abs(np.fft.rfft(ring - ring.mean()))
    assert int(np.argmax(spec)) == cycles
    signs = np.sign(ring - 0.5)
    assert int(np.count_nonzero(signs != np.roll(signs, 1))) == 2 * cycles
    # outside the star: the mean level
    assert img[0, 0] == pytest.approx(0.5)


def test_siemens_star_bad_inputs():
    cases = [
        ({"cycles": 1}, InvalidParameterError),
        ({"cycles": 3.5}, InvalidParameterError),
        ({"profile": "triangle"}, UnknownNameError),
        ({"radius_fraction": 0.7}, InvalidParameterError),
        ({"supersample": 0}, InvalidParameterError),
    ]
    for kw, err in cases:
        with pytest.raises(err):
            siemens_star((16, 16), **kw)


def test_checkerboard_exact_box_integral():
    sq = 7.3
    img = checkerboard((30, 44), square_px=sq, dark=0.0, light=1.0).astype(np.float64)
    n = 200
    sub = (np.arange(n) + 0.5) / n
    for i, j in [(0, 0), (6, 7), (7, 14), (21, 29)]:
        xx, yy = j + sub[None, :], i + sub[:, None]
        light = (np.floor(xx / sq) + np.floor(yy / sq)) % 2 == 0
        assert img[i, j] == pytest.approx(light.mean(), abs=2.0 / n)
    assert checkerboard((16, 16), square_px=4.0)[0, 0] == pytest.approx(0.8)
    with pytest.raises(InvalidParameterError):
        checkerboard((16, 16), square_px=0.0)


def test_text_card_levels_sizes_and_determinism():
    a = text_card((120, 200), sizes_px=(8, 16))
    assert a.dtype == np.float32 and np.array_equal(a, text_card((120, 200), sizes_px=(8, 16)))
    assert a.max() == pytest.approx(0.85) and a.min() == pytest.approx(0.04, abs=0.02)
    # anti-aliased glyph edges: intermediate levels present
    assert np.count_nonzero((a > 0.1) & (a < 0.8)) > 100

    def high_frequency_fraction(x):  # share of the power above 0.2 cycles/px
        p = np.abs(np.fft.rfft2(x - x.mean())) ** 2
        f = np.hypot(np.fft.fftfreq(x.shape[0])[:, None], np.fft.rfftfreq(x.shape[1])[None, :])
        return p[f > 0.2].sum() / p.sum()

    # small print carries finer detail than large print (measured 0.48 vs 0.15)
    small = high_frequency_fraction(text_card((120, 200), sizes_px=(8,)))
    large = high_frequency_fraction(text_card((120, 200), sizes_px=(32,)))
    assert small > 2 * large
    for kw in ({"sizes_px": ()}, {"sizes_px": (2,)}, {"text": ""}, {"ink": 0.9, "paper": 0.5}):
        with pytest.raises(InvalidParameterError):
            text_card((32, 32), **kw)
