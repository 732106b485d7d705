"""VCM actuator: calibration map, second-order dynamics, hysteresis, noise, validation."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy.integrate import solve_ivp, trapezoid

from focuslab.camera.actuator import ActuatorSpec
from focuslab.camera.second_order import settling_time_s
from focuslab.camera.vcm import VcmActuator
from focuslab.errors import FocuslabError, InvalidParameterError

QUIET = ActuatorSpec(hysteresis_um=0.0, position_noise_um=0.0)


def _step(spec: ActuatorSpec, code: int):
    act = VcmActuator(spec, seed=0)
    act.command(code, 0.0)
    return act, spec.target_um(code)


@pytest.mark.parametrize("zeta", [0.15, 0.45, 0.7, 1.0, 1.8])
@pytest.mark.parametrize("tol_um", [0.5, 2.0])
def test_step_settles_within_stated_time_and_not_earlier(zeta, tol_um):
    spec = replace(QUIET, damping_ratio=zeta)
    act, target = _step(spec, 700)
    ts = spec.settling_time_s(tol_um, step_um=target)
    after = np.linspace(ts, ts + 20.0 / spec.natural_frequency_hz, 4001)
    assert np.max(np.abs(act.position_um(after) - target)) <= tol_um + 1e-9
    # just before the stated time the lens is still outside the band
    assert abs(act.position_um(ts * (1 - 1e-7)) - target) > tol_um
    assert abs(act.position_um(ts * 0.98) - target) > tol_um * (1 - 1e-9) or zeta >= 1.0


def test_settling_time_closed_form_limits():
    # critically damped: e(t) = (1 + w t) exp(-w t) -> solve numerically against the formula
    f, tol = 100.0, 0.01
    t = settling_time_s(1.0, tol, natural_frequency_hz=f, damping_ratio=1.0)
    w = 2 * math.pi * f
    assert (1 + w * t) * math.exp(-w * t) == pytest.approx(tol, rel=1e-9)
    # within the band from the start
    assert settling_time_s(0.5, 1.0, natural_frequency_hz=f, damping_ratio=0.3) == 0.0
    # the classic 2 % estimate 4/(zeta w) is the envelope bound: exact time is below it
    z = 0.3
    t2 = settling_time_s(1.0, 0.02, natural_frequency_hz=f, damping_ratio=z)
    assert t2 < 4.0 / (z * w) * 1.05
    assert t2 > 3.0 / (z * w)


@pytest.mark.parametrize("zeta", [0.1, 0.3, 0.6])
def test_overshoot_and_peak_time_match_closed_form(zeta):
    spec = replace(QUIET, damping_ratio=zeta)
    act, target = _step(spec, 600)
    tp = spec.peak_time_s
    t = np.linspace(0.5 * tp, 1.5 * tp, 20001)
    x = act.position_um(t)
    mp_expected = math.exp(-math.pi * zeta / math.sqrt(1 - zeta**2))
    assert spec.overshoot_fraction == pytest.approx(mp_expected, rel=1e-12)
    assert (x.max() - target) / target == pytest.approx(mp_expected, rel=1e-6)
    assert t[np.argmax(x)] == pytest.approx(math.pi / (2 * math.pi * 90.0 * math.sqrt(1 - zeta**2)), rel=1e-4)


def test_no_overshoot_when_overdamped():
    spec = replace(QUIET, damping_ratio=1.5)
    act, target = _step(spec, 600)
    x = act.position_um(np.linspace(0, 0.2, 2001))
    assert spec.overshoot_fraction == 0.0
    assert np.all(np.diff(x) >= -1e-12) and x.max() <= target + 1e-9


def test_mid_move_command_matches_ode_integration():
    """Superposed closed-form responses equal a numerical solution of x'' + 2ζωx' + ω²x = ω²r(t)."""
    spec = replace(QUIET, damping_ratio=0.25, natural_frequency_hz=70.0)
    act = VcmActuator(spec, seed=0, initial_code=300)
    cmds = [(0.002, 800), (0.009, 450), (0.0135, 600)]
    for t_c, c in cmds:
        act.command(c, t_c)
    w, z = 2 * math.pi * 70.0, 0.25

    def r_of(t):
        r = spec.target_um(300)
        for t_c, c in cmds:
            if t >= t_c:
                r = spec.target_um(c)
        return r

    def rhs(t, y):
        return [y[1], w * w * (r_of(t) - y[0]) - 2 * z * w * y[1]]

    t_eval = np.linspace(0.0, 0.04, 401)
    sol = solve_ivp(rhs, (0.0, 0.04), [spec.target_um(300), 0.0], t_eval=t_eval,
                    rtol=1e-10, atol=1e-10, max_step=2e-5)
    assert np.max(np.abs(act.position_um(t_eval) - sol.y[0])) < 1e-4


def test_hysteresis_width_from_back_and_forth_sweep():
    w = 4.0
    spec = replace(QUIET, hysteresis_um=w)
    act = VcmActuator(spec, seed=0)
    settle = 0.1
    act.command(300, 0.0)
    act.command(500, settle)
    x_up = act.position_um(2 * settle)
    act.command(800, 2 * settle)
    act.command(500, 3 * settle)
    x_down = act.position_um(4 * settle)
    nominal = spec.target_um(500)
    assert x_down - x_up == pytest.approx(w, abs=1e-6)
    assert x_up == pytest.approx(nominal - w / 2, abs=1e-6)
    assert x_down == pytest.approx(nominal + w / 2, abs=1e-6)
    # a reversal smaller than the play does not move the lens
    act.command(505, 4 * settle)
    assert act.position_um(5 * settle) == pytest.approx(x_down, abs=1e-6)
    assert act.history[-1].target_um == pytest.approx(x_down, abs=1e-6)


def test_below_lift_off_lens_rests_on_stop():
    act = VcmActuator(ActuatorSpec(position_noise_um=0.0), seed=0, initial_code=700)
    act.command(10, 0.0)
    assert act.position_um(0.5) == pytest.approx(0.0, abs=1e-9)
    assert np.all(act.position_um(np.linspace(0, 0.1, 500)) >= 0.0)  # end stop clips the ringing


def test_code_displacement_round_trip_and_monotonic():
    for spec in (
        ActuatorSpec(),
        ActuatorSpec(quadratic_um_per_code2=6e-5),
        ActuatorSpec(quadratic_um_per_code2=-1.5e-4, slope_um_per_code=0.45),
        ActuatorSpec(calibration_table=((96, 0.0), (300, 70.0), (700, 220.0), (1000, 340.0))),
    ):
        codes = np.arange(spec.max_code + 1)
        d = spec.displacement_um(codes)
        assert np.all(np.diff(d) >= 0)
        assert np.all(d[: spec.start_code + 1] == 0.0)
        moving = codes[(codes >= spec.start_code) & (d < spec.stroke_um)]
        assert np.array_equal(spec.code_for_displacement_um(spec.displacement_um(moving)), moving)
        probe = np.linspace(0.0, d.max(), 777)
        back = spec.displacement_um(spec.code_for_displacement_um(probe))
        step = np.max(np.diff(d[spec.start_code:]))
        assert np.max(np.abs(back - probe)) <= 0.5 * step + 1e-12
    assert spec.code_for_displacement_um(-5.0) == spec.start_code
    table = ActuatorSpec(calibration_table=((96, 0.0), (300, 70.0), (700, 220.0), (1000, 340.0)))
    assert table.displacement_um([300, 700, 1000]) == pytest.approx([70.0, 220.0, 340.0], abs=1e-9)


def test_linear_map_and_gravity_offset():
    spec = ActuatorSpec(start_code=100, slope_um_per_code=0.25, gravity_offset_um=-3.0)
    assert spec.displacement_um(500) == pytest.approx(100.0)
    assert spec.target_um(500) == pytest.approx(97.0)
    assert spec.target_um(50) == 0.0


def test_noise_is_deterministic_and_has_stated_rms():
    spec = ActuatorSpec(position_noise_um=0.5)
    a, b, c = (VcmActuator(spec, seed=s, initial_code=600) for s in (7, 7, 8))
    t = np.arange(2000) / 30.0
    na = np.array([a.noise_um(ti) for ti in t])
    nb = np.array([b.noise_um(ti) for ti in t[::-1]])[::-1]  # call order does not matter
    nc = np.array([c.noise_um(ti) for ti in t])
    assert np.array_equal(na, nb)
    assert not np.allclose(na, nc)
    assert np.std(na) == pytest.approx(0.5, rel=0.06)
    assert abs(np.mean(na)) < 0.05
    assert a.position_noisy_um(1.0) == pytest.approx(a.position_um(1.0) + a.noise_um(1.0))


def test_mean_position_over_window():
    act = VcmActuator(QUIET, seed=0)
    act.command(800, 0.001)
    t0, t1 = 0.0, 0.012
    tt = np.linspace(t0, t1, 200001)
    ref = trapezoid(act.position_um(tt), tt) / (t1 - t0)
    assert act.mean_position_um(t0, t1) == pytest.approx(ref, abs=1e-5)
    assert act.mean_position_um(0.05, 0.05) == act.position_um(0.05)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"stroke_um": -10.0},
        {"stroke_um": float("nan")},
        {"damping_ratio": 0.0},
        {"damping_ratio": -0.2},
        {"natural_frequency_hz": 0.0},
        {"code_bits": 0},
        {"code_bits": 10.5},
        {"start_code": 1023},
        {"slope_um_per_code": float("inf")},
        {"hysteresis_um": -1.0},
        {"position_noise_um": float("nan")},
        {"gravity_offset_um": 400.0},
        {"quadratic_um_per_code2": -1e-3},
        {"calibration_table": ((96, 0.0), (90, 10.0))},
        {"calibration_table": ((0, 0.0), (300, 10.0))},
        {"calibration_table": ((96, 0.0), (500, 400.0))},
        {"calibration_table": ((96, 0.0),)},
    ],
)
def test_bad_specs_raise_one_line_errors(kwargs):
    with pytest.raises(InvalidParameterError) as err:
        ActuatorSpec(**kwargs)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("code", [-1, 1024, 3.5, float("nan"), float("inf"), "12", True])
def test_bad_codes(code):
    spec = ActuatorSpec()
    with pytest.raises(FocuslabError):
        spec.displacement_um(code)
    with pytest.raises(FocuslabError):
        VcmActuator(spec, seed=0).command(code, 0.0)


def test_bad_times_and_displacements():
    act = VcmActuator(ActuatorSpec(), seed=0)
    act.command(500, 1.0)
    with pytest.raises(InvalidParameterError):
        act.command(600, 0.5)
    with pytest.raises(InvalidParameterError):
        act.position_um(float("nan"))
    with pytest.raises(InvalidParameterError):
        act.mean_position_um(0.2, 0.1)
    with pytest.raises(InvalidParameterError):
        ActuatorSpec().code_for_displacement_um(float("nan"))
    with pytest.raises(InvalidParameterError):
        ActuatorSpec().settling_time_s(0.0)
    with pytest.raises(InvalidParameterError):
        VcmActuator("not a spec")
