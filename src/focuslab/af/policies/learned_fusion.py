"""``learned-fusion``: the ``fusion`` network on dual pixel + depth-sensor zones + lens state.

Each settled frame, :func:`focuslab.models.predict.fusion_defocus` reads the AF region's
dual-pixel views, the depth sensor's zone grid (metres, NaN where a zone has no return, with
each zone's 1-sigma) and the lens code and codes per DoF; the prediction drives the jump /
confirm / fall-back logic of :class:`~focuslab.af.policies.learned_jump.LearnedJumpAF`. The
depth sensor runs slower than the frames: a frame without a new reading reuses the last one,
and before the first reading the grid is all "no return". Needs dual pixel, depth and the
lens model.

Nearest subject (``nearest_subject=True``, the default; as ``learned-dp``,
:class:`~focuslab.models.nearest_subject.NearestSubjectRun`): within 6 DoF of focus the region
is read again as overlapping crops (every half crop, each with the whole zone grid); once their
readings disagree beyond their sigmas the nearest subject's crops are pooled for the rest of
the run. Full suites, phone_main_tof, seeds 0-2: depth-edge 38.9 % -> 77.8 % in focus,
stills-bright 97.6 % -> 100 %, stills-lowlight 97.2 % and low-texture 95.8 % both. With the
two-group split of stop 22 (:mod:`focuslab.models.nearest_subject`), seeds 0-7: depth-edge
64.6 % -> 93.8 % (mean |error| 1.69 -> 0.48 DoF), stills-bright 97.3 % and stills-lowlight
97.9 % both, low-texture 92.2 % -> 90.6 % (one wall run). With the blended-crops rule and the
sigma bound of stop 23 (the gate stays at 3: this network's sigmas are tighter): depth-edge
93.8 % -> 95.8 % (0.48 -> 0.45 DoF), every other run on the same trace; with the three-depth
split too, ``wide_main_6mm`` seeds 0-2 depth-edge 66.7 % (stop 22) -> 83.3 %. ``False`` pools
every crop.

Other cameras (``trained_camera``). The network turns a ToF distance and the lens code into
defocus through the code <-> distance calibration of the camera it was trained on
(:data:`TRAINED_CAMERA` for the shipped weights). On another module (a camera file,
docs/cameras.md) each zone's distance is first re-expressed as the distance the trained camera
focuses at this camera's code for it (:func:`tof_remap`), so the learned map gives this
camera's code. ``"auto"`` (default): the shipped weights' camera, no remap for weights given by
hand; a camera name sets it; ``"none"`` feeds the distances as measured. Full stills suites,
seeds 0-2, on ``configs/cameras/wide_main_6mm.yaml`` (6 mm f/1.8, a steeper VCM from an
earlier lift-off): in focus 90.5 % / 86.1 % (bright / low light) against 78.6 % / 66.7 % without
the remap, whose misses all stopped 1-7 DoF short on the far side. The trained camera (and
``phone_main``, the same lens and VCM) reads untouched.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from focuslab.af.policies.learned_jump import LearnedJumpAF
from focuslab.af.registry import register_policy
from focuslab.af.types import Observation
from focuslab.errors import InvalidParameterError
from focuslab.models.nearest_subject import NearestSubjectRun, nearest_subject_option

#: Zone grid assumed before the first depth reading (VL53L5CX-class 8 x 8).
DEFAULT_ZONES = (8, 8)

#: The camera whose factory calibration (code <-> focus distance) the shipped ``fusion`` weights
#: learned: their training set (configs/data/train_fusion.yaml) is phone_main_tof with the
#: actuator and focal length varied around it.
TRAINED_CAMERA = "phone_main_tof"

#: Farthest remapped distance (m): codes behind the trained camera's lift-off read as this.
_FAR_M = 100.0


@functools.lru_cache(maxsize=8)
def _trained_map(trained_camera: str):
    """The trained camera's AF context and its factory map: codes and focus diopters (0 at infinity)."""
    from focuslab.af.backends import camera_context
    from focuslab.camera import get_camera

    ctx = camera_context(get_camera(trained_camera))
    codes = np.arange(ctx.min_code, ctx.max_code + 1)
    return ctx, codes, np.array([1.0 / ctx.distance_for_code(int(c)) for c in codes])


def tof_remap(context, trained_camera: str) -> Callable[[np.ndarray], np.ndarray] | None:
    """Zone distances of this camera -> the distances the trained camera focuses at the same codes.

    The ``fusion`` network turns a ToF distance u and the lens code into defocus through the
    code <-> distance calibration of the camera it was trained on. On another module the same u
    sits at another code; feeding u' = distance_trained(code_this(u)) makes the network's map
    give this camera's code, which is exact as far as both factory calibrations are (the
    dual-pixel path reads blur in DoF and needs no remap). None where the maps agree within half
    a code over 0.1-10 m (the trained camera itself: its readings are untouched) or where this
    camera has no lens model.
    """
    if context.code_for_distance is None:
        return None
    ref_ctx, codes, diopters = _trained_map(trained_camera)

    def ref_distance(code: np.ndarray) -> np.ndarray:  # the trained camera's map, between its codes
        return 1.0 / np.maximum(np.interp(code, codes, diopters), 1.0 / _FAR_M)

    probe = np.geomspace(max(0.1, ref_ctx.distance_for_code(ref_ctx.max_code)), 10.0, 25)
    this = np.array([float(context.code_for_distance(float(u))) for u in probe])
    trained = np.array([float(ref_ctx.code_for_distance(float(u))) for u in probe])
    if np.max(np.abs(this - trained)) <= 0.5:
        return None

    def remap(depth_m: np.ndarray) -> np.ndarray:
        out = np.array(depth_m, dtype=np.float64)
        ok = np.isfinite(out) & (out > 0)
        out[ok] = ref_distance(np.array([float(context.code_for_distance(float(u))) for u in out[ok]]))
        return out.astype(np.float32)

    return remap


class LearnedFusionAF(LearnedJumpAF):
    """Multi-modal learned AF (options: :class:`~focuslab.af.policies.learned_jump.LearnedJumpAF`)."""

    name = "learned-fusion"
    requires: frozenset[str] = frozenset({"dual_pixel", "depth", "lens_model"})
    model_name = "fusion"

    #: The tighter stop of ``learned-dp``: measured on the full stills-bright, stills-lowlight,
    #: depth-edge and low-texture suites, seeds 0-2 (42 + 36 + 18 + 24 cases), with the shipped
    #: weights done at 0.25 DoF 97.6 / 97.2 / 38.9 / 100 % in focus; at the shared (0.5, 0.75)
    #: the previous weights gave 95.2 / 94.4 / 27.8 / 83.3 % (docs/learned_af.md).
    stop_dof = (0.25, 0.3)

    def __init__(self, *, nearest_subject: bool = True, trained_camera: str | None = "auto", **options) -> None:
        """Options of :class:`~focuslab.af.policies.learned_jump.LearnedJumpAF`, plus
        ``nearest_subject`` and ``trained_camera`` (module notes, "Other cameras")."""
        super().__init__(**options)
        self.nearest_subject = nearest_subject_option(nearest_subject)
        if isinstance(trained_camera, str) and trained_camera.lower() in ("none", "off"):
            trained_camera = None
        if trained_camera is not None and not isinstance(trained_camera, str):
            raise InvalidParameterError(f"trained_camera must be 'auto', 'none' or a camera name, "
                                        f"got {trained_camera!r}")
        self.trained_camera = trained_camera

    def on_reset(self) -> None:
        self._depth: tuple[np.ndarray, np.ndarray] | None = None
        self._nearest = NearestSubjectRun()
        ref = self.trained_camera
        if ref == "auto":
            ref = TRAINED_CAMERA if self.weights is None else None
        self._remap = None if ref is None else tof_remap(self._ctx, ref)

    def predict(self, observation: Observation, code: float, dof: float) -> tuple[float, float] | None:
        """The network's defocus and sigma (DoF) from the frame's DP region, the depth zones and the lens."""
        from focuslab.models.predict import fusion_defocus, fusion_defocus_map

        if observation.left is None or observation.right is None:
            return None
        if observation.depth is not None:
            dz = observation.depth
            dist = np.where(dz.valid, dz.distance_m, np.nan).astype(np.float32)
            sigma = np.where(dz.valid, dz.sigma_m, np.nan).astype(np.float32)
            if self._remap is not None:  # the same diopter sigma at the remapped distance
                mapped = self._remap(dist)
                with np.errstate(invalid="ignore", divide="ignore"):
                    sigma = (sigma * (mapped / dist) ** 2).astype(np.float32)
                dist = mapped
            self._depth = (dist, sigma)
        if self._depth is None:
            empty = np.full(DEFAULT_ZONES, np.nan, dtype=np.float32)
            depth_m, sigma_m = empty, empty
        else:
            depth_m, sigma_m = self._depth
        d, s = fusion_defocus(self.model, observation.left, observation.right, depth_m, sigma_m, code, dof)
        if not self.nearest_subject:
            return d, s

        def crop_readings():
            if min(np.shape(observation.left)) < 2 * int(self.model.crop_px):
                return None
            _, dc, sc = fusion_defocus_map(self.model, observation.left, observation.right, depth_m, sigma_m, code, dof)
            return dc, sc

        return self._nearest.region(d, s, crop_readings)


@register_policy("learned-fusion")
def make_learned_fusion(**options) -> LearnedFusionAF:
    """Factory of :class:`LearnedFusionAF` (options are its keyword arguments)."""
    return LearnedFusionAF(**options)
