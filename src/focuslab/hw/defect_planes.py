"""Same-colour pixel planes of a raw mosaic, and the neighbourhood statistics defect work needs.

A Bayer mosaic is four interleaved images, one per cell of the 2x2 pattern (R, Gr, Gb, B for
RGGB): a pixel's *neighbours* for defect detection and correction are the nearest pixels of the
same colour, two sensor pixels apart. A monochrome frame is one plane whose neighbours are the
adjacent pixels. Every function here works on one plane (a 2-D float array) in plane
coordinates; :func:`plane_slices` maps planes back onto the mosaic.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from focuslab.errors import InvalidParameterError
from focuslab.sensor.spec import CFA_PATTERNS

#: MAD -> standard deviation of a normal distribution (1 / Phi^-1(3/4)).
MAD_TO_SIGMA = 1.482602218505602


def check_cfa(cfa: str) -> str:
    """Return ``cfa`` when it is a pattern string of :data:`CFA_PATTERNS`, else raise."""
    if cfa not in CFA_PATTERNS:
        raise InvalidParameterError(f"unknown cfa {cfa!r}; use one of {', '.join(CFA_PATTERNS)}")
    return cfa


def plane_slices(cfa: str) -> list[tuple[str, tuple[slice, slice]]]:
    """``(name, (row slice, column slice))`` of every same-colour plane of a mosaic.

    Bayer: four planes named by colour and cell (``"R"``, ``"Gr"``/``"Gb"``, ``"B"``; the green
    sharing a row with red is ``Gr``) in the pattern's reading order. Mono: one plane ``"Y"``.
    """
    check_cfa(cfa)
    if cfa == "mono":
        return [("Y", (slice(None), slice(None)))]
    cells = ((0, 0), (0, 1), (1, 0), (1, 1))
    red_row = 0 if "R" in cfa[:2] else 1
    out = []
    for colour, (dy, dx) in zip(cfa, cells, strict=True):
        name = colour if colour != "G" else ("Gr" if dy == red_row else "Gb")
        out.append((name, (slice(dy, None, 2), slice(dx, None, 2))))
    return out


def check_mosaic(name: str, frame: np.ndarray, *, min_size_px: int = 8) -> np.ndarray:
    """``frame`` as a finite float64 2-D array, or :class:`InvalidParameterError` saying why not."""
    arr = np.asarray(frame)
    if arr.ndim != 2:
        raise InvalidParameterError(
            f"{name} must be a 2-D raw mosaic (H x W), got shape {arr.shape}; give single-channel raw frames"
        )
    if min(arr.shape) < min_size_px:
        raise InvalidParameterError(f"{name} of shape {arr.shape} is too small; give at least {min_size_px} x "
                                    f"{min_size_px} pixels")
    out = arr.astype(np.float64)
    if not np.all(np.isfinite(out)):
        raise InvalidParameterError(f"{name} contains NaN or inf values; give finite raw values")
    return out


def ring_footprint(radius_px: int) -> np.ndarray:
    """``(2r+1) x (2r+1)`` boolean footprint without its centre (the pixel's neighbours)."""
    fp = np.ones((2 * radius_px + 1, 2 * radius_px + 1), dtype=bool)
    fp[radius_px, radius_px] = False
    return fp


def neighbour_median(plane: np.ndarray, *, radius_px: int = 2) -> np.ndarray:
    """Median of each pixel's same-plane neighbours within ``radius_px`` (centre excluded).

    The median of the ``(2r+1)^2 - 1`` neighbours (24 for r = 2) is the local reference:
    it follows shading and vignetting, and ignores up to half of its window being defective,
    so a defect cluster up to 3 x 3 plane pixels does not hide its own centre. Edges are
    mirrored.
    """
    return ndimage.median_filter(plane, footprint=ring_footprint(radius_px), mode="mirror")


def masked_neighbour_median(plane: np.ndarray, bad: np.ndarray, ys: np.ndarray, xs: np.ndarray, *,
                            radius_px: int = 2, fallback: np.ndarray, min_valid: int = 1,
                            chunk_px: int = 20000) -> np.ndarray:
    """Median of the *valid* same-plane neighbours of the pixels ``(ys, xs)`` (centre excluded).

    Like :func:`neighbour_median` (window ``2r+1`` square, edges mirrored) but ignoring the
    neighbours flagged in ``bad``; computed only at the given pixels (those near defects), in
    chunks of ``chunk_px`` pixels, so time and memory follow the number of defects. Pixels with
    fewer than ``min_valid`` valid neighbours get ``fallback``.
    """
    r = radius_px
    vp = np.pad(plane, r, mode="reflect")  # numpy "reflect" = scipy "mirror"
    bp = np.pad(bad, r, mode="reflect")
    offsets = [(dy, dx) for dy in range(-r, r + 1) for dx in range(-r, r + 1) if (dy, dx) != (0, 0)]
    out = np.asarray(fallback, dtype=np.float64).copy()
    for start in range(0, ys.size, chunk_px):
        cy = ys[start : start + chunk_px] + r
        cx = xs[start : start + chunk_px] + r
        vals = np.stack([vp[cy + dy, cx + dx] for dy, dx in offsets]).astype(np.float64)
        invalid = np.stack([bp[cy + dy, cx + dx] for dy, dx in offsets])
        none = (~invalid).sum(axis=0) < min_valid
        vals[invalid] = np.nan
        vals[:, none] = 0.0
        med = np.nanmedian(vals, axis=0)
        out[start : start + chunk_px] = np.where(none, out[start : start + chunk_px], med)
    return out


def neighbour_stack(plane: np.ndarray) -> np.ndarray:
    """The 8 nearest same-plane neighbours of every pixel, ``8 x H x W`` (edges mirrored).

    Order: W, E, N, S, NW, SE, NE, SW, so neighbours ``2i`` and ``2i+1`` are opposite each
    other (horizontal, vertical, the two diagonals).
    """
    p = np.pad(plane, 1, mode="reflect")
    h, w = plane.shape
    shifts = ((0, -1), (0, 1), (-1, 0), (1, 0), (-1, -1), (1, 1), (-1, 1), (1, -1))
    return np.stack([p[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] for dy, dx in shifts])


def robust_sigma(values: np.ndarray) -> float:
    """Outlier-resistant standard deviation of ``values`` (a 1-D sample; NaN-free).

    Starts from the normal-consistent MAD, ``1.4826 * median(|r - median(r)|)`` (Rousseeuw
    & Croux, JASA 88, 1993; the plain standard deviation when the MAD is 0), then takes three
    times the standard deviation of the samples within 4 sigma of the median. The clipped
    standard deviation keeps the MAD's immunity to a few outliers (defects) but not its bias on
    quantized data: residuals of averaged integer
    frames sit on a grid of 1/n DN and their MAD can be off by 15 %, which would move a 5-sigma
    threshold to 4.2 sigma. Truncation at 4 sigma biases a normal sigma by only -0.05 %.
    """
    if values.size == 0:
        return 0.0
    med = float(np.median(values))
    dev = np.abs(values - med)
    s = MAD_TO_SIGMA * float(np.median(dev))
    if s <= 0:  # more than half the samples equal (integer data, sigma < 0.5): start from the std
        s = float(np.std(values))
    for _ in range(3):
        inner = values[dev <= 4.0 * s]
        if inner.size < 2:
            break
        s = float(np.sqrt(np.mean((inner - np.mean(inner)) ** 2)))
    return s


def tile_robust_sigma(residual: np.ndarray, *, tile_px: int = 32, floor: float = 0.0,
                      exclude: np.ndarray | None = None) -> np.ndarray:
    """:func:`robust_sigma` of ``residual`` per ``tile_px`` tile, expanded to its shape.

    Per tile, so the threshold follows noise that changes over the frame (a vignetted flat
    is noisier, relative to its level, in the corners). The tiles split the plane evenly
    (sizes round to the nearest whole number of tiles). Pixels in ``exclude`` (already known
    outliers) and non-finite values do not enter the statistics. Values below ``floor`` are
    raised to it.
    """
    h, w = residual.shape
    ty = max(1, round(h / tile_px))
    tx = max(1, round(w / tile_px))
    ys = np.linspace(0, h, ty + 1).astype(int)
    xs = np.linspace(0, w, tx + 1).astype(int)
    out = np.empty_like(residual, dtype=np.float64)
    for i in range(ty):
        for j in range(tx):
            sl = (slice(ys[i], ys[i + 1]), slice(xs[j], xs[j + 1]))
            r = residual[sl]
            if exclude is not None:
                r = r[~exclude[sl]]
            r = r[np.isfinite(r)]
            out[sl] = max(robust_sigma(r), floor)
    return out
