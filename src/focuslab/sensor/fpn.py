"""Fixed-pattern noise maps (PRNU gain, DSNU offset), fixed per sensor and per pixel position.

The maps are drawn in tiles of ``TILE_PX x TILE_PX`` pixels, each tile from its own generator
seeded by ``(fpn_seed, tile_row, tile_col)``. The value at a pixel therefore depends only on
the sensor's ``fpn_seed`` and the pixel's absolute position: a ROI capture sees exactly the
pattern of the same pixels in a full-frame capture, and a ROI never costs a full-frame map.
Maps are cached per (spec, roi).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from focuslab.sensor.spec import SensorSpec

#: Edge of the square tiles in which the fixed patterns are drawn, pixels.
TILE_PX = 64


def _unit_normal_maps(fpn_seed: int, roi: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Two independent standard-normal maps over ``roi = (x, y, w, h)``, indexed absolutely."""
    x, y, w, h = roi
    gain = np.empty((h, w), dtype=np.float64)
    offset = np.empty((h, w), dtype=np.float64)
    for ty in range(y // TILE_PX, (y + h - 1) // TILE_PX + 1):
        for tx in range(x // TILE_PX, (x + w - 1) // TILE_PX + 1):
            rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence((fpn_seed, ty, tx))))
            tile = rng.standard_normal((2, TILE_PX, TILE_PX))
            y0, x0 = ty * TILE_PX, tx * TILE_PX
            ys, ye = max(y, y0), min(y + h, y0 + TILE_PX)
            xs, xe = max(x, x0), min(x + w, x0 + TILE_PX)
            gain[ys - y : ye - y, xs - x : xe - x] = tile[0, ys - y0 : ye - y0, xs - x0 : xe - x0]
            offset[ys - y : ye - y, xs - x : xe - x] = tile[1, ys - y0 : ye - y0, xs - x0 : xe - x0]
    return gain, offset


@lru_cache(maxsize=8)
def fpn_maps(spec: SensorSpec, roi: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """PRNU gain map and DSNU offset map of ``spec`` over ``roi``.

    Parameters
    ----------
    spec
        The sensor; its ``fpn_seed``, ``prnu_fraction`` and ``dsnu_e`` are used.
    roi
        ``(x, y, w, h)`` on the sensor, pixels (validated by the caller).

    Returns
    -------
    gain, offset_e : numpy.ndarray
        Read-only ``float64`` ``h x w`` arrays: the multiplicative photo-response map
        ``1 + prnu_fraction * z1`` (mean 1, rms deviation ``prnu_fraction``) and the additive
        dark offset ``dsnu_e * z2`` in electrons (mean 0, rms ``dsnu_e``), with ``z1, z2``
        independent standard normal per pixel.

    Notes
    -----
    Gaussian PRNU and DSNU are the EMVA 1288 linear model's spatial non-uniformities
    (EMVA 1288 Release 4.0, Sec. 4.5: ``DSNU1288 = s_y.dark / K``, ``PRNU1288 = s_gw / mu``).
    The gain is not clipped: at ``prnu_fraction < 0.5`` a negative gain is a > 10-sigma event.
    """
    z_gain, z_offset = _unit_normal_maps(int(spec.fpn_seed), tuple(int(v) for v in roi))
    gain = 1.0 + float(spec.prnu_fraction) * z_gain
    offset = float(spec.dsnu_e) * z_offset
    gain.flags.writeable = False
    offset.flags.writeable = False
    return gain, offset
