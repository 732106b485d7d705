"""The result of a defect-pixel detection: the ``uint8`` map, its codes, counts, clusters, JSON.

The map holds a :class:`DefectCode` in the low 7 bits of every pixel and :data:`CLUSTER_FLAG`
on the pixels of couplets and clusters (:mod:`focuslab.hw.defect_clusters`); the definitions
of the types are in :mod:`focuslab.hw.defect_detect`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from focuslab.hw.defect_clusters import DefectCluster, find_clusters


class DefectCode(IntEnum):
    """Type codes of the ``uint8`` defect map (low 7 bits)."""

    OK = 0
    HOT = 1
    DEAD = 2
    STUCK = 3
    BRIGHT = 4


#: Bit set in the defect map on pixels that belong to a couplet or cluster.
CLUSTER_FLAG = 0x80

@dataclass(frozen=True)
class PlaneThresholds:
    """Noise and thresholds found in one CFA plane (medians over its tiles)."""

    plane: str
    dark_sigma_dn: float | None
    gain_sigma: float | None
    hot_threshold_dn: float | None
    dead_threshold_gain: float | None
    flat_level_dn: float | None

    def to_dict(self) -> dict:
        """JSON-ready dict (None where the frame kind was not given)."""
        return {k: (None if v is None else (round(v, 6) if isinstance(v, float) else v))
                for k, v in self.__dict__.items()}


@dataclass(frozen=True, eq=False)
class DefectResult:
    """A defect map and what was found.

    Attributes
    ----------
    codes
        ``uint8`` ``H x W``: :class:`DefectCode` in the low 7 bits, :data:`CLUSTER_FLAG` on
        couplet/cluster members.
    cfa
        Pattern string of the mosaic.
    clusters
        Couplets and clusters (:class:`~focuslab.hw.defect_clusters.DefectCluster`).
    k_sigma
        Threshold used, robust sigmas.
    method
        ``"dark_flat"`` (static, averaged frames) or ``"single_frame"`` (dynamic, one scene).
    planes
        Per-plane noise and thresholds.
    n_dark_frames, n_flat_frames
        Frames averaged into the dark and flat (0 when not given).
    """

    codes: np.ndarray
    cfa: str
    clusters: tuple[DefectCluster, ...]
    k_sigma: float
    method: str
    planes: tuple[PlaneThresholds, ...] = ()
    n_dark_frames: int = 0
    n_flat_frames: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def types(self) -> np.ndarray:
        """``uint8`` map of the type codes alone (cluster bit removed)."""
        return self.codes & np.uint8(0x7F)

    @property
    def mask(self) -> np.ndarray:
        """Boolean map of every defective pixel."""
        return self.codes != 0

    def counts(self) -> dict[str, int]:
        """Number of pixels of every type, the total and the couplet/cluster counts."""
        t = self.types
        out = {c.name.lower(): int(np.count_nonzero(t == c)) for c in DefectCode if c != DefectCode.OK}
        out["total"] = int(np.count_nonzero(t))
        out["couplets"] = sum(1 for c in self.clusters if c.size_px == 2)
        out["clusters"] = sum(1 for c in self.clusters if c.size_px >= 3)
        out["pixels_in_clusters"] = int(np.count_nonzero(self.codes & np.uint8(CLUSTER_FLAG)))
        return out

    def to_dict(self, *, max_clusters: int = 1000) -> dict:
        """JSON summary: counts, fraction of pixels, thresholds, the (largest) clusters."""
        counts = self.counts()
        h, w = self.codes.shape
        return {
            "format": "focuslab.defects/1",
            "method": self.method,
            "shape_px": [h, w],
            "cfa": self.cfa,
            "k_sigma": self.k_sigma,
            "n_dark_frames": self.n_dark_frames,
            "n_flat_frames": self.n_flat_frames,
            "counts": counts,
            "defect_fraction": counts["total"] / float(h * w),
            "largest_cluster_px": max((c.size_px for c in self.clusters), default=1 if counts["total"] else 0),
            "planes": [p.to_dict() for p in self.planes],
            "clusters": [c.to_dict() for c in self.clusters[:max_clusters]],
            "clusters_listed": min(len(self.clusters), max_clusters),
            "codes": {c.name.lower(): int(c) for c in DefectCode} | {"cluster_flag": CLUSTER_FLAG},
            "notes": list(self.notes),
        }


def finish_result(types: np.ndarray, *, cfa: str, k_sigma: float, method: str, planes: tuple = (),
                  n_dark_frames: int = 0, n_flat_frames: int = 0, notes: tuple[str, ...] = ()) -> DefectResult:
    """Find the clusters of a type map, set their flag bit and wrap everything in a DefectResult."""
    clusters, member = find_clusters(types, cfa)
    codes = types.astype(np.uint8, copy=True)
    codes[member] |= np.uint8(CLUSTER_FLAG)
    return DefectResult(codes=codes, cfa=cfa, clusters=tuple(clusters), k_sigma=float(k_sigma), method=method,
                        planes=planes, n_dark_frames=n_dark_frames, n_flat_frames=n_flat_frames, notes=notes)
