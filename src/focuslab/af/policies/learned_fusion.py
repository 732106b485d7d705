"""``learned-fusion``: the ``fusion`` network on dual pixel + depth-sensor zones + lens state.

Each settled frame, :func:`focuslab.models.predict.fusion_defocus` reads the AF region's
dual-pixel views, the depth sensor's zone grid (metres, NaN where a zone has no return, with
each zone's 1-sigma) and the lens code and codes per DoF; the prediction drives the jump /
confirm / fall-back logic of :class:`~focuslab.af.policies.learned_jump.LearnedJumpAF`. The
depth sensor runs slower than the frames: a frame without a new reading reuses the last one,
and before the first reading the grid is all "no return". Needs dual pixel, depth and the
lens model.
"""

from __future__ import annotations

import numpy as np

from focuslab.af.policies.learned_jump import LearnedJumpAF
from focuslab.af.registry import register_policy
from focuslab.af.types import Observation

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

    def on_reset(self) -> None:
        self._depth: tuple[np.ndarray, np.ndarray] | None = None

    def predict(self, observation: Observation, code: float, dof: float) -> tuple[float, float] | None:
        """The network's defocus and sigma (DoF) from the frame's DP region, the depth zones and the lens."""
        from focuslab.models.predict import fusion_defocus

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
        return fusion_defocus(self.model, observation.left, observation.right, depth_m, sigma_m, code, dof)


@register_policy("learned-fusion")
def make_learned_fusion(**options) -> LearnedFusionAF:
    """Factory of :class:`LearnedFusionAF` (options are its keyword arguments)."""
    return LearnedFusionAF(**options)
