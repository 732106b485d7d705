"""``learned-two-frame``: two frames at known lens codes -> the ``two-frame`` network -> jump.

For cameras without phase detection (Herrmann et al., "Learning to Autofocus", CVPR 2020,
the two-step task; depth from defocus, Pentland, PAMI 1987):

1. Frame 0 at code c0 is kept; the lens makes a probe step of ``probe_dof`` DoF toward the
   middle of the code range (the side with room to move).
2. The first settled frame at c1 and frame 0 go through
   :func:`focuslab.models.predict.two_frame_defocus` (the defocus at frame 1 and its sigma);
   :class:`~focuslab.af.policies.learned_jump.LearnedJumpAF` jumps there.
3. Confirm: the frame before the jump and the first settled frame after it form the next pair
   (a lens move the network knows); done, correct, or fall back to contrast as in the base.

Needs the lens model only (no dual pixel): the image of the AF region suffices.
"""

from __future__ import annotations

from focuslab.af.policies.learned_jump import LearnedJumpAF
from focuslab.af.registry import register_policy
from focuslab.af.types import Command, Observation
from focuslab.errors import check_positive


class LearnedTwoFrameAF(LearnedJumpAF):
    """Two-frame learned AF.

    Parameters
    ----------
    probe_dof
        The probe step between the first two frames, DoF.
    **options
        Those of :class:`~focuslab.af.policies.learned_jump.LearnedJumpAF`.
    """

    name = "learned-two-frame"
    requires: frozenset[str] = frozenset({"lens_model"})
    model_name = "two-frame"

    def __init__(self, *, probe_dof: float = 4.0, **options) -> None:
        super().__init__(**options)
        self.probe_dof = check_positive("probe_dof", probe_dof)

    def on_reset(self) -> None:
        self._prev = None  # (image, code, dof) of the last frame the lens stood still for

    def predict(self, observation: Observation, code: float, dof: float) -> tuple[float, float] | None:
        """Defocus and sigma (DoF) at this frame from the pair (last still frame, this frame)."""
        from focuslab.models.predict import two_frame_defocus

        prev, self._prev = self._prev, (observation.image, float(code), dof)
        if prev is None or abs(prev[1] - code) < 0.5:
            return None  # no pair with a lens move yet: step() probes
        img0, c0, dof0 = prev
        return two_frame_defocus(self.model, img0, observation.image, c0, code, dof0)

    def step(self, observation: Observation) -> Command:
        """Probe on the first frame, then predict from pairs (see the module notes)."""
        cmd = super().step(observation)
        if self._frames == 1 and cmd.target_code is None and not cmd.done and self._hc is None:
            ctx = self._ctx
            code = int(observation.lens_code)
            dof = self._prev[2]
            sign = 1.0 if code < 0.5 * (ctx.min_code + ctx.max_code) else -1.0
            return self.send(observation, code + sign * self.probe_dof * dof)
        return cmd


@register_policy("learned-two-frame")
def make_learned_two_frame(**options) -> LearnedTwoFrameAF:
    """Factory of :class:`LearnedTwoFrameAF` (options are its keyword arguments)."""
    return LearnedTwoFrameAF(**options)
