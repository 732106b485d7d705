"""Simulated dual-pixel focal stacks for the offline evaluation, in the style of Learning to Autofocus.

Herrmann et al. ("Learning to Autofocus", CVPR 2020, sec. 3) evaluate on focal stacks of
49 slices whose lens positions are spaced evenly in *diopters*, each scene with its true
in-focus slice. :func:`eval_stack` renders one such stack with the simulator through the same
code path as the AF loop (a :class:`~focuslab.af.backends.SimulatorBackend` looking at a
textured fronto-parallel plane, the lens resting and settled at each slice's code): for every
slice the AF region's raw image and its dual-pixel left/right views, float32, black removed
and divided by (white - black), exactly what a policy (and the training set, docs/dataset_format.md)
sees.

Slices: nominal focus diopters ``D_k = D_far + k (D_near - D_far) / (n - 1)``, k = 0..n-1, from
``far_m`` (default infinity, 0 D) to ``near_m`` (default the lens' minimum focus distance);
each slice's code is the factory calibration's code for ``1 / D_k``. The true slice is the one
whose lens position gives the subject the smallest blur, ``argmin_k |c(u, d_k)|`` with
``c = A s (1/u - 1/u_f)`` at the lens displacement d_k during the slice's exposure (the
calibrated displacement plus the actuator's play, posture offset and jitter; DESIGN.md
"Physics"). The
subject is drawn uniformly in diopters between slices 2 and n - 3 (away from the ends).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from focuslab.errors import InvalidParameterError, check_positive

#: Textures of the evaluation scenes, cycled by scene index (Learning-to-Autofocus scenes are
#: real photographs; dead leaves has the 1/f spectrum of natural images).
EVAL_TEXTURES = ("dead_leaves", "photo:astronaut", "photo:coffee", "photo:chelsea", "text", "photo:brick",
                 "dead_leaves", "photo:rocket", "photo:gravel", "photo:page")

#: Slices of a Learning-to-Autofocus focal stack.
LTA_SLICES = 49


@dataclass(frozen=True, eq=False)
class EvalStack:
    """One rendered focal stack of the offline evaluation.

    Attributes
    ----------
    codes
        ``n`` lens codes of the slices (int, increasing: far to near).
    diopters
        ``n`` nominal focus of the slices, diopters (evenly spaced).
    focus_diopters
        ``n`` focus of each code's calibrated displacement, diopters (integer codes: within
        half a code of the nominal).
    codes_per_dof
        ``n`` lens codes per depth-of-focus unit at each slice.
    diopters_per_dof
        ``n`` diopters of focus per depth-of-focus unit at each slice, ``c_max / (A s)``.
    defocus_dof
        ``n`` true signed defocus of the subject during each slice's exposure, DoF (positive =
        subject nearer than the focus plane).
    true_slice
        Index of the slice whose lens position blurs the subject least.
    subject_distance_m
        The subject plane's distance, metres.
    images, left, right
        ``n x h x w`` float32 AF-region raw images and dual-pixel views.
    texture, illuminance_lux, seed
        What was rendered.
    """

    codes: np.ndarray
    diopters: np.ndarray
    focus_diopters: np.ndarray
    codes_per_dof: np.ndarray
    diopters_per_dof: np.ndarray
    defocus_dof: np.ndarray
    true_slice: int
    subject_distance_m: float
    images: np.ndarray
    left: np.ndarray
    right: np.ndarray
    texture: str
    illuminance_lux: float
    seed: int

    @property
    def slice_step_diopters(self) -> float:
        """Nominal spacing of the slices, diopters."""
        return float(self.diopters[1] - self.diopters[0])


def slice_diopters(camera, slices: int = LTA_SLICES, *, far_m: float = math.inf,
                   near_m: float | None = None) -> np.ndarray:
    """``slices`` focus diopters evenly spaced from ``far_m`` to ``near_m`` (default the minimum focus distance).

    Raises
    ------
    InvalidParameterError
        Fewer than 5 slices, or ``near_m`` not nearer than ``far_m`` / than the minimum focus distance.
    """
    if isinstance(slices, bool) or not isinstance(slices, int) or slices < 5:
        raise InvalidParameterError(f"slices must be an integer >= 5, got {slices!r}")
    near = camera.lens.min_focus_distance_m if near_m is None else float(near_m)
    if not near >= camera.lens.min_focus_distance_m:
        raise InvalidParameterError(
            f"near_m must be >= the lens' minimum focus distance {camera.lens.min_focus_distance_m} m, got {near_m!r}")
    d_far = 0.0 if math.isinf(far_m) else 1.0 / float(far_m)
    d_near = 1.0 / near
    if not d_near > d_far:
        raise InvalidParameterError(f"near_m ({near} m) must be nearer than far_m ({far_m} m)")
    return np.linspace(d_far, d_near, slices)


def slice_codes(camera, diopters: np.ndarray) -> np.ndarray:
    """The factory calibration's code for each focus (diopters; 0 = infinity)."""
    return np.array([camera.focus_code_for_distance(math.inf if d <= 0 else 1.0 / d) for d in diopters], dtype=int)


def code_focus_diopters(camera, codes: np.ndarray) -> np.ndarray:
    """Focus (diopters) of each code's calibrated lens displacement."""
    out = []
    for c in codes:
        u = camera.focus_distance_m(float(camera.actuator.displacement_um(int(c))))
        out.append(0.0 if math.isinf(u) else 1.0 / u)
    return np.array(out)


def true_defocus_dof(camera, subject_distance_m: float, codes: np.ndarray) -> np.ndarray:
    """Signed defocus (DoF) of the subject at each code: ``c(u, d(code)) / c_max``."""
    return np.array([float(camera.coc_um(subject_distance_m, float(camera.actuator.displacement_um(int(c)))))
                     for c in codes]) / camera.coc_max_um


def _texture(name: str, shape: tuple[int, int], seed: int) -> np.ndarray:
    from focuslab.scene import charts, textures
    from focuslab.scene.photos import photo

    if name == "dead_leaves":
        rad = textures.dead_leaves(shape, r_min_px=1.0, r_max_px=0.5 * max(shape), seed=seed)
    elif name == "text":
        rad = charts.text_card(shape)
    elif name.startswith("photo:"):
        rad = photo(name.split(":", 1)[1], shape, grey=False)
    else:
        raise InvalidParameterError(f"unknown evaluation texture {name!r}; use one of {', '.join(EVAL_TEXTURES)}")
    rad = np.asarray(rad, dtype=np.float32)
    return rad[..., None] if rad.ndim == 2 else rad


def eval_stack(
    index: int,
    *,
    camera: str = "phone_main",
    slices: int = LTA_SLICES,
    crop_px: int = 64,
    seed: int = 0,
    far_m: float = math.inf,
    near_m: float | None = None,
    subject_distance_m: float | None = None,
    texture: str | None = None,
    illuminance_lux: float | None = None,
) -> EvalStack:
    """Render scene ``index`` of the evaluation set (see the module notes).

    Parameters
    ----------
    index
        Scene index (>= 0): picks the texture (:data:`EVAL_TEXTURES`, cycled) and, with
        ``seed``, the draws (``numpy.random.default_rng([seed, index])``: same seed, same bytes).
    camera
        Camera preset with a dual-pixel sensor.
    slices, far_m, near_m
        The stack (see :func:`slice_diopters`).
    crop_px
        Side of the square AF region at the frame's centre, stream pixels.
    subject_distance_m
        The subject's distance (default: drawn, see the module notes).
    texture, illuminance_lux
        The plane's texture (one of :data:`EVAL_TEXTURES`) and illuminance (lux); default: the
        index's texture and a light drawn in 300-1000 lux. The draws are made either way, so
        the other values stay those of the default stack.

    Raises
    ------
    InvalidParameterError
        Bad index, crop or camera without dual pixel.
    UnknownNameError
        Unknown camera.
    """
    from focuslab.af.backends import SimulatorBackend
    from focuslab.camera import get_camera
    from focuslab.data.generate_samples import centre_crop_roi
    from focuslab.data.generate_scene import crop_field, plane_scene

    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise InvalidParameterError(f"index must be a non-negative integer, got {index!r}")
    if isinstance(crop_px, bool) or not isinstance(crop_px, int) or crop_px < 16 or crop_px % 2:
        raise InvalidParameterError(f"crop_px must be an even integer >= 16, got {crop_px!r}")
    cam = get_camera(camera)
    if not cam.has_dual_pixel:
        raise InvalidParameterError(f"camera {camera!r} has no dual-pixel sensor; pick one with dual pixel")
    rng = np.random.default_rng([int(seed), int(index)])
    dpt = slice_diopters(cam, slices, far_m=far_m, near_m=near_m)
    codes = slice_codes(cam, dpt)
    if subject_distance_m is None:
        u = 1.0 / max(float(rng.uniform(dpt[2], dpt[-3])), 1e-3)
    else:
        u = float(subject_distance_m)
    defocus = true_defocus_dof(cam, u, codes)
    blur = float(np.max(np.abs(defocus))) * cam.coc_max_um
    side, hfov = crop_field(cam, crop_px, blur, float(cam.actuator.displacement_um(int(codes[0]))))
    texture = EVAL_TEXTURES[index % len(EVAL_TEXTURES)] if texture is None else str(texture)
    tex_seed = int(rng.integers(0, 2**31 - 1))
    lux = float(rng.uniform(300.0, 1000.0))
    if illuminance_lux is not None:
        lux = check_positive("illuminance_lux", illuminance_lux)
    sim_seed = int(rng.integers(0, 2**31 - 1))
    scene = plane_scene(_texture(texture, (side, side), tex_seed), hfov, u)
    backend = SimulatorBackend(cam, scene, roi=centre_crop_roi(cam, crop_px), illuminance_lux=lux, seed=sim_seed,
                               initial_code=int(codes[0]))
    images, lefts, rights, actual = [], [], [], []
    settle_s = 0.25  # >> the actuator's settling time (90 Hz, zeta 0.45: ~20 ms)
    for k, c in enumerate(codes):
        t = k * settle_s
        backend.command(int(c), t)
        t_obs = t + settle_s - backend.exposure_s - 1e-3
        obs = backend.observe(k, t_obs)
        d_um = backend.session.exposure_position_um(t_obs, backend.exposure_s)
        actual.append(float(cam.coc_um(u, d_um)) / cam.coc_max_um)
        images.append(obs.image)
        lefts.append(obs.left)
        rights.append(obs.right)
    cpd = np.array([1.0 / float(backend.dof_per_code(float(c))) for c in codes])
    a_mm = cam.lens.focal_length_mm / cam.lens.f_number
    s_mm = np.array([cam.sensor_distance_mm(float(cam.actuator.displacement_um(int(c)))) for c in codes])
    defocus = np.array(actual)
    return EvalStack(
        codes=codes, diopters=dpt, focus_diopters=code_focus_diopters(cam, codes), codes_per_dof=cpd,
        diopters_per_dof=cam.coc_max_um / (a_mm * s_mm), defocus_dof=defocus,
        true_slice=int(np.argmin(np.abs(defocus))), subject_distance_m=u,
        images=np.stack(images).astype(np.float32), left=np.stack(lefts).astype(np.float32),
        right=np.stack(rights).astype(np.float32), texture=texture, illuminance_lux=lux, seed=int(seed),
    )
