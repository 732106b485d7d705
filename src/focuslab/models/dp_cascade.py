"""The general ``dp-defocus`` weights near focus, a sensor's own weights far from it.

Two shipped weight files read a dual-pixel crop (docs/learned_models.md, "Per-sensor weights"):
the general ones, trained over every dual-pixel response family, and the Pixel 4 ones,
fine-tuned on that response alone. On the Pixel 4 response the per-sensor weights read large
defocus better (the general network cannot tell a soft split's small disparity from a sharp
split's smaller defocus, and the calibration removes that ambiguity's mean, not its scatter),
but near focus they carry an offset on some real photographs (the coffee cup's rim: +0.9 DoF
at focus, leaving the lens 1.1-1.5 DoF off in every seed) that the general weights do not.
A phase-detect module does the same split with its coarse and fine conversion tables.

:class:`FarCascade` reads every crop with the near (general) network and reads again with the
far (per-sensor) network each crop the first reads beyond ``far_above_dof``, keeping the far
reading there. What the closed loop ends on near focus is the general network's; the jump from
far is the specialist's. A crop read near costs one pass, a far one two.

Decisions. The threshold, 6 DoF: on the evaluation stacks the per-sensor weights are the
better reader from a few DoF out (per |true defocus| bin, single-slice error in slices,
general / Pixel 4: 3-6 DoF 0.48 / 0.38, 6-12 DoF 0.95 / 0.52, 12-20 DoF 1.44 / 1.17), and their
offset is near focus; at 6 DoF a closed loop's confirming readings (within 1-3 DoF after the
first jump) stay well inside the general network's range. One value was measured, not a sweep.
:func:`dp_reader` with ``"auto"`` picks the far weights: a camera whose response is the measured
Pixel 4 one (:func:`sensor_family`: its split softness, crosstalk and L/R gains; the
field-dependent split shift aside) gets the Pixel 4 weights, read raw or calibrated; any other
dual-pixel camera gets them only when the pair is calibrated for it (``calibrated=True``: the
chart sweep of :mod:`focuslab.models.dp_calibration` fitted to the cascade), since on another
response the Pixel 4 weights misjudge the scale (phone_tele's ideal split, raw: LtA
single-slice 6.09 slices against the general weights' 3.15) and the calibration is what maps
it (calibrated: 1.62 against 2.12; closed loop, full stills suites, seeds 0-2: bright 95.2 %
both, median 2 against 3 frames; low light 77.8 % against 75.0 %, median 2 against 4, 1.09
against 1.32 DoF). Without a calibration made for the pair (a camera the simulator does not
know, a calibration the user gives for the one network) the general weights read alone.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import torch
from torch import nn

from focuslab.errors import InvalidParameterError

#: A crop the near network reads beyond this |defocus| (DoF) is read again by the far network.
FAR_ABOVE_DOF = 6.0


class FarCascade(nn.Module):
    """``forward(x)``: like a ``dp-defocus`` network (``x``: :func:`~focuslab.models.dp_defocus.normalize_dp`
    output ``B x 3 x H x W`` -> ``B x 2`` defocus and log-variance), the near network's output
    with the far network's in the rows the near one reads beyond ``far_above_dof`` (module notes).
    Both networks must take the same crop."""

    def __init__(self, near: nn.Module, far: nn.Module, far_above_dof: float = FAR_ABOVE_DOF) -> None:
        super().__init__()
        if int(near.crop_px) != int(far.crop_px):
            raise InvalidParameterError(f"the near and far networks take {near.crop_px}- and {far.crop_px}-px crops; "
                                        "give two networks of the same crop")
        t = float(far_above_dof)
        if not math.isfinite(t) or t < 0:
            raise InvalidParameterError(f"far_above_dof must be a number >= 0, got {far_above_dof!r}")
        self.near, self.far, self.far_above_dof = near, far, t
        self.crop_px = int(near.crop_px)

    def inference_form(self) -> nn.Module:
        """The cascade of the two networks' :func:`~focuslab.models.dp_inference.inference_form`
        (itself when neither has one; kept while they stay the same)."""
        from focuslab.models.dp_inference import inference_form

        near, far = inference_form(self.near), inference_form(self.far)
        if near is self.near and far is self.far:
            return self
        cached = self.__dict__.get("_inference_cache")
        if cached is None or cached[0] is not near or cached[1] is not far:
            cached = (near, far, FarCascade(near, far, self.far_above_dof))
            self.__dict__["_inference_cache"] = cached
        return cached[2]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.near(x)
        far = out[:, 0].abs() > self.far_above_dof
        if bool(far.any()):
            out = out.clone()
            out[far] = self.far(x[far]).to(out.dtype)
        return out


def _camera(camera):
    from focuslab.camera import get_camera

    return get_camera(camera) if isinstance(camera, str) else camera


def sensor_family(camera) -> str | None:
    """The dual-pixel response family whose shipped per-sensor weights fit ``camera`` (a
    :class:`~focuslab.camera.Camera` or a preset name): ``"pixel4"`` when its response is the
    measured Pixel 4 one (:data:`focuslab.optics.PIXEL4_DP_RESPONSE`; the field-dependent split
    shift may differ), else None (no per-sensor weights; also a camera without dual pixel)."""
    from focuslab.optics import PIXEL4_DP_RESPONSE

    cam = _camera(camera)
    resp = getattr(cam.psf, "dp_response", None)
    if resp is None or not cam.has_dual_pixel:
        return None
    same = all(math.isclose(float(getattr(resp, k)), float(getattr(PIXEL4_DP_RESPONSE, k)), abs_tol=1e-9)
               for k in ("split_softness", "crosstalk", "left_gain", "right_gain"))
    return "pixel4" if same else None


def is_shipped_general(model: nn.Module) -> bool:
    """Whether ``model`` was loaded from the shipped general ``dp-defocus`` weights."""
    from focuslab.models.registry import weights_path

    path = getattr(model, "weights_path", None)
    return path is not None and Path(path).resolve() == weights_path("dp-defocus").resolve()


#: The far reader ``"auto"`` gives a calibrated dual-pixel camera without per-sensor weights of its own.
CALIBRATED_FAR_FAMILY = "pixel4"


def dp_reader(near: nn.Module, camera, far_weights="auto", far_above_dof: float = FAR_ABOVE_DOF, *,
              calibrated: bool = False) -> tuple[nn.Module, str]:
    """The dual-pixel reader for ``camera`` and a label of it: ``near`` alone, or ``near`` cascaded
    with far weights. ``far_weights``: ``"auto"`` (module notes, "Decisions"), when ``near`` is the
    shipped general network (other weights, chosen by hand, are read alone): the camera's
    per-sensor weights (:func:`sensor_family`), else with ``calibrated`` (the reader will be
    calibrated for ``camera`` as a whole) :data:`CALIBRATED_FAR_FAMILY`'s on any dual-pixel
    camera; ``None`` / ``"none"``, none; a family keyword or a weights file. The label is ``""``
    for ``near`` alone, else ``"far=<file> above <t> DoF"``."""
    from focuslab.models.registry import resolve_weights

    if far_weights is None or (isinstance(far_weights, str) and far_weights.lower() in ("none", "off")):
        return near, ""
    if isinstance(far_weights, str) and far_weights == "auto":
        if camera is None or not is_shipped_general(near):
            return near, ""
        family = sensor_family(camera)
        if family is None and calibrated and _camera(camera).has_dual_pixel:
            family = CALIBRATED_FAR_FAMILY
        if family is None:
            return near, ""
        far_weights = family
    path = resolve_weights("dp-defocus", far_weights)
    if path is None:
        raise InvalidParameterError("far_weights: name the far reader's weights (a family keyword or a file), "
                                    "'auto' or 'none'")
    far = _load_far(str(path))
    return FarCascade(near, far, far_above_dof), f"far={Path(path).name} above {far_above_dof:g} DoF"


@functools.lru_cache(maxsize=4)
def _load_far(path: str) -> nn.Module:
    """A far reader's weights, loaded once per process (read-only use, eval mode)."""
    from focuslab.models.registry import load_model

    return load_model("dp-defocus", path).eval()
