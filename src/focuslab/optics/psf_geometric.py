"""Geometric (ray-optics) defocus PSFs: the image of the aperture, area-sampled.

In geometric optics a defocused point images to a uniformly lit copy of the aperture scaled
to the signed blur-circle diameter ``c`` (:mod:`focuslab.optics.focus`). A pupil point
``rho`` (unit-radius pupil coordinates, aligned with the image axes) lands at the image
offset ``(c / 2) * rho``: for ``c > 0`` (object nearer than the focus plane, rays not yet
crossed) the image is upright; for ``c < 0`` it is inverted (rotated 180 degrees), which
matters for polygonal apertures with an odd number of blades.

Every kernel here is *area sampled*: each sample holds the area of the aperture image that
falls on that sample's square (samples are unit squares centred on integer offsets, row =
+y, column = +x), divided by the total, so kernels sum to 1 and are free of aliasing from
point sampling. Circles use an exact closed-form area; polygons supersample only the samples
their edge crosses.

References
----------
.. [1] W. J. Smith, *Modern Optical Engineering*, 4th ed., sec. 6 (geometric blur).
.. [2] I. N. Bronshtein et al., *Handbook of Mathematics*, 5th ed., integral of
       sqrt(r^2 - t^2) (area of a circular segment).
"""

from __future__ import annotations

import math

import numpy as np

from focuslab.errors import InvalidParameterError, check_finite

#: Largest blur diameter in samples a geometric kernel is built for (memory guard).
MAX_DIAMETER_SAMPLES = 4096.0

#: Supersampling per axis of the samples crossed by a polygon's edge.
POLYGON_SUPERSAMPLE = 16

#: Diameters below this many samples are treated as a point (delta kernel).
DELTA_DIAMETER_SAMPLES = 1e-9


def _segment_integral(t, r):
    """Integral of sqrt(r^2 - s^2) ds from 0 to t, for 0 <= t <= r [2]."""
    root = np.sqrt(np.maximum(r * r - t * t, 0.0))
    return 0.5 * (t * root + r * r * np.arcsin(np.clip(t / r, -1.0, 1.0)))


def _quadrant_area(x, y, r):
    """Area of the disk of radius r centred at 0 inside [0, x] x [0, y], for x, y >= 0."""
    x = np.minimum(x, r)
    y = np.minimum(y, r)
    xs = np.sqrt(np.maximum(r * r - y * y, 0.0))  # abscissa where the circle reaches height y
    xa = np.minimum(x, xs)
    xb = np.maximum(x, xs)
    return y * xa + _segment_integral(xb, r) - _segment_integral(xs, r)


def disk_coverage(x_edges, y_edges, radius: float) -> np.ndarray:
    """Exact area of a centred disk inside each cell of a rectangular grid.

    Parameters
    ----------
    x_edges, y_edges
        Increasing cell edges along x (columns) and y (rows), any length unit; shapes
        ``(nx + 1,)`` and ``(ny + 1,)``.
    radius
        Disk radius, same unit (> 0).

    Returns
    -------
    numpy.ndarray
        ``(ny, nx)`` areas, same unit squared.

    Notes
    -----
    With Q(x, y) the area of the disk inside [0, x] x [0, y] (closed form via the circular
    segment integral [2]) extended oddly, F(x, y) = sgn(x) sgn(y) Q(|x|, |y|) is the disk's
    area "cumulative distribution"; the area in a cell is the inclusion-exclusion
    F(x1, y1) - F(x0, y1) - F(x1, y0) + F(x0, y0).
    """
    xe = np.asarray(x_edges, dtype=float)
    ye = np.asarray(y_edges, dtype=float)
    r = float(radius)
    xx, yy = np.meshgrid(xe, ye)
    f = np.sign(xx) * np.sign(yy) * _quadrant_area(np.abs(xx), np.abs(yy), r)
    area = f[1:, 1:] - f[:-1, 1:] - f[1:, :-1] + f[:-1, :-1]
    return np.maximum(area, 0.0)  # cancellation leaves +-1e-17 outside the disk


def kernel_half_width(diameter_samples: float) -> int:
    """Half-width h of the smallest odd kernel (2h + 1 samples) holding a blur of this diameter."""
    r = abs(float(diameter_samples)) / 2.0
    return max(math.ceil(r + 0.5) - 1, 0)


def check_diameter(diameter_samples: float) -> float:
    """Validate a signed blur diameter in samples (finite, not absurdly large); return it."""
    c = check_finite("blur diameter (samples)", diameter_samples)
    if abs(c) > MAX_DIAMETER_SAMPLES:
        raise InvalidParameterError(
            f"blur diameter {c:g} samples exceeds {MAX_DIAMETER_SAMPLES:g}; "
            "lower samples_per_px or the defocus"
        )
    return c


def _polygon_normals(blades: int, rotation_deg: float, diameter_samples: float):
    """Outward edge normals (angles) and apothem of the polygon image of signed diameter c.

    The aperture is the regular polygon inscribed in the unit pupil circle with a vertex at
    angle ``rotation_deg`` (measured from +x towards +y, i.e. clockwise on screen since rows
    grow downwards). Its image is scaled by c / 2; a negative c rotates it by 180 degrees.
    """
    n = int(blades)
    flip = math.pi if diameter_samples < 0 else 0.0
    rot = math.radians(rotation_deg) + flip
    angles = rot + (2.0 * np.arange(n) + 1.0) * math.pi / n
    apothem = abs(diameter_samples) / 2.0 * math.cos(math.pi / n)
    return np.cos(angles), np.sin(angles), apothem


def _polygon_strip_areas(diameter_samples: float, blades: int, rotation_deg: float, strips: int):
    """Polygon image area in each (row, sub-column strip) of the kernel grid, by supersampling."""
    ss = POLYGON_SUPERSAMPLE
    if ss % strips:
        raise InvalidParameterError(f"strips must divide {ss}, got {strips}")
    h = kernel_half_width(diameter_samples)
    k = 2 * h + 1
    cos_n, sin_n, apothem = _polygon_normals(blades, rotation_deg, diameter_samples)
    centres = np.arange(-h, h + 1, dtype=float)
    yy, xx = np.meshgrid(centres, centres, indexing="ij")
    dist = np.max(xx[..., None] * cos_n + yy[..., None] * sin_n, axis=-1) - apothem
    half_diag = math.sqrt(0.5)
    inside = dist <= -half_diag
    edge = np.abs(dist) < half_diag
    areas = np.zeros((k, k, strips))
    areas[inside] = 1.0 / strips
    if np.any(edge):
        offs = (np.arange(ss) + 0.5) / ss - 0.5
        py = yy[edge][:, None, None] + offs[None, :, None]
        px = xx[edge][:, None, None] + offs[None, None, :]
        d = np.max(px[..., None] * cos_n + py[..., None] * sin_n, axis=-1) - apothem
        hit = (d <= 0.0).astype(float)  # (n_edge, ss rows, ss cols)
        per_col = hit.sum(axis=1) / (ss * ss)
        areas[edge] = per_col.reshape(-1, strips, ss // strips).sum(axis=-1)
    return areas.reshape(k, k * strips)


def aperture_strip_areas(
    diameter_samples: float, *, blades: int | None = None, rotation_deg: float = 0.0, strips: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Area of the aperture image in each row x sub-column strip of an odd kernel grid.

    Parameters
    ----------
    diameter_samples
        Signed blur diameter c, samples (non-zero).
    blades
        Number of straight aperture blades (>= 3), or ``None`` for a circular aperture.
    rotation_deg
        Rotation of the polygon (a vertex direction), degrees from +x towards +y.
    strips
        Sub-columns per sample column (1, 2, 4, 8 or 16): the dual-pixel split weights
        vary along x, so they are applied per strip.

    Returns
    -------
    areas : numpy.ndarray
        ``(k, k * strips)`` areas in sample^2 (not normalised).
    x_edges : numpy.ndarray
        ``(k * strips + 1,)`` strip edges along x, samples from the kernel centre.
    """
    c = float(diameter_samples)
    h = kernel_half_width(c)
    k = 2 * h + 1
    x_edges = np.linspace(-h - 0.5, h + 0.5, k * strips + 1)
    if blades is None or abs(c) < 2.0 / POLYGON_SUPERSAMPLE:
        # a polygon smaller than the supersampling step is imaged as the disk of its size
        y_edges = np.arange(-h - 0.5, h + 1.0, 1.0)
        return disk_coverage(x_edges, y_edges, abs(c) / 2.0), x_edges
    return _polygon_strip_areas(c, int(blades), rotation_deg, strips), x_edges


def aperture_kernel(
    diameter_samples: float, *, blades: int | None = None, rotation_deg: float = 0.0
) -> np.ndarray:
    """Area-sampled geometric defocus PSF: the image of the aperture of signed diameter c.

    Parameters
    ----------
    diameter_samples
        Signed blur-circle diameter c in samples (sign convention of
        :mod:`focuslab.optics.focus`); ``|c|`` below 1e-9 gives a delta.
    blades
        ``None`` (circle, the pillbox PSF) or the number of straight blades (>= 3).
    rotation_deg
        Polygon rotation, degrees from +x towards +y; for c < 0 the image is rotated by a
        further 180 degrees (the inverted image of the aperture).

    Returns
    -------
    numpy.ndarray
        ``(k, k)`` float64, k = 2 ceil(|c|/2 + 1/2) - 1 (odd, holds the whole blur), sums to 1.

    Raises
    ------
    InvalidParameterError
        Non-finite or too large diameter, fewer than 3 blades.

    Notes
    -----
    The circle uses the exact area per sample (:func:`disk_coverage`); its spectrum is the
    pillbox OTF 2 J1(pi c f) / (pi c f) times the sample-box sinc (see :mod:`.mtf`).
    """
    c = check_diameter(diameter_samples)
    if blades is not None and int(blades) < 3:
        raise InvalidParameterError(f"blades must be >= 3 (or None for a circle), got {blades}")
    check_finite("rotation_deg", rotation_deg)
    if abs(c) < DELTA_DIAMETER_SAMPLES:
        return np.ones((1, 1))
    areas, _ = aperture_strip_areas(c, blades=blades, rotation_deg=rotation_deg)
    return areas / areas.sum()


def pillbox_kernel(diameter_samples: float) -> np.ndarray:
    """Area-sampled pillbox (uniform disk) PSF of diameter ``|diameter_samples|``; sums to 1."""
    return aperture_kernel(diameter_samples)
