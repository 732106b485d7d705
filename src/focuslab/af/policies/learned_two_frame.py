"""``learned-two-frame``: two frames at known lens codes -> the ``two-frame`` network -> jump.

For cameras without phase detection (Herrmann et al., "Learning to Autofocus", CVPR 2020,
the two-step task; depth from defocus, Pentland, PAMI 1987):

1. Frame 0 at code c0 is kept; the lens makes a probe step of ``probe_dof`` DoF toward the
   middle of the code range (the side with room to move).
2. The first settled frame at c1 and frame 0 go through
   :func:`focuslab.models.predict.two_frame_defocus` (the defocus at frame 1 and its sigma);
   :class:`~focuslab.af.policies.learned_jump.LearnedJumpAF` jumps there.
3. Confirm: the last settled frame at another code and this settled frame form the next pair
   when they are at most ``max_pair_codes`` apart (the moves of the training pairs); after a
   longer jump the lens first probes again (on the same way as the jump), costing one frame.
   Then done, correct, or fall back to contrast as in the base.
   (The base's secant correction is off: each pair already measures the blur change across a
   known move, and the secant over a pair-based prediction overshot to the end stop.)

Needs the lens model only (no dual pixel): the image of the AF region suffices.
"""

from __future__ import annotations

import numpy as np

from focuslab.af.policies.learned_jump import LearnedJumpAF
from focuslab.af.registry import register_policy
from focuslab.af.types import Command, Observation
from focuslab.errors import InvalidParameterError, check_positive


class LearnedTwoFrameAF(LearnedJumpAF):
    """Two-frame learned AF.

    Parameters
    ----------
    probe_dof
        The probe step between the frames of a pair, DoF, clipped to [``min_pair_codes``,
        ``max_pair_codes``].
    min_pair_codes, max_pair_codes
        The lens moves between a pair's frames the network was trained on (the training set's
        ``two_frame.step_codes``, 15-80 codes); a pair further apart is not used: the policy
        probes again from the current frame.
    **options
        Those of :class:`~focuslab.af.policies.learned_jump.LearnedJumpAF`; here ``done_dof``
        defaults to 1 DoF and ``max_corrections`` to 2 (the pair network is less precise near
        focus than the dual-pixel one: a tighter stop made the lens hunt between probes).
    """

    name = "learned-two-frame"
    requires: frozenset[str] = frozenset({"lens_model"})
    model_name = "two-frame"

    def __init__(self, *, probe_dof: float = 4.0, min_pair_codes: float = 15.0, max_pair_codes: float = 80.0,
                 **options) -> None:
        options = {"done_dof": 1.0, "max_corrections": 2, **options}
        super().__init__(**options)
        self.probe_dof = check_positive("probe_dof", probe_dof)
        self.min_pair_codes = check_positive("min_pair_codes", min_pair_codes)
        self.max_pair_codes = check_positive("max_pair_codes", max_pair_codes)
        if self.max_pair_codes < self.min_pair_codes:
            raise InvalidParameterError(
                f"max_pair_codes ({max_pair_codes}) must be >= min_pair_codes ({min_pair_codes})")

    use_secant = False

    def on_reset(self) -> None:
        self._prev = None  # (image, code, dof) of the last settled frame
        self._ref = None  # the last settled frame at another code than the current one
        self._need_probe = False
        self._last_move = 0.0

    def predict(self, observation: Observation, code: float, dof: float) -> tuple[float, float] | None:
        """Defocus and sigma (DoF) at this frame from the pair (last settled frame at another code, this frame)."""
        from focuslab.models.predict import two_frame_defocus

        if self._prev is not None and abs(self._prev[1] - code) >= 0.5:
            self._ref = self._prev  # the lens moved since: the previous settled frame is the reference
        self._prev = (observation.image, float(code), dof)
        if self._ref is not None and abs(self._ref[1] - code) > self.max_pair_codes:
            self._ref = None  # a pair further apart than the training pairs: probe afresh from here
        if self._ref is None:
            self._need_probe = True
            return None  # no usable pair yet: step() probes
        img0, c0, dof0 = self._ref
        return two_frame_defocus(self.model, img0, observation.image, c0, code, dof0)

    def step(self, observation: Observation) -> Command:
        """Probe when there is no usable pair, else predict from the pair (see the module notes)."""
        self._need_probe = False
        cmd = super().step(observation)
        if self._need_probe and cmd.target_code is None and not cmd.done and self._hc is None:
            ctx = self._ctx
            code = int(observation.lens_code)
            step = float(np.clip(self.probe_dof * self._prev[2], self.min_pair_codes, self.max_pair_codes))
            sign = 1.0 if code < 0.5 * (ctx.min_code + ctx.max_code) else -1.0
            if self._last_move:
                sign = self._last_move  # after a jump: on the same way (a short jump is the common miss)
            if not ctx.min_code <= code + sign * step <= ctx.max_code:
                sign = -sign
            return self.send(observation, code + sign * step)
        if cmd.target_code is not None:
            self._last_move = 1.0 if cmd.target_code > int(observation.lens_code) else -1.0
        return cmd


@register_policy("learned-two-frame")
def make_learned_two_frame(**options) -> LearnedTwoFrameAF:
    """Factory of :class:`LearnedTwoFrameAF` (options are its keyword arguments)."""
    return LearnedTwoFrameAF(**options)
