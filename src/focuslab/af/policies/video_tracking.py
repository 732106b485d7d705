"""Pieces of video AF (:mod:`focuslab.af.policies.continuous`): tracker gains, lens follower, contrast climber.

* :func:`kalata_gains` -- steady-state alpha-beta gains from Kalata's tracking index [1];
* :class:`LensFollower` -- the commanded lens trajectory: hysteresis, a critically damped
  follower with the target's velocity fed forward, speed / acceleration / jerk limits, and no
  reversal on an unconfident error;
* :class:`ContrastClimber` -- a hill-climb on consecutive frames for cameras with neither phase
  nor depth, with the focus value :func:`focus_energy`.

References
----------
.. [1] P. R. Kalata, "The tracking index: a generalized parameter for alpha-beta and
       alpha-beta-gamma target trackers", IEEE Trans. Aerosp. Electron. Syst. 20(2),
       174-182 (1984), eqs. (11)-(12).
.. [2] K. Ogata, *Modern Control Engineering*, 5th ed., Prentice Hall (2010), sec. 5-3
       (second-order system, critical damping zeta = 1: fastest response without overshoot).
.. [3] T. Kroeger, *On-Line Trajectory Generation in Robotic Systems*, Springer (2010), ch. 3
       (the braking curve v = sqrt(2 a d) that stops in distance d).
.. [4] J. M. Tenenbaum, "Accommodation in computer vision", PhD thesis, Stanford (1970)
       (gradient-energy focus measure).
"""

from __future__ import annotations

import math

import numpy as np

#: Natural frequency of the critically damped lens follower, radians per frame.
FOLLOWER_OMEGA = 0.6

#: Target speed (DoF per frame) below which the target counts as still.
STILL_DOF_PER_FRAME = 0.05


def kalata_gains(tracking_index: float) -> tuple[float, float]:
    """Steady-state alpha-beta gains for Kalata's tracking index Lambda >= 0 ([1], eqs. 11-12).

    Lambda = sigma_w T^2 / sigma_v (target acceleration noise, frame time, measurement noise);
    alpha = -(L^2 + 8 L - (L + 4) sqrt(L^2 + 8 L)) / 8, beta = (L^2 + 4 L - L sqrt(L^2 + 8 L)) / 4,
    which satisfy L^2 = beta^2 / (1 - alpha).
    """
    lam = max(float(tracking_index), 0.0)
    r = math.sqrt(lam * lam + 8.0 * lam)
    alpha = -(lam * lam + 8.0 * lam - (lam + 4.0) * r) / 8.0
    beta = (lam * lam + 4.0 * lam - lam * r) / 4.0
    return alpha, beta


def focus_energy(plane: np.ndarray) -> float:
    """Energy of the image gradient over the squared mean: a contrast independent of exposure [4]."""
    g = np.asarray(plane, dtype=np.float64)
    if g.ndim != 2 or g.shape[0] < 2 or g.shape[1] < 2:
        return 0.0
    m = float(g.mean())
    if not math.isfinite(m) or m <= 0:
        return 0.0
    e = np.mean(np.diff(g, axis=0) ** 2) + np.mean(np.diff(g, axis=1) ** 2)
    return float(e / (m * m))


class LensFollower:
    """The commanded lens trajectory, one frame at a time (all limits in DoF units per frame^k).

    Notes
    -----
    At rest the lens stays until the error e = setpoint - position exceeds ``deadband_dof``
    (hysteresis), and a move back the way it last went needs ``reverse_dof``. Moving, the
    acceleration is a = w^2 e + 2 w (v_target - u) (a critically damped second-order follower
    [2] with the target velocity fed forward), limited to ``max_accel_dof``; while speeding up
    it may change by at most ``max_jerk_dof`` per frame (a soft start; braking is never
    delayed). The velocity u is limited to the speed and to the braking curve
    sqrt(2 a_max |e|) + |v_target| [3], and never changes sign on an unconfident error. The
    lens rests again within ``stop_band_dof`` of a still target.
    """

    def __init__(self, *, max_accel_dof: float, max_jerk_dof: float, deadband_dof: float, stop_band_dof: float,
                 reverse_dof: float) -> None:
        self.max_accel_dof, self.max_jerk_dof = max_accel_dof, max_jerk_dof
        self.deadband_dof, self.stop_band_dof, self.reverse_dof = deadband_dof, stop_band_dof, reverse_dof
        self.reset(0.0)

    def reset(self, code: float) -> None:
        """Rest at ``code``."""
        self.p, self.u, self.a = float(code), 0.0, 0.0
        self.moving, self.last_dir = False, 0.0

    @property
    def at_rest(self) -> bool:
        """Whether the lens is resting (not moving, zero velocity)."""
        return not self.moving and self.u == 0.0

    def _rest(self) -> int:
        self.moving, self.u, self.a = False, 0.0, 0.0
        return round(self.p)

    def step(self, setpoint: float | None, v_target: float, dof: float, speed: float, force: bool,
             lo: float, hi: float) -> int:
        """Next commanded code towards ``setpoint`` (None: stop where the lens is), within [lo, hi].

        ``force`` ignores the hysteresis (a contrast search must move).
        """
        amax, jmax = self.max_accel_dof * dof, self.max_jerk_dof * dof
        if setpoint is None:
            setpoint, v_target = self.p, 0.0
        e = setpoint - self.p
        still = abs(v_target) < STILL_DOF_PER_FRAME * dof
        confident = abs(e) >= self.reverse_dof * dof or force
        if not self.moving:
            if abs(e) < self.deadband_dof * dof and not force:
                return round(self.p)
            if np.sign(e) == -self.last_dir and not confident:
                return round(self.p)  # a move back the way the lens came needs a confident error
            self.moving = True
        elif abs(e) < self.stop_band_dof * dof and still and abs(self.u) <= jmax:
            return self._rest()
        w = FOLLOWER_OMEGA
        a = float(np.clip(w * w * e + 2.0 * w * (v_target - self.u), -amax, amax))
        if a * self.u >= 0.0:  # speeding up: soft start
            a = float(np.clip(a, self.a - jmax, self.a + jmax)) if a * self.a >= 0.0 else float(np.clip(a, -jmax, jmax))
        u = self.u + a
        brake = math.sqrt(2.0 * amax * abs(e)) + abs(v_target)
        u = float(np.clip(u, -min(speed, brake if e < 0 else speed), min(speed, brake if e > 0 else speed)))
        if u * self.last_dir < 0.0 and not confident:
            u = 0.0  # never reverse on an unconfident error: stop instead
        self.a, self.u = u - self.u, u
        if u != 0.0:
            self.last_dir = float(np.sign(u))
        elif still:
            self.moving = False
        p = self.p + u
        if p <= lo or p >= hi:
            p, self.u, self.a = float(min(max(p, lo), hi)), 0.0, 0.0
        self.p = p
        return round(p)


class ContrastClimber:
    """Hill-climb on consecutive frames (no wobble), then watch the focus value.

    States: ``search`` (scan at the scan speed; turn once when two frames past the start are
    below the best by ``drop``; stop when two frames past the best are; the peak is the vertex
    of a parabola through the samples within 2.5 scan steps of the best), ``settle`` (go to the
    peak), ``idle`` (watch: a drop of ``refocus_drop`` below the settled value for 3 frames
    starts a new search) and ``wait`` (after a scene change, until 2 frames without one).
    """

    def __init__(self, *, scan_dof: float, drop: float, refocus_drop: float) -> None:
        self.scan_dof, self.drop, self.refocus_drop = scan_dof, drop, refocus_drop
        self.state, self.samples, self.dir, self.reversed = "search", [], 0, False
        self.peak, self.fm_ref, self.low, self.stable = None, None, 0, 0

    def step(self, fm: float, pos: float, lens_p: float, at_rest: bool, dof: float, changed: bool,
             lo: float, hi: float) -> float | None:
        """Setpoint (code) for this frame; None: hold. ``pos``: where the lens was for ``fm``."""
        if changed:
            self.state, self.stable = "wait", 0
        if self.state == "wait":
            self.stable = 0 if changed else self.stable + 1
            if self.stable < 2:
                return None
            self.state, self.samples, self.dir = "search", [], 0
        if self.state == "idle":
            if self.fm_ref is None:
                self.fm_ref, self.low = fm, 0
                return self.peak
            self.low = self.low + 1 if fm < (1.0 - self.refocus_drop) * self.fm_ref else 0
            if self.low < 3:
                return self.peak
            self.state, self.samples, self.dir = "search", [], 0
        if self.state == "settle":
            if at_rest:
                self.state, self.fm_ref, self.low = "idle", None, 0
            return self.peak
        if self.dir == 0:
            self.dir, self.reversed = (1 if pos < 0.5 * (lo + hi) else -1), False
        self.samples.append((pos, fm))
        pts = np.array(self.samples)
        best = int(np.argmax(pts[:, 1]))
        below = pts[:, 1] < (1.0 - self.drop) * pts[best, 1]
        beyond = (pts[:, 0] - pts[best, 0]) * self.dir > 0.5 * dof
        at_end = (lens_p >= hi - 0.5 and self.dir > 0) or (lens_p <= lo + 0.5 and self.dir < 0)
        past = len(pts) >= 3 and bool(below[-1] and below[-2] and beyond[-1] and beyond[-2])
        if (past or at_end) and best == 0 and not self.reversed:
            self.dir, self.reversed = -self.dir, True  # the peak lies behind the start: turn once
            return pos + self.dir * 1e6
        if past or at_end or len(pts) > 80:
            step = self.scan_dof * dof
            near = np.abs(pts[:, 0] - pts[best, 0]) <= 2.5 * step
            peak = float(pts[best, 0])
            if np.unique(np.round(pts[near, 0])).size >= 3:
                a, b, _ = np.polyfit(pts[near, 0] - peak, pts[near, 1], 2)
                if a < 0:
                    peak += float(np.clip(-b / (2 * a), -step, step))
            self.peak, self.state = float(min(max(peak, lo), hi)), "settle"
            return self.peak
        return pos + self.dir * 1e6
