"""Test charts: slanted edge, Siemens star, checkerboard and text card.

All charts are float32 relative linear radiance in [0, 1], exactly box-integrated over each
pixel where a closed form exists (slanted edge, checkerboard) and supersampled otherwise.
Pixel ``(i, j)`` covers ``[j, j + 1] x [i, i + 1]`` in grid coordinates (x right, y down).
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from focuslab.errors import InvalidParameterError, UnknownNameError, check_finite, check_positive
from focuslab.scene.grid import check_int, check_shape

_ORIENTATIONS = ("vertical", "horizontal")
_POLARITIES = ("dark_to_light", "light_to_dark")
_PANGRAM = "The quick brown fox jumps over the lazy dog 0123456789"


def _check_level_pair(dark: float, light: float) -> tuple[float, float]:
    d, li = check_finite("dark", dark), check_finite("light", light)
    if not 0 <= d < li <= 1:
        raise InvalidParameterError(
            f"levels must satisfy 0 <= dark < light <= 1, got dark={dark}, light={light}"
        )
    return d, li


def _ramp2(t: np.ndarray) -> np.ndarray:
    return np.square(np.maximum(t, 0.0))


def halfplane_coverage(a: float, b: float, t: np.ndarray) -> np.ndarray:
    """Area of ``{(u, v) in [0, 1]^2 : a u + b v <= t}`` for ``a, b >= 0``, ``a + b > 0``.

    Notes
    -----
    With ``R(s) = max(s, 0)^2`` the area is the second difference
    ``A(t) = [R(t) - R(t - a) - R(t - b) + R(t - a - b)] / (2 a b)`` (inclusion-exclusion
    of the triangle ``{u, v >= 0, a u + b v <= t}`` cut by the square's sides). When
    ``a b`` is tiny (an edge aligned with the grid) the limit ``b -> 0`` is used:
    ``A(t) = clip(t / a, 0, 1)``.
    """
    t = np.asarray(t, dtype=np.float64)
    if a * b < 1e-12:
        s = max(a, b)
        return np.clip(t / s, 0.0, 1.0)
    t = np.clip(t, -1.0, a + b + 1.0)  # outside [0, a + b] the area is 0 or 1 anyway
    area = (_ramp2(t) - _ramp2(t - a) - _ramp2(t - b) + _ramp2(t - a - b)) / (2.0 * a * b)
    return np.clip(area, 0.0, 1.0)


def slanted_edge(
    shape,
    *,
    angle_deg: float = 5.0,
    orientation: str = "vertical",
    dark: float = 0.2,
    light: float = 0.8,
    polarity: str = "dark_to_light",
) -> np.ndarray:
    """An ideal straight edge through the grid centre, exactly area-integrated per pixel.

    Parameters
    ----------
    shape
        Grid ``(H, W)``.
    angle_deg
        Tilt of the edge from the grid axis, degrees in ``[0, 45]`` (ISO 12233 asks for
        a few degrees; 5 is common). For ``orientation="vertical"`` the edge runs top to
        bottom and moves to +x as y grows (clockwise tilt on screen); for ``"horizontal"``
        it runs left to right and moves to +y as x grows.
    orientation
        ``"vertical"`` (measures horizontal SFR) or ``"horizontal"``.
    dark, light
        Levels on the two sides, relative linear radiance, ``0 <= dark < light <= 1``. The
        default 0.2 / 0.8 is the 4:1 contrast of ISO 12233:2017 e-SFR charts.
    polarity
        ``"dark_to_light"``: dark on the left (vertical) or top (horizontal);
        ``"light_to_dark"``: the opposite.

    Returns
    -------
    numpy.ndarray
        float32 ``H x W``: ``dark + (light - dark) * coverage`` where coverage is the exact
        fraction of the pixel square on the light side.

    Notes
    -----
    Vertical edge, angle θ, grid centre ``(cx, cy) = (W/2, H/2)``: the light side is
    ``(x - cx) cos θ - (y - cy) sin θ > 0``. For the pixel square the area on one side of
    the line is :func:`halfplane_coverage` (closed form), so the chart is the ideal step
    convolved with the pixel box, sampled at pixel centres — the input ISO 12233:2017
    Annex D assumes for the SFR. Each row's sum therefore equals the exact length of the
    light part of the row: ``W - cx - tan θ (i + 1/2 - cy)`` for an edge inside the grid.
    """
    h, w = check_shape(shape)
    theta = check_finite("angle_deg", angle_deg)
    if not 0 <= theta <= 45:
        raise InvalidParameterError(f"angle_deg must lie in [0, 45] degrees, got {angle_deg!r}")
    if orientation not in _ORIENTATIONS:
        raise UnknownNameError(f"orientation {orientation!r} unknown; use one of {', '.join(_ORIENTATIONS)}")
    if polarity not in _POLARITIES:
        raise UnknownNameError(f"polarity {polarity!r} unknown; use one of {', '.join(_POLARITIES)}")
    d, li = _check_level_pair(dark, light)
    if orientation == "horizontal":
        h, w = w, h
    th = np.deg2rad(theta)
    c, s = np.cos(th), np.sin(th)
    cx, cy = w / 2.0, h / 2.0
    jj = np.arange(w, dtype=np.float64)[None, :]
    ii = np.arange(h, dtype=np.float64)[:, None]
    # With u = x - j, v' = (i + 1) - y in [0, 1]:  light  <=>  c u + s v' > s - s0.
    s0 = (jj - cx) * c - (ii - cy) * s
    cov = 1.0 - halfplane_coverage(c, s, s - s0)
    if polarity == "light_to_dark":
        cov = 1.0 - cov
    img = d + (li - d) * cov
    if orientation == "horizontal":
        img = img.T
    return np.ascontiguousarray(img, dtype=np.float32)


def siemens_star(
    shape,
    *,
    cycles: int = 36,
    radius_fraction: float = 0.45,
    profile: str = "sinusoidal",
    dark: float = 0.2,
    light: float = 0.8,
    supersample: int = 4,
) -> np.ndarray:
    """A Siemens star: ``cycles`` periods of a radial grating around the grid centre.

    Parameters
    ----------
    shape
        Grid ``(H, W)``.
    cycles
        Number of dark/light periods around the circle (ISO 12233:2017 Annex E uses a
        144-cycle sinusoidal star; 36 suits small grids).
    radius_fraction
        Star radius as a fraction of ``min(H, W)`` (0 < r <= 0.5); outside it the chart is
        the mean level.
    profile
        ``"sinusoidal"`` (level ∝ 1 + sin(N φ)) or ``"binary"`` (square wave).
    dark, light
        Minimum and maximum level, ``0 <= dark < light <= 1``.
    supersample
        Point samples per pixel along each axis (box-averaged: anti-aliasing).

    Returns
    -------
    numpy.ndarray
        float32 ``H x W``. At radius ρ pixels the grating period is ``2 π ρ / cycles``
        pixels, i.e. the spatial frequency is ``cycles / (2 π ρ)`` cycles/pixel.
    """
    h, w = check_shape(shape)
    cycles = check_int("cycles", cycles, 2, 100_000)
    rf = check_positive("radius_fraction", radius_fraction)
    if rf > 0.5:
        raise InvalidParameterError(f"radius_fraction must lie in (0, 0.5], got {radius_fraction!r}")
    if profile not in ("sinusoidal", "binary"):
        raise UnknownNameError(f"profile {profile!r} unknown; use one of sinusoidal, binary")
    ss = check_int("supersample", supersample, 1, 16)
    d, li = _check_level_pair(dark, light)
    sub = (np.arange(ss) + 0.5) / ss
    radius = rf * min(h, w)
    out = np.empty((h, w), dtype=np.float64)
    x = (np.arange(w)[:, None] + sub[None, :]).reshape(-1) - w / 2.0
    rows_per_chunk = max(1, 2_000_000 // (x.size * ss))
    for i0 in range(0, h, rows_per_chunk):
        i1 = min(h, i0 + rows_per_chunk)
        y = (np.arange(i0, i1)[:, None] + sub[None, :]).reshape(-1) - h / 2.0
        phi = np.arctan2(y[:, None], x[None, :])
        wave = np.sin(cycles * phi)
        if profile == "binary":
            wave = np.sign(wave)
        wave[np.hypot(y[:, None], x[None, :]) > radius] = 0.0
        out[i0:i1] = wave.reshape(i1 - i0, ss, w, ss).mean(axis=(1, 3))
    return (0.5 * (d + li) + 0.5 * (li - d) * out).astype(np.float32)


def _square_wave_mean(lo: np.ndarray, hi: np.ndarray, period: float) -> np.ndarray:
    """Mean over [lo, hi] of the ±1 square wave that is +1 on [0, period/2) mod period."""

    def primitive(x):  # integral of the square wave from 0 to x: a triangle wave
        p = np.mod(x, period)
        half = period / 2.0
        return np.where(p < half, p, period - p)

    return (primitive(hi) - primitive(lo)) / (hi - lo)


def checkerboard(
    shape,
    *,
    square_px: float = 16.0,
    dark: float = 0.1,
    light: float = 0.8,
) -> np.ndarray:
    """A checkerboard of ``square_px``-pixel squares, exactly box-integrated per pixel.

    The square at the grid origin ``[0, square_px)^2`` is light. Because the board is the
    product ``sx(x) sy(y)`` of two ±1 square waves, its pixel-box average is the product
    of the 1-D averages, each a difference of the triangle-wave primitive: the result is
    exact for any (non-integer) square size.

    Returns
    -------
    numpy.ndarray
        float32 ``H x W`` in ``[dark, light]``.
    """
    h, w = check_shape(shape)
    sq = check_positive("square_px", square_px)
    d, li = _check_level_pair(dark, light)
    period = 2.0 * sq
    jx = np.arange(w, dtype=np.float64)
    iy = np.arange(h, dtype=np.float64)
    mx = _square_wave_mean(jx, jx + 1.0, period)
    my = _square_wave_mean(iy, iy + 1.0, period)
    prod = my[:, None] * mx[None, :]
    return (0.5 * (d + li) + 0.5 * (li - d) * prod).astype(np.float32)


def text_card(
    shape,
    *,
    sizes_px: tuple[int, ...] = (8, 12, 16, 24, 32),
    text: str = _PANGRAM,
    ink: float = 0.04,
    paper: float = 0.85,
) -> np.ndarray:
    """Lines of text at several font sizes, dark ink on light paper.

    Parameters
    ----------
    shape
        Grid ``(H, W)``.
    sizes_px
        Font sizes (pixel height of the em box), one block of lines per size, repeated
        top to bottom until the card is full.
    text
        The line of text (repeated along the line).
    ink, paper
        Levels of the ink and the paper, ``0 <= ink < paper <= 1``.

    Returns
    -------
    numpy.ndarray
        float32 ``H x W`` = ``paper + (ink - paper) * coverage`` with the glyph coverage
        rasterised by FreeType (anti-aliased) through Pillow.

    Notes
    -----
    The font is Pillow's built-in default font (``ImageFont.load_default(size)``, the
    bundled Aileron Regular), so the card is identical on every machine with the same
    Pillow version and needs no font file.
    """
    h, w = check_shape(shape)
    if not sizes_px:
        raise InvalidParameterError("sizes_px must name at least one font size")
    for s in sizes_px:
        if isinstance(s, bool) or not isinstance(s, int | np.integer) or not 4 <= s <= 512:
            raise InvalidParameterError(f"font sizes must be integers in [4, 512] px, got {sizes_px!r}")
    if not isinstance(text, str) or not text.strip():
        raise InvalidParameterError("text must be a non-empty string")
    k, p = check_finite("ink", ink), check_finite("paper", paper)
    if not 0 <= k < p <= 1:
        raise InvalidParameterError(
            f"levels must satisfy 0 <= ink < paper <= 1, got ink={ink}, paper={paper}"
        )
    canvas = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(canvas)
    y = max(2, min(h, w) // 40)
    margin = y
    line = (text + "  ") * (1 + w // max(1, 4 * len(text)))
    while y < h:
        for s in sizes_px:
            font = ImageFont.load_default(size=int(s))
            draw.text((margin, y), line, fill=255, font=font)
            y += round(1.4 * s)
            if y >= h:
                break
    coverage = np.asarray(canvas, dtype=np.float64) / 255.0
    return (p + (k - p) * coverage).astype(np.float32)
