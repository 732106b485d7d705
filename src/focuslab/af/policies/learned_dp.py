"""``learned-dp``: the ``dp-defocus`` network on the dual-pixel AF region; predict, jump, confirm.

Each settled frame, :func:`focuslab.models.predict.dp_defocus` tiles the AF region's left and
right views into the network's crops and pools the crops' predictions by inverse variance
(signed defocus in DoF units and its sigma); :class:`~focuslab.af.policies.learned_jump.LearnedJumpAF`
jumps to the predicted focus, confirms with a second prediction after the move and falls back
to a short contrast search when the uncertainty stays high. Needs a dual-pixel sensor and the
lens model (the factory code <-> distance calibration, to turn DoF into codes).

References
----------
Garg et al., "Learning single camera depth estimation using dual-pixels", ICCV 2019;
Herrmann et al., "Learning to Autofocus", CVPR 2020.
"""

from __future__ import annotations

from focuslab.af.policies.learned_jump import LearnedJumpAF
from focuslab.af.registry import register_policy
from focuslab.af.types import Observation


class LearnedDPAF(LearnedJumpAF):
    """Dual-pixel learned AF (options: :class:`~focuslab.af.policies.learned_jump.LearnedJumpAF`)."""

    name = "learned-dp"
    requires: frozenset[str] = frozenset({"dual_pixel", "lens_model"})
    model_name = "dp-defocus"

    #: A tighter stop than the shared one: the correlation-volume ``dp-defocus`` reads the sign
    #: and size of a defocus well below 1 DoF (through focus on stills-bright it follows the truth
    #: with a gain of ~0.9 on dead leaves, ~0.6 on the low-contrast coffee photograph), so a
    #: remaining 0.3-0.5 DoF is worth a correction. Measured on the full stills-bright and
    #: stills-lowlight suites, seeds 0-2 (42 + 36 cases): with the shipped (binned) weights, done
    #: at 0.25 DoF 100 % / 100 % in focus, mean |error| 0.22 / 0.33 DoF; with the previous weights
    #: at 0.25 DoF 100 % / 97.2 %, and at the shared (0.5, 0.75) 100 % / 91.7 %, 0.33 / 0.50 DoF
    #: (docs/learned_af.md).
    stop_dof = (0.25, 0.3)

    def predict(self, observation: Observation, code: float, dof: float) -> tuple[float, float] | None:
        """The network's defocus and sigma (DoF) of the frame's dual-pixel AF region."""
        from focuslab.models.predict import dp_defocus

        if observation.left is None or observation.right is None:
            return None
        return dp_defocus(self.model, observation.left, observation.right)


@register_policy("learned-dp")
def make_learned_dp(**options) -> LearnedDPAF:
    """Factory of :class:`LearnedDPAF` (options are its keyword arguments)."""
    return LearnedDPAF(**options)
