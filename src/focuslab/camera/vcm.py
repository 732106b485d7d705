"""A VCM lens moving in time: commands, exact trajectory, hysteresis and position noise.

:class:`VcmActuator` holds the commands sent to an :class:`~focuslab.camera.actuator.ActuatorSpec`
and answers where the lens is at any time. Model:

1. **Target with play.** A command's equilibrium displacement r_cmd = ``spec.target_um(code)``
   passes through a play (backlash) operator of width w [1]:
   ``r = min(max(r_prev, r_cmd − w/2), r_cmd + w/2)``; a move up stops w/2 short below
   r_cmd, a move down w/2 above it, so the same code reached from below and from above
   differs by w. A code at or below lift-off presses the lens onto its stop: r = 0.
2. **Dynamics.** Between commands the lens follows the exact solution of the second-order
   system (:mod:`focuslab.camera.second_order`) from its position *and velocity* at the
   command time, so a new command mid-move superposes a new step response on the ringing
   one — the closed form of the piecewise-constant-input response, with no time stepping.
3. **End stops.** The reported position is clipped to [0, stroke_um] (the lens cannot pass
   its mechanical stops; the clipped excursion is not fed back into the dynamics).
4. **Noise.** Per-frame jitter N(0, σ²), σ = ``position_noise_um``, drawn from a generator
   keyed on (seed, time in ns): the same seed and time always give the same jitter, in any
   call order.

Times are seconds on the caller's clock; before the first command the lens rests at the
initial code's position.

References
----------
.. [1] M. A. Krasnosel'skii and A. V. Pokrovskii, *Systems with Hysteresis*, Springer (1989),
       the play operator.
"""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass

import numpy as np

from focuslab.camera import second_order
from focuslab.camera.actuator import ActuatorSpec
from focuslab.errors import InvalidParameterError, check_finite, check_positive

_NS_PER_S = 1_000_000_000
_MASK64 = (1 << 64) - 1


@dataclass(frozen=True)
class LensCommand:
    """One command in the actuator's history.

    Parameters
    ----------
    t_s
        Time the command was applied, seconds.
    code
        Commanded code.
    commanded_um
        Equilibrium displacement of the code in the current posture, µm.
    target_um
        Where the lens actually goes after the play (hysteresis) operator, µm.
    """

    t_s: float
    code: int
    commanded_um: float
    target_um: float


class VcmActuator:
    """Simulated VCM lens: ``command(code, t_s)`` then ``position_um(t_s)``.

    Parameters
    ----------
    spec
        The actuator.
    seed
        Seed of the position noise (``None``: fresh entropy, fixed for this object).
    initial_code
        Code the lens rests at before the first command (default ``spec.start_code``: on
        the infinity stop).
    """

    def __init__(self, spec: ActuatorSpec, *, seed: int | None = None, initial_code: int | None = None):
        if not isinstance(spec, ActuatorSpec):
            raise InvalidParameterError(f"spec must be an ActuatorSpec, got {type(spec).__name__}")
        self.spec = spec
        self._entropy = np.random.SeedSequence(seed).entropy
        code = spec.start_code if initial_code is None else initial_code
        x0 = spec.target_um(code)
        self._initial_code = int(code)
        self._starts: list[float] = [-math.inf]
        # segment state at its start: (position um, velocity um/s, target um)
        self._states: list[tuple[float, float, float]] = [(x0, 0.0, x0)]
        self._history: list[LensCommand] = []

    # ------------------------------------------------------------------ commands
    @property
    def history(self) -> tuple[LensCommand, ...]:
        """All commands so far, oldest first."""
        return tuple(self._history)

    @property
    def code(self) -> int:
        """The last commanded code (the initial code before any command)."""
        return self._history[-1].code if self._history else self._initial_code

    def code_at(self, t_s: float) -> int:
        """The code in force at time ``t_s`` (the initial code before the first command)."""
        t = check_finite("t_s", t_s)
        i = bisect.bisect_right(self._starts, t) - 1
        return self._history[i - 1].code if i >= 1 else self._initial_code

    def command(self, code: int, t_s: float) -> LensCommand:
        """Send ``code`` at time ``t_s`` (seconds, not earlier than the previous command).

        Returns
        -------
        LensCommand
            The recorded command with its play-shifted target.

        Raises
        ------
        InvalidParameterError
            Code out of range, or a time earlier than the last command.
        """
        t = check_finite("t_s", t_s)
        if t < self._starts[-1]:
            raise InvalidParameterError(
                f"command time {t} s is earlier than the previous command at {self._starts[-1]} s; "
                "send commands in time order"
            )
        commanded = self.spec.target_um(code)
        prev_target = self._states[-1][2]
        if commanded <= 0.0:
            target = 0.0
        else:
            half = 0.5 * self.spec.hysteresis_um
            target = min(max(prev_target, commanded - half), commanded + half)
            target = float(np.clip(target, 0.0, self.spec.stroke_um))
        x, v = self._state_at(t)
        self._starts.append(t)
        self._states.append((x, v, target))
        rec = LensCommand(t_s=t, code=int(code), commanded_um=commanded, target_um=target)
        self._history.append(rec)
        return rec

    def target_at_um(self, t_s: float) -> float:
        """Play-shifted target (µm) in force at time ``t_s``."""
        i = bisect.bisect_right(self._starts, float(t_s)) - 1
        return self._states[max(i, 0)][2]

    # ------------------------------------------------------------------ trajectory
    def _state_at(self, t: float) -> tuple[float, float]:
        i = max(bisect.bisect_right(self._starts, t) - 1, 0)
        x0, v0, r = self._states[i]
        if i == 0:
            return x0, 0.0
        e, v = second_order.propagate(
            x0 - r,
            v0,
            t - self._starts[i],
            natural_frequency_hz=self.spec.natural_frequency_hz,
            damping_ratio=self.spec.damping_ratio,
        )
        return r + e, v

    def position_um(self, t_s):
        """True (noise-free) lens displacement at ``t_s``, µm from the infinity position.

        Accepts a float or an array of times; clipped to the end stops [0, stroke_um].
        """
        t = np.asarray(t_s, dtype=float)
        if np.any(~np.isfinite(t)):
            raise InvalidParameterError("t_s must be finite seconds")
        out = np.array([self._state_at(float(ti))[0] for ti in t.ravel()]).reshape(t.shape)
        out = np.clip(out, 0.0, self.spec.stroke_um)
        return float(out) if out.ndim == 0 else out

    def velocity_um_per_s(self, t_s: float) -> float:
        """Lens velocity at ``t_s``, µm/s (of the unclipped trajectory)."""
        return self._state_at(check_finite("t_s", t_s))[1]

    def noise_um(self, t_s: float) -> float:
        """The position jitter realisation at ``t_s``, µm (N(0, σ²), keyed on seed and time)."""
        t = check_finite("t_s", t_s)
        sigma = self.spec.position_noise_um
        if sigma == 0.0:
            return 0.0
        key = round(t * _NS_PER_S) & _MASK64
        ent = self._entropy
        rng = np.random.default_rng(np.random.SeedSequence([ent & _MASK64, ent >> 64, key]))
        return float(rng.normal(0.0, sigma))

    def position_noisy_um(self, t_s: float) -> float:
        """Lens displacement including its per-frame jitter at ``t_s``, µm, clipped to the stops."""
        x = self.position_um(t_s) + self.noise_um(t_s)
        return float(np.clip(x, 0.0, self.spec.stroke_um))

    def mean_position_um(self, t0_s: float, t1_s: float, *, nodes: int = 16) -> float:
        """Time average of the true position over [t0_s, t1_s], µm.

        Gauss–Legendre quadrature with ``nodes`` points on each piece between commands (the
        trajectory is smooth there, so the rule is accurate to far below a nanometre for
        exposures of a few ms). ``t1_s == t0_s`` gives the position at t0_s.
        """
        a, b = check_finite("t0_s", t0_s), check_finite("t1_s", t1_s)
        if b < a:
            raise InvalidParameterError(f"t1_s {b} is before t0_s {a}; give an increasing window")
        if b == a:
            return self.position_um(a)
        check_positive("nodes", nodes)
        cuts = [a] + [t for t in self._starts[1:] if a < t < b] + [b]
        xg, wg = np.polynomial.legendre.leggauss(int(nodes))
        total = 0.0
        for lo, hi in itertools.pairwise(cuts):
            ts = 0.5 * (hi - lo) * xg + 0.5 * (hi + lo)
            total += 0.5 * (hi - lo) * float(np.dot(wg, self.position_um(ts)))
        return total / (b - a)
