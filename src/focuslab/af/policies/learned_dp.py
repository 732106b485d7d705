"""``learned-dp``: the ``dp-defocus`` network on the dual-pixel AF region; predict, jump, confirm.

Each settled frame, :func:`focuslab.models.predict.dp_defocus` tiles the AF region's left and
right views into the network's crops and pools the crops' predictions by inverse variance
(signed defocus in DoF units and its sigma); :class:`~focuslab.af.policies.learned_jump.LearnedJumpAF`
jumps to the predicted focus, confirms with a second prediction after the move and falls back
to a short contrast search when the uncertainty stays high. Needs a dual-pixel sensor and the
lens model (the factory code <-> distance calibration, to turn DoF into codes).

Weights. ``weights=None`` loads the shipped general weights (trained over every dual-pixel
response family); ``weights="pixel4"`` the per-sensor weights fine-tuned on the Pixel 4
response alone (``dp-defocus-pixel4.pt``), more exact far from focus on that response but
offset by ~1 DoF at focus on one low-contrast scene, so not the default (docs/learned_af.md);
or a weights file.

Far reader. ``far_weights="auto"`` (the default), with the shipped general weights: each crop
those read beyond 6 DoF is read again by the Pixel 4 weights
(:class:`~focuslab.models.dp_cascade.FarCascade`; the general network decides near focus, the
per-sensor one the long jumps) on a preset camera whose dual-pixel response is the measured
Pixel 4 one (phone_main, phone_main_tof), and on any other preset dual-pixel camera when the
policy calibrates it itself (``calibration="auto"`` with no calibration from the backend: the
chart sweep is fitted to the pair, which maps the Pixel 4 weights' scale on another response).
A camera the simulator does not know, a calibration given by the user (taken to be for the one
network), or weights chosen by hand read one network; ``"none"`` turns it off, a family keyword
or a weights file names the far reader on any camera. Full stills suites, seeds 0-7,
phone_main_tof, with the weights trained on gained frames (7 Dec 2026, stop 21; the model
card): bright 100 % in focus, median 2 / mean 2.23 frames, 0.20 DoF; low light 99.0 %, 2 /
2.49, 0.19 DoF (hybrid 93.8 %, 2.40, 0.41). With the unity-gain weights before the sensor's
analogue gain: bright 100 %, 2 / 2.15, 0.22 DoF (general alone 2.26, 0.26); low light 96.9 %,
2 / 2.68, 0.33 DoF (general alone 95.8 %, 2.82, 0.32; hybrid 92.7 %, 2.74, 0.45); phone_tele,
seeds 0-2: bright 100 % both, median 2 against 3 frames; low light 88.9 % against 91.7 %,
median 2 against 4, 0.42 against 0.44 DoF.

Calibration. The network's defocus goes through the camera's defocus calibration first
(:mod:`focuslab.models.dp_calibration`: the learned reader's conversion coefficient, as a PDAF
module is calibrated at the factory). ``calibration="auto"`` (the default) takes
``context.extra["dp_defocus_calibration"]`` when the backend gives one, else calibrates the
simulated camera named by the context (a preset or a loaded camera file, docs/cameras.md)
on a rendered chart sweep the first time a region of that size is read (~5 s on one core;
cached per process by camera, weights and region side), else (a camera the simulator does not
know, e.g. a replay) reads the network raw. ``None`` (or ``"none"`` / ``"off"``) reads it raw; a
:class:`~focuslab.models.dp_calibration.DefocusCalibration`, its dict or a JSON path is used
as given. Measured on the full stills suites on phone_main_tof, seeds 0-7 (112 bright, 96
low-light cases), calibrated against raw, both read at one scale (with the two-scale reading of
:func:`~focuslab.models.predict.dp_defocus` since, calibrated: low light 95.8 %, 0.32 DoF, 2.82
frames; bright 100 %, 0.26 DoF, 2.26 frames): stills-lowlight 97.9 % against 95.8 % in focus,
mean |error| 0.30 against 0.34 DoF, 2.85 against 2.91 frames (mean); stills-bright 100 % both,
0.25 against 0.22 DoF, 2.26 against 2.32 frames. On phone_tele (an ideal split, which the
network over-reads by ~35 % near focus: the 128-px chart curve's slope there is 0.74), seeds
0-2: bright 95.2 % both, 0.36 against 0.45 DoF, median 3 against 4 frames (docs/learned_af.md;
measured before the suites kept subjects beyond the tele's 0.35 m minimum focus).

Nearest subject. ``nearest_subject=True`` (the default): when the region's reading is within
6 DoF of focus it is read again as overlapping crops (every half crop, 3 x 3 on a 128-px
region); when their readings disagree beyond their sigmas (reduced chi-square >= 1.5, this
network's measured gate: ``nearest_chi2_per_dof``) the region
holds two depths, and from then on for the rest of the run (a still scene; the per-crop sigmas
grow with blur, so with the lens on the card the blurred background's crops can pass the test)
the nearest subject's crops are pooled instead of all (:mod:`focuslab.models.nearest_subject`:
the readings split in two groups by crop count, the nearer group when it holds a quarter of
the crops): phone AF's subject priority and the benchmark's truth. Full suites, seeds 0-7
(phone_main_tof): depth-edge 4.2 % with every crop pooled, 62.5-64.6 % with stop 21's
inverse-variance quantile, **87.5 %** (mean |error| 0.45 DoF) with the two-group split of stop
22; the stills-bright, stills-lowlight and low-texture runs follow the same lens traces either
way. phone_tele, seeds 0-2: depth-edge 55.6 % -> 83.3 %. With the gate at 1.5 (it was 3), the
3-DoF sigma bound and the blended-crops rule of stop 23: depth-edge **95.8 %** (0.41 DoF), the
stills and low-texture runs again on the same traces (docs/learned_af.md). Once two depths were
found the crops are read at any distance from focus (a blurred background can pull the whole
region's blend beyond 6 DoF with the lens on the card): phone_tele, seeds 0-2, depth-edge 88.9 %
-> 100 %. With the free approach moves (below) and the three-depth split: phone_main_tof 95.8 %
(0.38 DoF), ``wide_main_6mm`` seeds 0-2 94.4 % (72.2 % at stop 22). ``False`` pools every
crop.

References
----------
Garg et al., "Learning single camera depth estimation using dual-pixels", ICCV 2019;
Herrmann et al., "Learning to Autofocus", CVPR 2020.
"""

from __future__ import annotations

from os import PathLike

import numpy as np

from focuslab.af.policies.learned_jump import LearnedJumpAF
from focuslab.af.registry import register_policy
from focuslab.af.types import AFContext, Observation
from focuslab.errors import InvalidParameterError
from focuslab.models.nearest_subject import NearestSubjectRun, nearest_subject_option

#: Calibrations made for preset cameras, by (camera, weights, region side).
_CALIBRATIONS: dict[tuple[str, str, int], object] = {}


def preset_sweep(cache: dict, context: AFContext, weights, roi_px: int, sweep):
    """``sweep(camera, roi_px, weights_label)`` on the context's built-in dual-pixel preset, cached
    in ``cache`` by camera, weights label and region side (even, >= 16); None when the context
    is not such a preset, or when the sweep refuses (``InvalidParameterError``; the policy then
    reads raw, as on a camera the simulator does not know)."""
    from focuslab.af.policies.phase import preset_dp_camera

    if preset_dp_camera(context) is None:
        return None
    key = (context.name, "" if weights is None else str(weights), max(16, int(roi_px) // 2 * 2))
    if key not in cache:
        try:
            cache[key] = sweep(key[0], key[2], key[1])
        except InvalidParameterError:
            cache[key] = None
    return cache[key]


def preset_dp_calibration(context: AFContext, model, weights, roi_px: int):
    """The defocus calibration of ``model`` on the context's preset camera for ``roi_px`` regions
    (:func:`preset_sweep`: cached, or None)."""
    from focuslab.models.dp_calibration import calibrate_dp_network

    return preset_sweep(_CALIBRATIONS, context, weights, roi_px,
                        lambda cam, roi, label: calibrate_dp_network(model, cam, roi_px=roi, weights=label))


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
    #: Search with the network alone where the region's texture is too faint for contrast AF
    #: (:class:`~focuslab.af.policies.learned_jump.LearnedJumpAF`, "Blind").
    blind_snr_default = 20.0
    #: The nearest-subject gate measured for ``dp-defocus``: its crops' sigmas overstate their
    #: scatter on one surface ~3x (reduced chi-square median 0.10-0.12 over 506 stills readings,
    #: largest 1.04), so 1.5 keeps every stills reading whole and finds a depth edge the default 3
    #: missed (:mod:`focuslab.models.nearest_subject`, "Calibrated gate").
    nearest_chi2_per_dof = 1.5
    #: Approach moves on readings sure only of their side do not use up the corrections
    #: (:class:`~focuslab.af.policies.learned_jump.LearnedJumpAF`, item 2). Measured at stop 23
    #: against counting them, full suites: phone_main_tof seeds 0-7, depth-edge 95.8 % -> 97.9 %
    #: in focus (0.41 -> 0.34 DoF), the stills and low-texture in-focus runs the same (7 of 272
    #: traces moved, one more frame each); wide_main_6mm seeds 0-2, depth-edge 77.8 % -> 83.3 %,
    #: stills-lowlight 0.25 -> 0.20 DoF; phone_tele seeds 0-2, two depth-edge runs one frame
    #: longer, all in focus.
    free_unsure_moves = True

    def __init__(self, *, calibration="auto", far_weights="auto", nearest_subject: bool = True, **options) -> None:
        """Options of :class:`~focuslab.af.policies.learned_jump.LearnedJumpAF`, plus ``calibration``,
        ``far_weights`` and ``nearest_subject`` (module notes)."""
        from focuslab.models.dp_calibration import load_defocus_calibration

        super().__init__(**options)
        self.nearest_subject = nearest_subject_option(nearest_subject)
        if far_weights is not None and not isinstance(far_weights, str | PathLike):
            raise InvalidParameterError(f"far_weights must be 'auto', 'none', a family keyword or a weights file, "
                                        f"got {far_weights!r}")
        self.far_weights = far_weights
        if isinstance(calibration, str) and calibration.lower() in ("none", "off", "raw"):
            calibration = None
        if calibration is None or (isinstance(calibration, str) and calibration == "auto"):
            self.calibration_option = calibration
        else:
            self.calibration_option = load_defocus_calibration(calibration)
        self.calibration = None

    def on_reset(self) -> None:
        """Take the given calibration, or the context's (``auto``); a preset's is made at the first read."""
        from focuslab.models.dp_calibration import load_defocus_calibration

        opt = self.calibration_option
        self.calibration = opt if opt is not None and not isinstance(opt, str) else None
        given = self._ctx.extra.get("dp_defocus_calibration") if opt == "auto" else None
        if given is not None:
            self.calibration = load_defocus_calibration(given)
        self._calibrate_preset = opt == "auto" and given is None
        self._reader = None
        self._nearest = NearestSubjectRun(self.nearest_chi2_per_dof)

    def predict(self, observation: Observation, code: float, dof: float) -> tuple[float, float] | None:
        """The network's defocus and sigma (DoF) of the frame's dual-pixel AF region, calibrated."""
        from focuslab.models.predict import dp_defocus

        if observation.left is None or observation.right is None:
            return None
        if self._reader is None:
            self._reader, self._reader_label = self._make_reader(self._calibrate_preset)
        if self._calibrate_preset:
            self._calibrate_preset = False
            parts = ([] if self.weights is None else [str(self.weights)])
            label = " ".join(parts + ([f"({self._reader_label})"] if self._reader_label else []))
            self.calibration = preset_dp_calibration(self._ctx, self._reader, label, min(observation.left.shape))
            if self.calibration is None:  # the sweep was refused: read as an uncalibrated camera would
                self._reader, self._reader_label = self._make_reader(False)
        d, s = dp_defocus(self._reader, observation.left, observation.right)
        if self.calibration is not None:
            d, s = self.calibration.apply(d, s)
        if not self.nearest_subject:
            return d, s
        return self._nearest.region(d, s, lambda: self._crop_readings(observation))

    def _crop_readings(self, observation: Observation) -> tuple[np.ndarray, np.ndarray] | None:
        """The region read as overlapping crops (every half crop), calibrated; None when it holds
        fewer than two crops a side (module notes, "Nearest subject")."""
        from focuslab.models.predict import dp_defocus_map

        if min(np.shape(observation.left)) < 2 * int(self._reader.crop_px):
            return None
        _, d, s = dp_defocus_map(self._reader, observation.left, observation.right)
        if self.calibration is not None:
            pairs = [self.calibration.apply(float(a), float(b)) for a, b in zip(d, s, strict=True)]
            d = np.array([p[0] for p in pairs])
            s = np.array([p[1] for p in pairs])
        return d, s

    def _make_reader(self, calibrating: bool):
        """The network alone, or cascaded with the far reader (module notes, "Far reader");
        ``calibrating``: the preset's chart sweep will calibrate the reader as a whole."""
        from focuslab.af.policies.phase import preset_dp_camera
        from focuslab.models.dp_cascade import dp_reader

        far = self.far_weights
        camera = preset_dp_camera(self._ctx) if isinstance(far, str) and far == "auto" else None
        return dp_reader(self.model, camera, far, calibrated=calibrating and camera is not None)


@register_policy("learned-dp")
def make_learned_dp(**options) -> LearnedDPAF:
    """Factory of :class:`LearnedDPAF` (options are its keyword arguments)."""
    return LearnedDPAF(**options)
