"""Cluster defects: connected groups of defective pixels of the same colour plane.

Cluster rule (what this module counts)
--------------------------------------
Two defective pixels belong to the same cluster when they are in the same CFA plane and are
8-connected *in that plane* (same-colour pixels 2 sensor pixels apart horizontally,
vertically or diagonally; adjacent pixels for a mono sensor). A group of 2 is a *couplet*, a
group of 3 or more a *cluster*; single defects are *singlets*.

Why the same colour plane: a camera ISP's defect-pixel correction replaces a pixel from its
same-colour neighbours, so a singlet is always correctable, while a couplet or cluster leaves
a defect whose same-colour neighbours are themselves defective, and correction fails or
smears. Sensor and module vendors therefore specify defects as counts of singlets (allowed,
corrected) and of couplets/clusters (few or none allowed) in these same-colour terms.
EMVA 1288 Release 4.0 (Sec. 8, defect pixels) characterises defects statistically, by the
logarithmic histograms of the DSNU and PRNU images, and sets no cluster rule; no ISO standard
fixes one either. So the rule is stated here and its numbers are reported, not a pass/fail.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from focuslab.hw.defect_planes import plane_slices


@dataclass(frozen=True)
class DefectCluster:
    """One connected group (>= 2 pixels) of defective pixels in one CFA plane.

    Attributes
    ----------
    plane
        Plane name (``"R"``, ``"Gr"``, ``"Gb"``, ``"B"`` or ``"Y"`` for mono).
    size_px
        Number of defective pixels in the group.
    bbox_px
        ``(x, y, w, h)`` of the group on the sensor (mosaic pixel coordinates).
    centroid_px
        ``(x, y)`` mean position of its pixels on the sensor.
    codes
        Sorted defect codes (:class:`~focuslab.hw.defect_detect.DefectCode` values) present.
    """

    plane: str
    size_px: int
    bbox_px: tuple[int, int, int, int]
    centroid_px: tuple[float, float]
    codes: tuple[int, ...]

    @property
    def kind(self) -> str:
        """``"couplet"`` (2 pixels) or ``"cluster"`` (3 or more)."""
        return "couplet" if self.size_px == 2 else "cluster"

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return {"plane": self.plane, "kind": self.kind, "size_px": self.size_px, "bbox_px": list(self.bbox_px),
                "centroid_px": [round(self.centroid_px[0], 2), round(self.centroid_px[1], 2)],
                "codes": list(self.codes)}


def find_clusters(codes: np.ndarray, cfa: str) -> tuple[list[DefectCluster], np.ndarray]:
    """Connected same-plane groups of defective pixels.

    Parameters
    ----------
    codes
        ``H x W`` integer defect codes; nonzero = defective (bits above the type are ignored).
    cfa
        Pattern string of the mosaic (``"mono"`` for a monochrome sensor).

    Returns
    -------
    clusters, member_mask
        The groups of 2 or more pixels, sorted by decreasing size then position, and an
        ``H x W`` boolean mask of the pixels that belong to one.
    """
    codes = np.asarray(codes)
    member = np.zeros(codes.shape, dtype=bool)
    clusters: list[DefectCluster] = []
    structure = np.ones((3, 3), dtype=bool)  # 8-connectivity inside the plane
    for name, (sy, sx) in plane_slices(cfa):
        plane_codes = codes[sy, sx]
        labels, n = ndimage.label(plane_codes != 0, structure=structure)
        if n == 0:
            continue
        sizes = np.bincount(labels.ravel(), minlength=n + 1)
        big = np.flatnonzero(sizes >= 2)
        big = big[big > 0]
        if big.size == 0:
            continue
        member[sy, sx] |= np.isin(labels, big)
        step = 1 if cfa == "mono" else 2
        y0 = sy.start or 0
        x0 = sx.start or 0
        objects = ndimage.find_objects(labels)
        for lab in big:
            sl = objects[lab - 1]
            local = labels[sl] == lab
            yy, xx = np.nonzero(local)
            yy = (yy + sl[0].start) * step + y0
            xx = (xx + sl[1].start) * step + x0
            found = np.unique(plane_codes[sl][local])
            clusters.append(DefectCluster(
                plane=name, size_px=int(sizes[lab]),
                bbox_px=(int(xx.min()), int(yy.min()), int(xx.max() - xx.min() + 1), int(yy.max() - yy.min() + 1)),
                centroid_px=(float(xx.mean()), float(yy.mean())),
                codes=tuple(int(c) for c in found),
            ))
    clusters.sort(key=lambda c: (-c.size_px, c.bbox_px[1], c.bbox_px[0]))
    return clusters, member
