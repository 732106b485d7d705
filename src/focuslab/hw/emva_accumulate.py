"""Streaming EMVA 1288 statistics: frames go in one at a time, memory does not grow with their number.

Per step and per CFA channel (the mosaic split into its 2x2 sub-lattices ``R``, ``Gr``,
``Gb``, ``B``, or ``mono``):

* the mean ``mu_y`` (average of the frames' spatial means) and the temporal variance from the
  difference of two frames, ``sigma_y^2 = 1/(2 MN) sum((y_A - y_B) - (mu_A - mu_B))^2``
  (EMVA 1288 R4.0 Sec. 6.6; with more than two frames, the mean over disjoint consecutive
  pairs), in exact integer arithmetic;
* the count of pixels at the white level (saturation check).

For the spatial step (one flat step and the dark step at the same exposure, R4.0 Sec. 8) a
per-pixel sum (``uint32``) and sum of squares (``uint64``) are kept, so the averaged image
``<y>`` and the temporal "stack" variance ``sigma_y.stack^2`` come out exactly at any frame
count. Frames are processed in strips of rows so temporaries stay small. Memory: one pending
frame per step in flight, plus 12 bytes per pixel while a spatial step accumulates and 8 bytes
per pixel for the kept dark average image.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from focuslab.errors import InputFileError, InvalidParameterError
from focuslab.hw.emva_series import StepKey

_ROWS_PER_STRIP = 256


def channel_cells(cfa: str) -> dict[str, tuple[int, int] | None]:
    """The channels of a CFA and the (row, col) of their cell in the 2x2 block (``mono``: None).

    The green on the red rows is ``Gr``, the green on the blue rows ``Gb``.
    """
    if cfa == "mono":
        return {"mono": None}
    cells = ((0, 0), (0, 1), (1, 0), (1, 1))
    red_row = 0 if "R" in cfa[:2] else 1
    out = {}
    for colour, (r, c) in zip(cfa, cells, strict=True):
        out[colour if colour != "G" else ("Gr" if r == red_row else "Gb")] = (r, c)
    return {k: out[k] for k in ("R", "Gr", "Gb", "B")}


def _plane(a: np.ndarray, cell: tuple[int, int] | None) -> np.ndarray:
    return a if cell is None else a[cell[0] :: 2, cell[1] :: 2]


@dataclass
class StepStats:
    """Temporal statistics of one step in one channel (sums; see the properties)."""

    n_frames: int = 0
    n_pixels: int = 0
    sum_of_means_dn: float = 0.0
    sum_of_pair_variances_dn2: float = 0.0
    n_pairs: int = 0
    n_saturated: int = 0

    @property
    def mean_dn(self) -> float:
        """``mu_y``, DN: the average of the frames' means."""
        return self.sum_of_means_dn / self.n_frames

    @property
    def variance_dn2(self) -> float:
        """``sigma_y^2``, DN^2: half the variance of the difference of a pair, averaged over pairs."""
        return self.sum_of_pair_variances_dn2 / self.n_pairs if self.n_pairs else float("nan")

    @property
    def saturated_fraction(self) -> float:
        """Fraction of the step's samples at or above the white level."""
        return self.n_saturated / max(1, self.n_pixels * self.n_frames)


@dataclass(frozen=True, eq=False)
class SpatialStats:
    """Spatial statistics of the averaged image of one step in one channel (R4.0 Sec. 8).

    ``mean_image_dn`` is ``<y>`` (M x N); ``var_stack_dn2`` the mean per-pixel temporal
    variance of the L frames (unbiased); ``n_frames`` is L.
    """

    n_frames: int
    mean_image_dn: np.ndarray
    var_stack_dn2: float


@dataclass
class _SpatialAccumulator:
    sum_dn: np.ndarray
    sumsq_dn2: np.ndarray
    n: int = 0


@dataclass
class EmvaStatistics:
    """Everything the evaluation needs, gathered from the frames."""

    cfa: str
    shape_px: tuple[int, int]
    white_level_dn: int
    steps: dict[StepKey, dict[str, StepStats]]
    spatial: dict[StepKey, dict[str, SpatialStats]] = field(default_factory=dict)

    @property
    def channels(self) -> list[str]:
        """Channel names in order."""
        return list(channel_cells(self.cfa))


def choose_spatial_steps(plan: dict[StepKey, int]) -> tuple[StepKey, StepKey] | None:
    """The flat step for the spatial nonuniformity and its dark step (same exposure).

    The flat step with the most frames; among equals, the middle one of the signal order (the
    standard asks for about 50 % saturation). None when no flat step has a dark partner.
    """
    darks = {k.exposure_s: k for k in plan if k.kind == "dark"}
    flats = sorted(
        (k for k in plan if k.kind == "flat" and k.exposure_s in darks),
        key=lambda k: (k.exposure_s * (k.irradiance_photons_per_pixel or 1.0)),
    )
    if not flats:
        return None
    most = max(plan[k] for k in flats)
    best = [k for k in flats if plan[k] == most]
    flat = best[len(best) // 2]
    return flat, darks[flat.exposure_s]


class EmvaAccumulator:
    """Feed frames with :meth:`add`, get :class:`EmvaStatistics` from :meth:`finish`.

    Parameters
    ----------
    plan
        Expected frame count per step (a finished step frees its buffers at once).
    cfa
        ``"mono"`` or a Bayer pattern string of the frames' top-left 2x2 block.
    white_level_dn
        Largest digital value; samples at or above it count as saturated.
    spatial
        ``(flat_step, dark_step)`` for the spatial evaluation, default
        :func:`choose_spatial_steps`; None in the tuple's place disables it.
    """

    def __init__(self, plan: dict[StepKey, int], *, cfa: str, white_level_dn: int,
                 spatial: tuple[StepKey, StepKey] | str | None = "auto") -> None:
        self.plan = dict(plan)
        self.cells = channel_cells(cfa)
        self.cfa = cfa
        self.white_level_dn = int(white_level_dn)
        self.spatial_keys = choose_spatial_steps(self.plan) if spatial == "auto" else spatial
        self.shape: tuple[int, int] | None = None
        self._steps: dict[StepKey, dict[str, StepStats]] = {}
        self._pending: dict[StepKey, np.ndarray] = {}
        self._acc: dict[StepKey, _SpatialAccumulator] = {}
        self._spatial: dict[StepKey, dict[str, SpatialStats]] = {}

    # --- per frame ---------------------------------------------------------------------------
    def add(self, key: StepKey, frame: np.ndarray) -> None:
        """Accumulate one ``uint16`` frame of step ``key``."""
        if key not in self.plan:
            raise InvalidParameterError(f"step {key} is not in the series plan")
        a = np.asarray(frame)
        if a.ndim != 2 or a.dtype != np.uint16:
            raise InvalidParameterError(f"frames must be 2-D uint16 arrays, got {a.dtype} {a.shape}")
        if self.shape is None:
            if self.cfa != "mono" and (a.shape[0] % 2 or a.shape[1] % 2):
                raise InputFileError(f"a {self.cfa} frame must have even width and height, got {a.shape[::-1]}")
            self.shape = a.shape
        elif a.shape != self.shape:
            raise InputFileError(
                f"mismatched frame sizes: {a.shape[1]}x{a.shape[0]} after {self.shape[1]}x{self.shape[0]}; "
                "all frames must have the same size"
            )
        stats = self._steps.setdefault(key, {c: StepStats() for c in self.cells})
        for c, cell in self.cells.items():
            p = _plane(a, cell)
            s = stats[c]
            s.n_frames += 1
            s.n_pixels = p.size
            s.sum_of_means_dn += float(p.sum(dtype=np.uint64)) / p.size
            s.n_saturated += int(np.count_nonzero(p >= self.white_level_dn))
        first = self._pending.pop(key, None)
        if first is None:
            self._pending[key] = a
        else:
            self._add_pair(stats, first, a)
        if self.spatial_keys is not None and key in self.spatial_keys:
            self._add_spatial(key, a)
        if stats[next(iter(self.cells))].n_frames == self.plan[key]:
            self._close(key)

    def _add_pair(self, stats: dict[str, StepStats], a: np.ndarray, b: np.ndarray) -> None:
        sums = {c: [0, 0] for c in self.cells}
        for r0 in range(0, a.shape[0], _ROWS_PER_STRIP):
            d = a[r0 : r0 + _ROWS_PER_STRIP].astype(np.int64) - b[r0 : r0 + _ROWS_PER_STRIP]
            for c, cell in self.cells.items():
                dp = _plane(d, cell)
                sums[c][0] += int(dp.sum())
                sums[c][1] += int(np.einsum("ij,ij->", dp, dp))
        for c in self.cells:
            n = stats[c].n_pixels
            s1, s2 = sums[c]
            # 1/(2n) sum((d - mean d)^2) = (s2 - s1^2/n) / (2n)
            stats[c].sum_of_pair_variances_dn2 += (s2 - s1 * s1 / n) / (2.0 * n)
            stats[c].n_pairs += 1

    def _add_spatial(self, key: StepKey, a: np.ndarray) -> None:
        acc = self._acc.get(key)
        if acc is None:
            acc = self._acc[key] = _SpatialAccumulator(np.zeros(a.shape, np.uint32), np.zeros(a.shape, np.uint64))
        for r0 in range(0, a.shape[0], _ROWS_PER_STRIP):
            strip = a[r0 : r0 + _ROWS_PER_STRIP]
            acc.sum_dn[r0 : r0 + _ROWS_PER_STRIP] += strip
            sq = strip.astype(np.uint64)
            sq *= sq
            acc.sumsq_dn2[r0 : r0 + _ROWS_PER_STRIP] += sq
        acc.n += 1

    def _close(self, key: StepKey) -> None:
        self._pending.pop(key, None)
        acc = self._acc.pop(key, None)
        if acc is None:
            return
        n = acc.n
        if n < 2:
            raise InvalidParameterError(f"too few frames: the spatial step {key} has {n}; it needs >= 2")
        mean_img = np.empty(acc.sum_dn.shape, np.float64)
        var_sum = dict.fromkeys(self.cells, 0.0)
        for r0 in range(0, mean_img.shape[0], _ROWS_PER_STRIP):
            s = acc.sum_dn[r0 : r0 + _ROWS_PER_STRIP].astype(np.int64)
            q = acc.sumsq_dn2[r0 : r0 + _ROWS_PER_STRIP].astype(np.int64)
            mean_img[r0 : r0 + _ROWS_PER_STRIP] = s / n
            # per-pixel (n q - s^2) = n(n-1) x unbiased variance; exact in int64 below 46 000 frames
            q *= n
            s *= s
            q -= s
            for c, cell in self.cells.items():  # strips start on even rows: the CFA phase is kept
                var_sum[c] += float(_plane(q, cell).sum())
        del acc
        self._spatial[key] = {
            c: SpatialStats(n, _plane(mean_img, cell), var_sum[c] / (n * (n - 1.0) * _plane(mean_img, cell).size))
            for c, cell in self.cells.items()
        }

    # --- end ---------------------------------------------------------------------------------
    def finish(self) -> EmvaStatistics:
        """Close every step still open and return the statistics."""
        if self.shape is None:
            raise InputFileError("no frames were read; the series is empty")
        for key in list(self._acc):
            self._close(key)
        for key, stats in self._steps.items():
            if stats[next(iter(self.cells))].n_pairs == 0:
                raise InvalidParameterError(f"too few frames: step {key} has one frame; EMVA 1288 needs a pair")
        return EmvaStatistics(
            cfa=self.cfa, shape_px=self.shape, white_level_dn=self.white_level_dn,
            steps=dict(self._steps), spatial=dict(self._spatial),
        )
