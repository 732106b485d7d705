"""Numpy in, numpy out: what the learned AF policies call.

Each function takes the AF region as the policy's :class:`~focuslab.af.types.Observation`
holds it (float, black level removed, any size) and returns the signed defocus in
depth-of-focus units (positive = subject nearer than the focus plane = move to a larger code)
and its 1-sigma uncertainty, both floats.

Every network runs in its inference form (:func:`~focuslab.models.dp_inference.inference_form`:
the same numbers, faster in eager PyTorch).

An AF region larger than the network's crop is cut into a grid of crops (as few as cover it,
evenly spaced, at most ``max_tiles``); one smaller is reflect-padded. The crops' predictions
are combined by inverse-variance weighting, ``d = sum(w_i d_i) / sum(w_i)``, ``w_i = exp(-s_i)``
with ``s_i`` the predicted log-variance, and the reported sigma adds the spread of the crops
to the pooled error: ``sigma^2 = 1 / sum(w_i) + sum(w_i (d_i - d)^2) / sum(w_i)``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from focuslab.errors import InvalidParameterError
from focuslab.models.dp_defocus import LOGVAR_RANGE, normalize_dp
from focuslab.models.dp_inference import inference_form
from focuslab.models.fusion import normalize_fusion
from focuslab.models.temporal import normalize_move
from focuslab.models.two_frame import normalize_two_frame


def _plane(name: str, a) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float32)
    if arr.ndim != 2 or min(arr.shape) < 4:
        raise InvalidParameterError(f"{name} must be a 2-D image of at least 4 x 4 pixels, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InvalidParameterError(f"{name} holds NaN or inf; give finite pixel values")
    return arr


def tile_origins(shape: tuple[int, int], crop_px: int, max_tiles: int = 16) -> list[tuple[int, int]]:
    """Top-left corners ``(y, x)`` of the crops covering an image of ``shape``: per axis
    ``ceil(n / crop)`` crops evenly spaced from 0 to ``n - crop``, thinned to ``max_tiles``."""
    axes = []
    for n in shape:
        k = max(1, math.ceil(n / crop_px))
        axes.append(np.linspace(0, max(n - crop_px, 0), k).round().astype(int) if n > crop_px else np.zeros(1, int))
    while len(axes[0]) * len(axes[1]) > max_tiles:
        i = 0 if len(axes[0]) >= len(axes[1]) else 1
        n = shape[i]
        k = len(axes[i]) - 1
        axes[i] = np.linspace(0, max(n - crop_px, 0), k).round().astype(int)
    return [(int(y), int(x)) for y in axes[0] for x in axes[1]]


def crops(image: np.ndarray, crop_px: int, origins: list[tuple[int, int]]) -> np.ndarray:
    """``len(origins) x crop x crop`` crops of ``image`` (reflect-padded when it is smaller)."""
    h, w = image.shape
    if h < crop_px or w < crop_px:
        py, px = max(0, crop_px - h), max(0, crop_px - w)
        image = np.pad(image, ((py // 2, py - py // 2), (px // 2, px - px // 2)), mode="symmetric")
    return np.stack([image[y : y + crop_px, x : x + crop_px] for y, x in origins])


def pool(out: torch.Tensor) -> tuple[float, float]:
    """Inverse-variance pooling of ``N x 2`` predictions (module docstring) -> (mean, sigma)."""
    o = out.detach().double()
    mu = o[:, 0]
    w = torch.exp(-o[:, 1].clamp(*LOGVAR_RANGE))
    d = float((w * mu).sum() / w.sum())
    spread = float((w * (mu - d) ** 2).sum() / w.sum())
    return d, math.sqrt(1.0 / float(w.sum()) + spread)


def _pair_tiles(model: nn.Module, a, b, max_tiles: int, names=("left", "right")):
    a = _plane(names[0], a)
    b = _plane(names[1], b)
    if a.shape != b.shape:
        raise InvalidParameterError(f"{names[0]} and {names[1]} differ in shape: {a.shape} vs {b.shape}")
    origins = tile_origins(a.shape, model.crop_px, max_tiles)
    n = model.crop_px
    return torch.from_numpy(crops(a, n, origins)), torch.from_numpy(crops(b, n, origins)), origins


def _codes(name: str, value) -> float:
    v = float(value)
    if not math.isfinite(v):
        raise InvalidParameterError(f"{name} must be finite, got {value!r}")
    return v


#: Above this |defocus| (DoF) :func:`dp_defocus` reads the region again binned 2 x 2 (see there).
COARSE_ABOVE_DOF = 20.0


def bin2(image: np.ndarray) -> np.ndarray:
    """2 x 2 box binning (mean) of a 2-D image; an odd last row or column is dropped."""
    h, w = (image.shape[0] // 2) * 2, (image.shape[1] // 2) * 2
    return image[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3), dtype=np.float32)


def dp_defocus(
    model: nn.Module, left, right, *, max_tiles: int = 16, coarse_above_dof: float | None = COARSE_ABOVE_DOF
) -> tuple[float, float]:
    """Signed defocus (DoF) and its sigma of a dual-pixel AF region of any size (``dp-defocus``).

    Large defocus is read at two scales. The network sees the DP shift through a correlation
    over a fixed search range in pixels (``max_shift_px``); far from focus the shift leaves it
    and the reading saturates (the shipped weights on the evaluation stacks: 26 DoF for 30-38).
    When the region's reading exceeds ``coarse_above_dof`` and the region is at least two
    crops on each side, the region is binned 2 x 2 (shifts and blur halve in pixels, noise
    halves) and read again; twice that reading (and its sigma) replaces the first when it
    agrees in sign and is larger, as in coarse-to-fine stereo matching, and the binned reading
    itself is smaller than the first (as a halved shift must read; a reader that does not
    scale with the image, like a stand-in, keeps its one-scale reading). On the 20 evaluation
    stacks of ``focuslab evaluate`` (980 slices, raw network) the mean absolute error falls
    from 1.25 to 1.06 DoF, beyond 25 DoF (102 slices) from 3.4 to 1.6; below the threshold nothing
    changes.
    ``None`` reads at one scale.

    The network runs in its inference form (:func:`~focuslab.models.dp_inference.inference_form`:
    the same numbers, 1.7-1.8x faster in eager PyTorch).
    """
    model = inference_form(model)
    lt, rt, _ = _pair_tiles(model, left, right, max_tiles)
    with torch.no_grad():
        d, s = pool(model(normalize_dp(lt, rt)))
    n = model.crop_px
    if coarse_above_dof is None or abs(d) <= coarse_above_dof or min(np.shape(left)) < 2 * n:
        return d, s
    lc, rc, _ = _pair_tiles(model, bin2(_plane("left", left)), bin2(_plane("right", right)), max_tiles)
    with torch.no_grad():
        dc, sc = pool(model(normalize_dp(lc, rc)))
    if dc * d > 0 and abs(d) / 2.0 < abs(dc) < abs(d):
        return 2.0 * dc, 2.0 * sc
    return d, s


def _crop_grid(model: nn.Module, left, right, stride_px: int | None, names=("left", "right")):
    """``(left, right, origins)``: the two planes (DP views, or a two-frame pair) and the origins
    of the model's crops every ``stride_px`` (default: half a crop) over them."""
    left = _plane(names[0], left)
    right = _plane(names[1], right)
    if left.shape != right.shape:
        raise InvalidParameterError(f"{names[0]} and {names[1]} differ in shape: {left.shape} vs {right.shape}")
    n = model.crop_px
    s = int(stride_px or n // 2)
    if s < 1:
        raise InvalidParameterError(f"stride_px must be >= 1, got {stride_px}")
    origins = [(y, x) for y in range(0, left.shape[0] - n + 1, s) for x in range(0, left.shape[1] - n + 1, s)]
    if not origins:
        raise InvalidParameterError(f"image {left.shape} is smaller than the model's crop {n} x {n}")
    return left, right, origins


def _per_crop(out: torch.Tensor, origins, crop_px: int):
    """``(centres_yx N x 2, defocus_dof N, sigma_dof N)`` of ``N x 2`` network outputs."""
    o = out.double().numpy()
    centres = np.array(origins, dtype=float) + (crop_px - 1) / 2.0
    return centres, o[:, 0], np.exp(0.5 * np.clip(o[:, 1], *LOGVAR_RANGE))


def dp_defocus_map(model: nn.Module, left, right, *, stride_px: int | None = None, batch: int = 256):
    """Per-crop predictions over a whole DP image: ``(centres_yx N x 2, defocus_dof N, sigma_dof
    N)`` on a grid of crops of the model's size every ``stride_px`` (default: half a crop); the
    network runs in its inference form (:func:`~focuslab.models.dp_inference.inference_form`)."""
    model = inference_form(model)
    left, right, origins = _crop_grid(model, left, right, stride_px)
    n = model.crop_px
    outs = []
    with torch.no_grad():
        for i in range(0, len(origins), batch):
            o = origins[i : i + batch]
            lt = torch.from_numpy(crops(left, n, o))
            rt = torch.from_numpy(crops(right, n, o))
            outs.append(model(normalize_dp(lt, rt)))
    return _per_crop(torch.cat(outs), origins, n)


def two_frame_defocus(
    model: nn.Module, image0, image1, code0, code1, codes_per_dof, *, max_tiles: int = 16
) -> tuple[float, float]:
    """Signed defocus (DoF) at frame 1 and its sigma from two frames of the AF region at codes
    ``code0`` and ``code1`` (``two-frame``): the network's frame-0 defocus minus the move
    ``(code1 - code0) / codes_per_dof``."""
    c0, c1, cpd = _codes("code0", code0), _codes("code1", code1), _codes("codes_per_dof", codes_per_dof)
    if cpd <= 0:
        raise InvalidParameterError(f"codes_per_dof must be > 0, got {codes_per_dof!r}")
    model = inference_form(model)
    a, b, origins = _pair_tiles(model, image0, image1, max_tiles, names=("image0", "image1"))
    k = len(origins)
    x, move = normalize_two_frame(a, b, torch.full((k,), c0), torch.full((k,), c1), torch.full((k,), cpd))
    with torch.no_grad():
        d0, sigma = pool(model(x, move))
    return d0 - (c1 - c0) / cpd, sigma


def two_frame_defocus_map(model: nn.Module, image0, image1, code0, code1, codes_per_dof, *,
                          stride_px: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-crop ``two-frame`` predictions over a pair of AF-region frames: ``(centres_yx N x 2,
    defocus_dof N, sigma_dof N)``, each crop's signed defocus at frame 1 (as
    :func:`two_frame_defocus` reads its tiles) on a grid of crops every ``stride_px`` (default:
    half a crop)."""
    c0, c1, cpd = _codes("code0", code0), _codes("code1", code1), _codes("codes_per_dof", codes_per_dof)
    if cpd <= 0:
        raise InvalidParameterError(f"codes_per_dof must be > 0, got {codes_per_dof!r}")
    model = inference_form(model)
    a, b, origins = _crop_grid(model, image0, image1, stride_px, names=("image0", "image1"))
    n, k = model.crop_px, len(origins)
    x, move = normalize_two_frame(torch.from_numpy(crops(a, n, origins)), torch.from_numpy(crops(b, n, origins)),
                                  torch.full((k,), c0), torch.full((k,), c1), torch.full((k,), cpd))
    with torch.no_grad():
        centres, d0, sigma = _per_crop(model(x, move), origins, n)
    return centres, d0 - (c1 - c0) / cpd, sigma


def _fusion_state(depth_m, depth_sigma_m, lens_code, codes_per_dof, k: int) -> torch.Tensor:
    """The ``fusion`` network's depth-zone and lens input, repeated for ``k`` crops."""
    code, cpd = _codes("lens_code", lens_code), _codes("codes_per_dof", codes_per_dof)
    if cpd <= 0:
        raise InvalidParameterError(f"codes_per_dof must be > 0, got {codes_per_dof!r}")
    dm = np.asarray(depth_m, dtype=np.float32)
    ds = np.asarray(depth_sigma_m, dtype=np.float32)
    if dm.ndim != 2 or ds.shape != dm.shape:
        raise InvalidParameterError(f"depth_m and depth_sigma_m must be 2-D grids alike: {dm.shape} {ds.shape}")
    return normalize_fusion(
        torch.from_numpy(dm)[None].expand(k, -1, -1), torch.from_numpy(ds)[None].expand(k, -1, -1),
        torch.full((k,), code), torch.full((k,), cpd),
    )  # fmt: skip


def fusion_defocus(
    model: nn.Module, left, right, depth_m, depth_sigma_m, lens_code, codes_per_dof, *, max_tiles: int = 16
) -> tuple[float, float]:
    """Signed defocus (DoF) and its sigma from the DP AF region, the depth zones ``Zy x Zx``
    (metres, NaN = no return) with their 1-sigma, and the lens state (``fusion``)."""
    model = inference_form(model)
    lt, rt, origins = _pair_tiles(model, left, right, max_tiles)
    z = _fusion_state(depth_m, depth_sigma_m, lens_code, codes_per_dof, len(origins))
    with torch.no_grad():
        return pool(model(normalize_dp(lt, rt), z))


def fusion_defocus_map(model: nn.Module, left, right, depth_m, depth_sigma_m, lens_code, codes_per_dof, *,
                       stride_px: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-crop ``fusion`` predictions over a DP region: ``(centres_yx N x 2, defocus_dof N,
    sigma_dof N)`` on a grid of crops every ``stride_px`` (default: half a crop), each crop read
    with the whole depth-zone grid and the lens state, as :func:`fusion_defocus` reads its tiles."""
    model = inference_form(model)
    left, right, origins = _crop_grid(model, left, right, stride_px)
    n = model.crop_px
    z = _fusion_state(depth_m, depth_sigma_m, lens_code, codes_per_dof, len(origins))
    with torch.no_grad():
        lt, rt = torch.from_numpy(crops(left, n, origins)), torch.from_numpy(crops(right, n, origins))
        out = model(normalize_dp(lt, rt), z)
    return _per_crop(out, origins, n)


class TemporalTracker:
    """Runs the ``temporal`` cell frame by frame over a video, carrying its state.

    ``step(left, right, lens_code, codes_per_dof) -> (defocus_dof, sigma_dof)`` of the current
    frame; the lens target is ``lens_code + defocus_dof * codes_per_dof``. One state per crop
    of the AF region; a change of region size restarts from the zero state (:meth:`reset`).
    The network runs in its inference form (:func:`~focuslab.models.dp_inference.inference_form`).
    """

    def __init__(self, model: nn.Module, *, max_tiles: int = 4) -> None:
        self.model = model
        self.max_tiles = int(max_tiles)
        self.reset()

    def reset(self) -> None:
        """Forget the past (a new scene, a new AF region)."""
        self._h: torch.Tensor | None = None
        self._prev_code: float | None = None
        self._shape: tuple[int, int] | None = None

    def step(self, left, right, lens_code, codes_per_dof) -> tuple[float, float]:
        """Feed one frame; returns its signed defocus (DoF) and sigma."""
        code, cpd = _codes("lens_code", lens_code), _codes("codes_per_dof", codes_per_dof)
        if cpd <= 0:
            raise InvalidParameterError(f"codes_per_dof must be > 0, got {codes_per_dof!r}")
        net = inference_form(self.model)
        lt, rt, origins = _pair_tiles(net, left, right, self.max_tiles)
        k = len(origins)
        if self._shape != np.shape(left) or self._h is None:
            self.reset()
            self._shape = np.shape(left)
            self._h = torch.zeros(k, net.hidden)
        prev = None if self._prev_code is None else torch.full((k,), self._prev_code)
        move = normalize_move(torch.full((k,), code), prev, torch.full((k,), cpd))
        with torch.no_grad():
            out, self._h = net(normalize_dp(lt, rt), move, self._h)
        self._prev_code = code
        return pool(out)
