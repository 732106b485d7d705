"""Gain calibration of the ``temporal`` network: its reading scale near focus on one camera.

Why. The disparity of a dual-pixel pair per unit of blur is a property of the sensor's angular
response (0.218 for the measured Pixel 4 response, 0.424 for the ideal half-pupil split of
``phone_tele``; docs/dual_pixel.md). ``temporal`` was trained on the Pixel 4 and analytic
responses, so on an ideal split it reads the defocus ~1.6x too large. ``learned-video`` feeds
every reading back into the lens within a frame or two: a loop gain above one with that delay
overshoots and keeps hunting on a still scene (phone_tele, the full video-tracking suite, seeds
0-2: 9, 11 and 16 direction reversals, the lens cycling +-0.8 DoF around a still background
after each pan). A PDAF module is calibrated at the factory for the same reason (its
conversion coefficient, :mod:`focuslab.af.phase_calibration`); this is that step for the video
network.

How (:func:`temporal_rest_gain`). The camera looks at a chart (a dead-leaves plane) at
``distances`` distances spread evenly in diopters over the lens's range; at each the lens
steps through the ``slices`` focus positions of an evaluation stack
(:func:`focuslab.train.evaluate_stacks.eval_stack`), as for ``dp-defocus``
(:mod:`focuslab.models.dp_calibration`). At every position within ``max_dof`` of focus the
network reads the AF region from a fresh state ``REST_FRAMES`` times with the lens still, and
the last reading r counts. The gain g is the least-squares slope through the origin of the
true defocus y on r (``y ~ g r``).

Decisions. Only the near-focus slope, not the piecewise curve of ``dp-defocus``: read at rest
from a fresh state, ``temporal`` saturates beyond ~3 DoF (a lens resting 6 or 10 DoF off reads
as ~3 on ``phone_main``: its training sequences start within the tracking error, <= 4 DoF, and
follow the subject), so a curve fitted there is not monotone, and applying one made the tele's
video suite worse (RMS 0.99 -> 3.0 DoF). In the loop the network reads far defocus only for the
frame or two after a cut, and the tracker restarts on those. Measured gains (with the
defaults of :func:`temporal_rest_gain`): ``phone_main`` 1.02, ``phone_tele`` 0.64.
"""

from __future__ import annotations

import numpy as np

from focuslab.errors import InvalidParameterError

#: Frames each calibration position is read at rest before its reading counts.
REST_FRAMES = 3

#: Seed offset of the calibration charts (apart from the evaluation's and dp_calibration's).
GAIN_SEED = 7700


def temporal_rest_gain(model, camera: str = "phone_main", *, distances: int = 7, slices: int = 49,
                       roi_px: int = 128, max_dof: float = 3.0, illuminance_lux: float = 500.0,
                       seed: int = 0) -> float:
    """The gain g (true defocus ~ g x reading) of a ``temporal`` network near focus on ``camera``.

    Parameters
    ----------
    model
        A loaded ``temporal`` network (:func:`focuslab.models.registry.load_model`).
    camera
        Camera preset with a dual-pixel sensor.
    distances, slices
        Chart distances (>= 2, evenly spaced in diopters) and lens positions per distance.
    roi_px
        AF-region side, stream pixels (the size the gain will be used with).
    max_dof
        Positions within this defocus (DoF) of focus count (> 0).
    illuminance_lux
        Chart illuminance.
    seed
        Chart seed (``GAIN_SEED + seed``; same seed, same gain).

    Raises
    ------
    InvalidParameterError
        A camera without dual pixel, bad counts or range, or fewer than 10 positions within
        ``max_dof`` of focus.
    """
    from focuslab.models.dp_calibration import calibration_distances_m
    from focuslab.models.predict import TemporalTracker
    from focuslab.train.evaluate_stacks import eval_stack

    if not (isinstance(max_dof, int | float) and max_dof > 0):
        raise InvalidParameterError(f"max_dof must be > 0, got {max_dof!r}")
    reads, truth = [], []
    for j, u in enumerate(calibration_distances_m(camera, distances, slices)):
        st = eval_stack(j, camera=camera, slices=slices, crop_px=roi_px, seed=GAIN_SEED + int(seed),
                        subject_distance_m=float(u), texture="dead_leaves", illuminance_lux=illuminance_lux)
        for k in np.flatnonzero(np.abs(st.defocus_dof) <= max_dof):
            tracker = TemporalTracker(model)
            for _ in range(REST_FRAMES):
                r, _ = tracker.step(st.left[k], st.right[k], float(st.codes[k]), float(st.codes_per_dof[k]))
            reads.append(r)
            truth.append(float(st.defocus_dof[k]))
    r, y = np.asarray(reads, float), np.asarray(truth, float)
    ok = np.isfinite(r)
    if ok.sum() < 10 or float(np.sum(r[ok] ** 2)) <= 0:
        raise InvalidParameterError(f"a gain calibration needs >= 10 readings within {max_dof} DoF of focus, "
                                    f"got {int(ok.sum())}: use more distances or slices")
    return float(np.sum(r[ok] * y[ok]) / np.sum(r[ok] ** 2))
