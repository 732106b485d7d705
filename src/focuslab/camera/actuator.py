"""Voice-coil motor (VCM) lens actuator: calibrated code -> displacement map and its limits.

The lens moves by displacement d (µm) from its infinity position, so the lens-to-sensor
distance is s = f + d (DESIGN.md "Physics"). A driver IC (e.g. a 10-bit current DAC) sets the
coil current through an integer *code*; the lens lifts off its mechanical end stop only when
the coil force exceeds the spring preload (the *lift-off* or start code), then moves about
linearly with the current (force = B·l·i against the spring constant k) with a mild
non-linearity from the spring and magnet field [1]. :class:`ActuatorSpec` describes this
calibrated map, the lens dynamics (a damped second-order system, see
:mod:`focuslab.camera.second_order`), hysteresis (play), position noise and the posture
(gravity) offset; :class:`focuslab.camera.vcm.VcmActuator` simulates a lens moving in time.

Calibration map (in the calibration posture, e.g. module face-up)::

    d(code) = 0                                     code <= start_code (rests on its stop)
    d(code) = a·k + q·k²,  k = code − start_code    code >  start_code, clipped to stroke_um

or, when ``calibration_table`` is given, the monotone piecewise-cubic (PCHIP, [2]) interpolant
of its (code, µm) pairs (linear extrapolation beyond the last pair, clipped to the stroke).
The inverse map returns the *nearest* code, the one a factory calibration would use.

References
----------
.. [1] ON Semiconductor / Dongwoon Anatech, *VCM driver IC application notes* (DW9714,
       LC898217): lift-off ("start") current, linear stroke, ringing-reduction drive.
.. [2] F. N. Fritsch and R. E. Carlson, "Monotone piecewise cubic interpolation", SIAM J.
       Numer. Anal. 17(2), 238–246 (1980).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.interpolate import PchipInterpolator

from focuslab.camera import second_order
from focuslab.errors import InvalidParameterError, check_finite, check_positive


@dataclass(frozen=True)
class ActuatorSpec:
    """A VCM lens actuator (frozen hardware description).

    Parameters
    ----------
    code_bits
        Resolution of the driver DAC in bits (1..16); codes run 0 .. 2**code_bits − 1.
    stroke_um
        Mechanical travel from the infinity stop to the macro stop, µm (> 0).
    start_code
        Lift-off code: at or below it the spring preload holds the lens on its stop (d = 0).
    slope_um_per_code
        Linear sensitivity a of the map above lift-off, µm per code (> 0).
    quadratic_um_per_code2
        Quadratic term q of the map, µm per code² (the map must stay increasing).
    calibration_table
        Optional measured ``((code, um), ...)`` pairs replacing the parametric map; codes and
        displacements strictly increasing, first pair ``(start_code, 0.0)``.
    natural_frequency_hz
        Resonance f_n of the lens-spring system, Hz (> 0; phone VCMs: 50–150 Hz).
    damping_ratio
        ζ (> 0): < 1 rings and overshoots, 1 is critically damped.
    hysteresis_um
        Play (backlash) width w, µm (>= 0): a move stops short by w/2 in its direction.
    position_noise_um
        RMS per-frame lens position jitter, µm (>= 0).
    gravity_offset_um
        Posture offset added to the calibrated displacement when lifted off, µm (signed; 0
        in the calibration posture, ≈ ±m·g/k face-down / face-up).
    name
        Label for reports.
    """

    code_bits: int = 10
    stroke_um: float = 350.0
    start_code: int = 96
    slope_um_per_code: float = 0.32
    quadratic_um_per_code2: float = 0.0
    calibration_table: tuple[tuple[float, float], ...] | None = None
    natural_frequency_hz: float = 90.0
    damping_ratio: float = 0.45
    hysteresis_um: float = 2.0
    position_noise_um: float = 0.3
    gravity_offset_um: float = 0.0
    name: str = "vcm"
    _table_um: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        bits = self.code_bits
        if isinstance(bits, bool) or not isinstance(bits, int | np.integer) or not 1 <= bits <= 16:
            raise InvalidParameterError(f"code_bits must be an integer in 1..16, got {bits!r}")
        check_positive("stroke_um", self.stroke_um)
        max_code = 2 ** int(bits) - 1
        sc = self.start_code
        if isinstance(sc, bool) or not isinstance(sc, int | np.integer) or not 0 <= sc < max_code:
            raise InvalidParameterError(
                f"start_code must be an integer in 0..{max_code - 1} for {bits}-bit codes, got {sc!r}"
            )
        check_positive("slope_um_per_code", self.slope_um_per_code)
        check_finite("quadratic_um_per_code2", self.quadratic_um_per_code2)
        check_positive("natural_frequency_hz", self.natural_frequency_hz)
        check_positive("damping_ratio", self.damping_ratio)
        check_positive("hysteresis_um", self.hysteresis_um, allow_zero=True)
        check_positive("position_noise_um", self.position_noise_um, allow_zero=True)
        g = check_finite("gravity_offset_um", self.gravity_offset_um)
        if abs(g) >= self.stroke_um:
            raise InvalidParameterError(
                f"gravity_offset_um {g} is not smaller than the stroke {self.stroke_um} µm; "
                "give the posture offset in µm (typically a few µm)"
            )
        codes = np.arange(max_code + 1, dtype=float)
        if self.calibration_table is not None:
            table = self._checked_table(max_code)
            object.__setattr__(self, "calibration_table", table)
            d = self._table_map(np.asarray(table, dtype=float), codes)
        else:
            k = np.maximum(codes - sc, 0.0)
            raw = self.slope_um_per_code * k + self.quadratic_um_per_code2 * k * k
            reach = raw[sc:] < self.stroke_um
            if np.any(np.diff(raw[sc:])[reach[:-1]] <= 0):
                raise InvalidParameterError(
                    "the code -> displacement map is not increasing over the stroke "
                    f"(slope {self.slope_um_per_code}, quadratic {self.quadratic_um_per_code2}); "
                    "use a smaller negative quadratic_um_per_code2"
                )
            d = raw
        d = np.clip(d, 0.0, float(self.stroke_um))
        d.setflags(write=False)
        object.__setattr__(self, "_table_um", d)

    def _checked_table(self, max_code: int) -> tuple[tuple[float, float], ...]:
        try:
            arr = np.asarray(self.calibration_table, dtype=float)
        except (TypeError, ValueError):
            arr = np.empty((0,))
        if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] < 2 or not np.all(np.isfinite(arr)):
            raise InvalidParameterError(
                "calibration_table must be >= 2 finite (code, um) pairs, e.g. ((96, 0.0), (1023, 300.0))"
            )
        c, d = arr[:, 0], arr[:, 1]
        if np.any(np.diff(c) <= 0) or np.any(np.diff(d) <= 0):
            raise InvalidParameterError(
                "calibration_table codes and displacements must both be strictly increasing"
            )
        if c[0] != self.start_code or d[0] != 0.0:
            raise InvalidParameterError(
                f"calibration_table must start at the lift-off point ({self.start_code}, 0.0), "
                f"got ({c[0]:g}, {d[0]:g}); set start_code to the first table code"
            )
        if c[-1] > max_code or np.any(c != np.round(c)):
            raise InvalidParameterError(f"calibration_table codes must be integers in 0..{max_code}")
        if d[-1] > self.stroke_um:
            raise InvalidParameterError(
                f"calibration_table reaches {d[-1]:g} µm, beyond stroke_um {self.stroke_um}"
            )
        return tuple((float(a), float(b)) for a, b in arr)

    @staticmethod
    def _table_map(table: np.ndarray, codes: np.ndarray) -> np.ndarray:
        c, d = table[:, 0], table[:, 1]
        inside = PchipInterpolator(c, d, extrapolate=False)(np.clip(codes, c[0], c[-1]))
        end_slope = (d[-1] - d[-2]) / (c[-1] - c[-2])
        out = np.where(codes > c[-1], d[-1] + end_slope * (codes - c[-1]), inside)
        return np.where(codes <= c[0], 0.0, out)

    # ----------------------------------------------------------------- calibration map
    @property
    def max_code(self) -> int:
        """Largest code, 2**code_bits − 1."""
        return 2 ** int(self.code_bits) - 1

    def _checked_codes(self, code) -> np.ndarray:
        c = np.asarray(code)
        if c.dtype == bool or not (np.issubdtype(c.dtype, np.number)):
            raise InvalidParameterError(f"lens code must be an integer, got {code!r}")
        cf = c.astype(float)
        if np.any(~np.isfinite(cf)) or np.any(cf != np.round(cf)):
            raise InvalidParameterError(f"lens code must be a finite integer, got {code!r}")
        if np.any(cf < 0) or np.any(cf > self.max_code):
            raise InvalidParameterError(
                f"lens code {code!r} is out of range; use 0..{self.max_code} ({self.code_bits}-bit)"
            )
        return cf.astype(np.int64)

    def displacement_um(self, code):
        """Calibrated lens displacement (µm from the infinity position) for ``code``.

        Parameters
        ----------
        code
            Integer code(s) in 0 .. :attr:`max_code`.

        Returns
        -------
        float or ndarray
            Displacement(s) in µm, in [0, stroke_um], non-decreasing in the code.

        Raises
        ------
        InvalidParameterError
            A code that is not an integer or is out of range.
        """
        d = self._table_um[self._checked_codes(code)]
        return float(d) if np.ndim(d) == 0 else d.copy()

    def code_for_displacement_um(self, displacement_um):
        """Nearest code whose calibrated displacement is closest to ``displacement_um``.

        Displacements at or below 0 give :attr:`start_code` (the lens on its infinity stop);
        beyond the stroke the lowest code reaching the stroke. Ties go to the lower code.
        """
        x = np.asarray(displacement_um, dtype=float)
        if np.any(np.isnan(x)):
            raise InvalidParameterError("displacement_um contains NaN; give displacements in µm")
        tab = self._table_um[self.start_code :]
        j = np.clip(np.searchsorted(tab, x, side="left"), 1, tab.size - 1)
        lo, hi = tab[j - 1], tab[j]
        pick = np.where(np.abs(x - lo) <= np.abs(hi - x), j - 1, j)
        pick = np.where(x <= 0.0, 0, pick)
        # equal displacements (saturated at the stroke): lowest code with that displacement
        pick = np.searchsorted(tab, tab[pick], side="left")
        out = pick + self.start_code
        return int(out) if np.ndim(out) == 0 else out.astype(np.int64)

    def target_um(self, code) -> float:
        """Equilibrium displacement (µm) of ``code`` in the current posture (before play).

        ``d(code) + gravity_offset_um`` clipped to [0, stroke_um] when the lens is lifted off;
        0 (on the stop) at or below the lift-off code.
        """
        c = int(self._checked_codes(code))
        if c <= self.start_code:
            return 0.0
        return float(np.clip(self._table_um[c] + self.gravity_offset_um, 0.0, self.stroke_um))

    # ----------------------------------------------------------------- dynamics
    @property
    def overshoot_fraction(self) -> float:
        """Step overshoot as a fraction of the step, exp(−πζ/√(1−ζ²)) (0 for ζ >= 1)."""
        return second_order.overshoot_fraction(self.damping_ratio)

    @property
    def peak_time_s(self) -> float:
        """Time of the first overshoot peak after a step, π/ω_d, seconds."""
        return second_order.peak_time_s(self.natural_frequency_hz, self.damping_ratio)

    def settling_time_s(self, tolerance_um: float, *, step_um: float | None = None) -> float:
        """Exact time for a step from rest to stay within ±``tolerance_um`` of its target.

        Parameters
        ----------
        tolerance_um
            Settling band half-width, µm (> 0), e.g. a quarter of a depth of focus in lens
            travel.
        step_um
            Step size, µm; default the full stroke (the worst case).

        Returns
        -------
        float
            Seconds (0 when the step is within the band).
        """
        tol = check_positive("tolerance_um", tolerance_um)
        step = self.stroke_um if step_um is None else check_finite("step_um", step_um)
        return second_order.settling_time_s(
            step, tol, natural_frequency_hz=self.natural_frequency_hz, damping_ratio=self.damping_ratio
        )
