"""Defocus calibration of a dual-pixel network: the learned reader's conversion coefficient.

Why. The disparity of a dual-pixel pair per unit of blur, k, is a property of the sensor's
angular response: 0.218 for the measured Pixel 4 response, 0.424 for the ideal half-pupil
split (docs/dual_pixel.md). ``dp-defocus`` is trained over several responses (the data
configs' ``pixel4``, ``analytic`` and ``ideal`` variants) so that it reads any camera, but from
one AF region it can tell a small disparity of a soft split from a smaller defocus of a sharp
split only through the blur, so it reads toward the mean of its training responses. Measured on
its held-out set (the 2 validation shards of each training folder, docs/learned_models.md), the
median of predicted / true defocus within 5 DoF is 0.87 on the Pixel 4 response, 0.99 on the
analytic ones and 1.45 on the ideal split. A PDAF module is calibrated at the
factory for the same reason (its conversion coefficient, :mod:`focuslab.af.phase_calibration`);
this is that step for a network.

How (:func:`calibrate_dp_network`). The camera looks at a chart (a dead-leaves plane, the 1/f
spectrum of natural images) at ``distances`` distances spread evenly in diopters over the
lens' range; at each the lens steps through the ``slices`` focus positions of an evaluation
stack (:func:`focuslab.train.evaluate_stacks.eval_stack`: from infinity to the minimum focus
distance, so defocus up to ~40 DoF on ``phone_main``) and the network reads each frame's AF
region as the policies do (:func:`focuslab.models.predict.dp_defocus`: tiled, pooled by inverse
variance). The truth is the subject's defocus at the lens' actual position during the
exposure. The chart's seeds (``CALIBRATION_SEED + seed``) are apart from the evaluation's.

Fit (:func:`fit_defocus_calibration`): true defocus ``y = f(p)`` of the prediction p, f
piecewise linear with knots at :data:`KNOTS_DOF` (beyond the outer knots: the outer slopes),
monotone (non-decreasing knot values: scipy's bounded least squares on the increments), with
a curvature penalty (``smooth``: where no sweep point reaches, the curve goes on straight from
its neighbours), each knot pulled very weakly toward identity (``ridge``) and robust (three
passes; a point whose residual exceeds ``max(4 MAD, 1 DoF)`` is left out of the next). A
prediction's sigma is stretched by f's slope there where it exceeds 1
(:meth:`DefocusCalibration.apply`).

Measured (``focuslab evaluate --model dp-defocus --scenes 20``, docs/learned_models.md): on
``phone_main``, a 128-px region, 7 distances x 49 lens positions (~5 s on one core), the
Learning-to-Autofocus single-slice MAE of the shipped general ``dp-defocus`` weights alone falls
from 1.29 to 1.09 slices (1.52 to 1.24 before the two-scale reading of
:func:`~focuslab.models.predict.dp_defocus`), on ``phone_tele`` (an ideal split) from 3.15 to 2.12
(20 scenes each, none of them the chart's seeds); for the far reader of
:mod:`focuslab.models.dp_cascade` the sweep calibrates the pair as one reader. In the closed loop see
:mod:`focuslab.af.policies.learned_dp`.

Decisions. One calibration per camera, region size and weights, made at 500 lux: on the chart
the curve hardly moves with light (knots within 1 DoF from 6 to 500 lux; at 3 lux within 1 DoF
up to +-30 DoF, 3 DoF at the +-45 DoF knots); the stronger shrinkage of low-contrast
photographs in low light is the scene's, not the camera's, and the policies' confirm frame
absorbs it. Real modules: run the same sweep on the bench (chart at known distances, the lens
position from the Hall sensor) and call :func:`fit_defocus_calibration` with the predictions
and the true defocus.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from focuslab.errors import InputFileError, InvalidParameterError

#: Knots of the calibration curve, DoF of predicted defocus.
KNOTS_DOF: tuple[float, ...] = (-45.0, -30.0, -20.0, -12.0, -6.0, -3.0, -1.0, 0.0,
                                1.0, 3.0, 6.0, 12.0, 20.0, 30.0, 45.0)

#: Pull of each knot value toward identity, relative to one sweep point.
RIDGE = 0.01

#: Weight of the curvature penalty (slope changes between neighbouring segments), relative to one
#: sweep point, and the defocus scale it is counted in.
SMOOTH = 1.0
SMOOTH_SCALE_DOF = 10.0

#: Seed offset of the calibration chart (apart from the evaluation stacks' seeds 0, 1, ...).
CALIBRATION_SEED = 1_000_003

#: Fewest finite points a calibration is fitted from.
MIN_POINTS = 20


@dataclass(frozen=True)
class DefocusCalibration:
    """A fitted map from a network's defocus to the true defocus (module notes).

    Attributes
    ----------
    knots_dof, values_dof
        The curve: ``f(knots_dof[i]) = values_dof[i]``, linear between knots and with the
        outer segments' slopes beyond them (DoF).
    residual_dof
        Median absolute residual of the kept points after the fit, DoF.
    points, used
        Sweep points offered and kept by the robust fit.
    camera, roi_px, weights
        What was calibrated: camera preset, AF-region side (stream pixels) and weights file
        ("" = the shipped weights).
    """

    knots_dof: tuple[float, ...]
    values_dof: tuple[float, ...]
    residual_dof: float = math.nan
    points: int = 0
    used: int = 0
    camera: str = ""
    roi_px: int = 0
    weights: str = ""

    def __post_init__(self) -> None:
        k = np.asarray(self.knots_dof, dtype=float)
        v = np.asarray(self.values_dof, dtype=float)
        if k.ndim != 1 or k.shape != v.shape or len(k) < 2:
            raise InvalidParameterError("knots_dof and values_dof must be two sequences of the same length >= 2")
        if not (np.all(np.isfinite(k)) and np.all(np.isfinite(v))):
            raise InvalidParameterError("knots_dof and values_dof must be finite")
        if np.any(np.diff(k) <= 0):
            raise InvalidParameterError("knots_dof must increase")
        if np.any(np.diff(v) < -1e-9):
            raise InvalidParameterError("values_dof must not decrease (a calibration is monotone)")

    def map(self, defocus_dof):
        """``f(p)``: the calibrated defocus of predictions ``p`` (DoF; float or array)."""
        k = np.asarray(self.knots_dof, dtype=float)
        v = np.asarray(self.values_dof, dtype=float)
        p = np.asarray(defocus_dof, dtype=float)
        out = np.interp(p, k, v)
        lo_slope = (v[1] - v[0]) / (k[1] - k[0])
        hi_slope = (v[-1] - v[-2]) / (k[-1] - k[-2])
        out = np.where(p < k[0], v[0] + (p - k[0]) * lo_slope, out)
        out = np.where(p > k[-1], v[-1] + (p - k[-1]) * hi_slope, out)
        return float(out) if np.ndim(out) == 0 else out

    def slope(self, defocus_dof):
        """``f'(p)``, the factor a prediction's sigma is scaled by (central difference over 1 DoF)."""
        p = np.asarray(defocus_dof, dtype=float)
        out = np.asarray(self.map(p + 0.5)) - np.asarray(self.map(p - 0.5))
        return float(out) if np.ndim(out) == 0 else out

    def apply(self, defocus_dof: float, sigma_dof: float) -> tuple[float, float]:
        """``(f(d), max(f'(d), 1) sigma)``: a prediction and its sigma, calibrated.

        The sigma is stretched where the curve is steeper than 1 but never shrunk: a network
        that is blind (a low-contrast region far from focus in low light reads ~0 with a large
        sigma) must stay uncertain to the policies, and a slope below 1 would hide it (measured
        on phone_tele's stills-lowlight: a 25-DoF case ended at the start code).
        """
        d = float(defocus_dof)
        return float(self.map(d)), float(sigma_dof) * max(float(self.slope(d)), 1.0)

    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return {"knots_dof": list(self.knots_dof), "values_dof": list(self.values_dof),
                "residual_dof": None if not math.isfinite(self.residual_dof) else self.residual_dof,
                "points": self.points, "used": self.used, "camera": self.camera, "roi_px": self.roi_px,
                "weights": self.weights}

    @classmethod
    def from_dict(cls, data: dict) -> DefocusCalibration:
        """Inverse of :meth:`to_dict`.

        Raises
        ------
        InputFileError
            Missing or bad ``knots_dof`` / ``values_dof``.
        """
        try:
            knots = tuple(float(x) for x in data["knots_dof"])
            values = tuple(float(x) for x in data["values_dof"])
            res = data.get("residual_dof")
            return cls(knots_dof=knots, values_dof=values, residual_dof=math.nan if res is None else float(res),
                       points=int(data.get("points", 0)), used=int(data.get("used", 0)),
                       camera=str(data.get("camera", "")), roi_px=int(data.get("roi_px", 0)),
                       weights=str(data.get("weights", "")))
        except InvalidParameterError as exc:  # before ValueError, which it derives from
            raise InputFileError(f"bad defocus calibration: {exc}") from None
        except (KeyError, TypeError, ValueError, AttributeError):
            raise InputFileError(
                "a defocus calibration needs numeric lists 'knots_dof' and 'values_dof'; "
                "write it with DefocusCalibration.save()") from None

    def save(self, path) -> Path:
        """Write the calibration as JSON (atomically)."""
        from focuslab.files import write_json_atomic

        return write_json_atomic(path, self.to_dict())


def load_defocus_calibration(source) -> DefocusCalibration:
    """A :class:`DefocusCalibration` from itself, its dict or a JSON file written by :meth:`~DefocusCalibration.save`.

    Raises
    ------
    InputFileError
        A missing, unreadable or malformed file or dict.
    """
    if isinstance(source, DefocusCalibration):
        return source
    if isinstance(source, dict):
        return DefocusCalibration.from_dict(source)
    if isinstance(source, str | Path):
        p = Path(source)
        if not p.is_file():
            raise InputFileError(f"defocus calibration {str(p)!r} not found; give a JSON file written by "
                                 "DefocusCalibration.save()")
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputFileError(f"cannot read defocus calibration {str(p)!r} ({exc}); rewrite it with "
                                 "DefocusCalibration.save()") from None
        if not isinstance(data, dict):
            raise InputFileError(f"defocus calibration {str(p)!r} is not a JSON object")
        return DefocusCalibration.from_dict(data)
    raise InvalidParameterError(
        f"a defocus calibration is a DefocusCalibration, its dict or a JSON path, got {type(source).__name__}")


def _hat_basis(p: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """``len(p) x len(knots)`` linear-interpolation weights (clamped to the outer knots)."""
    q = np.clip(p, knots[0], knots[-1])
    i = np.clip(np.searchsorted(knots, q, side="right") - 1, 0, len(knots) - 2)
    w = (q - knots[i]) / (knots[i + 1] - knots[i])
    b = np.zeros((len(q), len(knots)))
    rows = np.arange(len(q))
    b[rows, i] = 1.0 - w
    b[rows, i + 1] += w
    return b


def fit_defocus_calibration(predicted_dof, true_dof, *, knots_dof=KNOTS_DOF, ridge: float = RIDGE,
                            smooth: float = SMOOTH, camera: str = "", roi_px: int = 0,
                            weights: str = "") -> DefocusCalibration:
    """Fit the monotone map from predicted to true defocus (module notes, "Fit").

    Parameters
    ----------
    predicted_dof, true_dof
        Same-length sequences: the network's defocus and the truth, DoF.
    knots_dof
        Increasing knots of the curve (>= 2).
    ridge
        Pull of each knot value toward identity (>= 0).
    smooth
        Weight of the curvature penalty (>= 0): where no point reaches, the curve goes on
        straight from its neighbours.
    camera, roi_px, weights
        Recorded in the result.

    Raises
    ------
    InvalidParameterError
        Different lengths, NaN or inf, fewer than :data:`MIN_POINTS` points, bad knots or ridge.
    """
    from scipy.optimize import lsq_linear

    p = np.asarray(predicted_dof, dtype=float).ravel()
    y = np.asarray(true_dof, dtype=float).ravel()
    if p.shape != y.shape:
        raise InvalidParameterError(f"predicted_dof and true_dof differ in length: {p.size} vs {y.size}")
    if not (np.all(np.isfinite(p)) and np.all(np.isfinite(y))):
        raise InvalidParameterError("predicted_dof and true_dof hold NaN or inf; give finite defocus values")
    if p.size < MIN_POINTS:
        raise InvalidParameterError(f"a defocus calibration needs >= {MIN_POINTS} points, got {p.size}")
    knots = np.asarray(knots_dof, dtype=float)
    if knots.ndim != 1 or len(knots) < 2 or not np.all(np.isfinite(knots)) or np.any(np.diff(knots) <= 0):
        raise InvalidParameterError("knots_dof must be >= 2 increasing finite values")
    for key, val in (("ridge", ridge), ("smooth", smooth)):
        if isinstance(val, bool) or not isinstance(val, int | float) or not (math.isfinite(val) and val >= 0):
            raise InvalidParameterError(f"{key} must be a finite number >= 0, got {val!r}")
    n = len(knots)
    cum = np.tril(np.ones((n, n)))  # knot values = cum @ theta: theta[0] free, increments >= 0
    lower = np.r_[-np.inf, np.zeros(n - 1)]
    # slope changes between neighbouring segments, in DoF over SMOOTH_SCALE_DOF
    gaps = np.diff(knots)
    curv = np.zeros((max(n - 2, 0), n))
    for i in range(n - 2):
        curv[i, i] = 1.0 / gaps[i]
        curv[i, i + 1] = -1.0 / gaps[i] - 1.0 / gaps[i + 1]
        curv[i, i + 2] = 1.0 / gaps[i + 1]
    curv *= SMOOTH_SCALE_DOF * math.sqrt(smooth)
    keep = np.ones(p.size, dtype=bool)
    basis = _hat_basis(p, knots)
    values = knots.copy()
    for _ in range(3):
        a = np.vstack([basis[keep] @ cum, math.sqrt(ridge) * cum, curv @ cum])
        b = np.r_[y[keep], math.sqrt(ridge) * knots, np.zeros(len(curv))]
        values = cum @ lsq_linear(a, b, bounds=(lower, np.inf)).x
        res = np.abs(y - basis @ values)
        mad = 1.4826 * float(np.median(res[keep]))
        new = res <= max(4.0 * mad, 1.0)
        if new.sum() < MIN_POINTS or np.array_equal(new, keep):
            break
        keep = new
    values = np.maximum.accumulate(values)  # exact monotonicity against round-off
    res = np.abs(y - basis @ values)
    return DefocusCalibration(knots_dof=tuple(float(k) for k in knots), values_dof=tuple(float(v) for v in values),
                              residual_dof=float(np.median(res[keep])), points=int(p.size), used=int(keep.sum()),
                              camera=str(camera), roi_px=int(roi_px), weights=str(weights))


def calibration_distances_m(camera: str, distances: int, slices: int = 49) -> np.ndarray:
    """``distances`` chart distances (m) evenly spaced in diopters over the stack's subject range."""
    from focuslab.camera import get_camera
    from focuslab.train.evaluate_stacks import slice_diopters

    if isinstance(distances, bool) or not isinstance(distances, int) or distances < 2:
        raise InvalidParameterError(f"distances must be an integer >= 2, got {distances!r}")
    dpt = slice_diopters(get_camera(camera), slices)
    return 1.0 / np.linspace(dpt[2], dpt[-3], distances)


def calibrate_dp_network(model, camera: str = "phone_main", *, distances: int = 7, roi_px: int = 128,
                         slices: int = 49, illuminance_lux: float = 500.0, seed: int = 0,
                         weights: str = "") -> DefocusCalibration:
    """Calibrate a dual-pixel network on ``camera`` with a rendered chart sweep (module notes, "How").

    Parameters
    ----------
    model
        A loaded ``dp-defocus`` network (:func:`focuslab.models.registry.load_model`).
    camera
        Camera preset with a dual-pixel sensor.
    distances
        Chart distances (>= 2), evenly spaced in diopters.
    roi_px
        AF-region side, stream pixels: the size the calibration will be used with.
    slices
        Lens positions per distance (the evaluation stack's slices, >= 5).
    illuminance_lux
        Chart illuminance.
    seed
        Chart seed (``CALIBRATION_SEED + seed``; same seed, same calibration).
    weights
        Weights file name recorded in the result.

    Raises
    ------
    InvalidParameterError
        A camera without dual pixel, bad counts, region or light.
    UnknownNameError
        Unknown camera.
    """
    from focuslab.train.evaluate import single_slice_predictions
    from focuslab.train.evaluate_stacks import eval_stack

    preds, truth = [], []
    for j, u in enumerate(calibration_distances_m(camera, distances, slices)):
        st = eval_stack(j, camera=camera, slices=slices, crop_px=roi_px, seed=CALIBRATION_SEED + int(seed),
                        subject_distance_m=float(u), texture="dead_leaves", illuminance_lux=illuminance_lux)
        _, d, _ = single_slice_predictions(model, st)
        preds.append(d)
        truth.append(st.defocus_dof)
    return fit_defocus_calibration(np.concatenate(preds), np.concatenate(truth), camera=camera, roi_px=roi_px,
                                   weights=weights)
