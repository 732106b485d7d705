"""``learned-fusion``: the ``fusion`` network on dual pixel + depth-sensor zones + lens state.

Each settled frame, :func:`focuslab.models.predict.fusion_defocus` reads the AF region's
dual-pixel views, the depth sensor's zone grid (metres, NaN where a zone has no return, with
each zone's 1-sigma) and the lens code and codes per DoF; the prediction drives the jump /
confirm / fall-back logic of :class:`~focuslab.af.policies.learned_jump.LearnedJumpAF`. The
depth sensor runs slower than the frames: a frame without a new reading reuses the last one,
and before the first reading the grid is all "no return". Needs dual pixel, depth and the
lens model.

Nearest subject (``nearest_subject=True``, the default; as ``learned-dp``,
:class:`~focuslab.models.nearest_subject.NearestSubjectRun`): within 6 DoF of focus the region
is read again as overlapping crops (every half crop, each with the whole zone grid); once their
readings disagree beyond their sigmas the nearest subject's crops are pooled for the rest of
the run. Full suites, phone_main_tof, seeds 0-2: depth-edge 38.9 % -> 77.8 % in focus,
stills-bright 97.6 % -> 100 %, stills-lowlight 97.2 % and low-texture 95.8 % both. ``False``
pools every crop.
"""

from __future__ import annotations

import numpy as np

from focuslab.af.policies.learned_jump import LearnedJumpAF
from focuslab.af.registry import register_policy
from focuslab.af.types import Observation
from focuslab.models.nearest_subject import NearestSubjectRun, nearest_subject_option

#: Zone grid assumed before the first depth reading (VL53L5CX-class 8 x 8).
DEFAULT_ZONES = (8, 8)


class LearnedFusionAF(LearnedJumpAF):
    """Multi-modal learned AF (options: :class:`~focuslab.af.policies.learned_jump.LearnedJumpAF`)."""

    name = "learned-fusion"
    requires: frozenset[str] = frozenset({"dual_pixel", "depth", "lens_model"})
    model_name = "fusion"

    #: The tighter stop of ``learned-dp``: measured on the full stills-bright, stills-lowlight,
    #: depth-edge and low-texture suites, seeds 0-2 (42 + 36 + 18 + 24 cases), with the shipped
    #: weights done at 0.25 DoF 97.6 / 97.2 / 38.9 / 100 % in focus; at the shared (0.5, 0.75)
    #: the previous weights gave 95.2 / 94.4 / 27.8 / 83.3 % (docs/learned_af.md).
    stop_dof = (0.25, 0.3)

    def __init__(self, *, nearest_subject: bool = True, **options) -> None:
        """Options of :class:`~focuslab.af.policies.learned_jump.LearnedJumpAF`, plus ``nearest_subject``."""
        super().__init__(**options)
        self.nearest_subject = nearest_subject_option(nearest_subject)

    def on_reset(self) -> None:
        self._depth: tuple[np.ndarray, np.ndarray] | None = None
        self._nearest = NearestSubjectRun()

    def predict(self, observation: Observation, code: float, dof: float) -> tuple[float, float] | None:
        """The network's defocus and sigma (DoF) from the frame's DP region, the depth zones and the lens."""
        from focuslab.models.predict import fusion_defocus, fusion_defocus_map

        if observation.left is None or observation.right is None:
            return None
        if observation.depth is not None:
            dz = observation.depth
            dist = np.where(dz.valid, dz.distance_m, np.nan).astype(np.float32)
            self._depth = (dist, np.where(dz.valid, dz.sigma_m, np.nan).astype(np.float32))
        if self._depth is None:
            empty = np.full(DEFAULT_ZONES, np.nan, dtype=np.float32)
            depth_m, sigma_m = empty, empty
        else:
            depth_m, sigma_m = self._depth
        d, s = fusion_defocus(self.model, observation.left, observation.right, depth_m, sigma_m, code, dof)
        if not self.nearest_subject:
            return d, s

        def crop_readings():
            if min(np.shape(observation.left)) < 2 * int(self.model.crop_px):
                return None
            _, dc, sc = fusion_defocus_map(self.model, observation.left, observation.right, depth_m, sigma_m, code, dof)
            return dc, sc

        return self._nearest.region(d, s, crop_readings)


@register_policy("learned-fusion")
def make_learned_fusion(**options) -> LearnedFusionAF:
    """Factory of :class:`LearnedFusionAF` (options are its keyword arguments)."""
    return LearnedFusionAF(**options)
