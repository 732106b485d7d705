"""``oracle``: perfect focus every frame, the reference row of every benchmark.

The oracle is the only policy with privileged access to the truth: its ``requires`` contains
``"truth"``, so :func:`focuslab.af.loop.run_af` hands it ``backend.truth`` through
:meth:`OraclePolicy.set_truth` (the :class:`~focuslab.af.types.AFPolicy` protocol is
unchanged). Each frame it commands the code nearest the best code for the next frame's
exposure (``round(truth(t + frame_interval).best_code)``); a stills run is done at the first
frame that starts at least the actuator's stated settling time after the last move, with the
lens at that code.

"Exact" therefore means: the right code, commanded at once and every frame. What error it
keeps is the actuator's own and irreducible by any policy: the play (a move stops w/2 short),
the per-frame jitter, the code quantisation (half a code) and the posture offset.

``causal=True`` gives what a policy reaches that reads the frame it is shown perfectly but
cannot see the future: it commands ``round(truth(t).best_code)`` for the frame exposed at ``t``,
so a change of subject (a pan to another distance, a cut) costs it the frame that first shows
it, as it costs every real policy. On video the gap between the two rows is what prediction
could still win, and the causal row is the reference a measured figure should be read against
(not a strict bound: a policy that sees a region fill with the next subject can move early).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from focuslab.af.registry import register_policy
from focuslab.af.types import AFContext, Command, Observation
from focuslab.errors import InvalidParameterError


class OraclePolicy:
    """Perfect focus from the truth (see the module notes)."""

    name = "oracle"
    video = True  # scored on video suites too (focus every frame)
    requires = frozenset({"truth"})

    def __init__(self, *, causal: bool = False) -> None:
        self.causal = bool(causal)
        self._truth: Callable | None = None
        self._ctx: AFContext | None = None
        self._t_move = -math.inf

    def set_truth(self, truth: Callable) -> None:
        """Give the oracle ``truth(t_s) -> Truth`` (the loop does this)."""
        self._truth = truth

    def reset(self, context: AFContext) -> None:
        """Start a new run."""
        self._ctx = context
        self._t_move = -math.inf

    def step(self, observation: Observation) -> Command:
        """Command the best code; done once the lens has settled there."""
        ctx = self._ctx
        if self._truth is None or ctx is None:
            raise InvalidParameterError("the oracle needs the truth: run it with focuslab.af.loop.run_af")
        ahead = 0.0 if self.causal else ctx.frame_interval_s
        best = self._truth(observation.t_s + ahead).best_code
        target = int(np.clip(round(best), ctx.min_code, ctx.max_code))
        if target != observation.lens_code:
            self._t_move = observation.t_s + observation.exposure_s
            return Command(target_code=target, done=False)
        settle = ctx.settle_time_s if ctx.settle_time_s is not None else ctx.frame_interval_s
        return Command(target_code=None, done=observation.t_s >= self._t_move + settle)


@register_policy("oracle")
def make_oracle(**options) -> OraclePolicy:
    """The ``oracle`` policy (option: ``causal``)."""
    return OraclePolicy(**options)
