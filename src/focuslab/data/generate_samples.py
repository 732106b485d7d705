"""One training sample of each kind (``dp``, ``two-frame``, ``fusion``, ``video``), through the AF loop's path.

Every image comes from :class:`focuslab.af.backends.SimulatorBackend.observe` - the same
code that feeds a policy its :class:`~focuslab.af.types.Observation` - on a
``crop_px x crop_px`` AF region at the centre of the preview stream, so a network sees in
training what it sees at run time: raw mosaic, black level removed, divided by
(white - black); dual-pixel views are the sensor's left/right sub-images. The frames are read
with the auto exposure's analogue gain in the dark (``sensor.analog_gain: auto``, the
benchmark's reading; the shipped dp-defocus weights' data) or at unity gain (``unity``: the
data of the shipped fusion, two-frame and temporal weights, made before the simulator's AE set a
gain; their low-light crops are quantized at ~100 e- per DN).

Labels (docs/dataset_format.md), with d the lens displacement the frame was truly taken at
(mean over the exposure plus jitter) and u the subject distance:

* ``defocus_dof = c / c_max`` with the signed blur ``c = A s (1/u - 1/u_f)``
  (:func:`focuslab.optics.focus.coc_diameter_um`; DESIGN.md "Physics"): positive when the
  subject is nearer than the focus plane, i.e. the lens must move to a larger code;
* ``defocus_diopters = 1/u - 1/u_f`` (same sign);
* ``defocus_codes = best_code - lens_code``: the move that focuses the subject, with
  ``best_code`` the real-valued code whose true equilibrium focuses it
  (:meth:`SimulatorBackend.truth`).

Lens positions: with probability ``lens_position.near_fraction`` the code is drawn within
+-``near_dof`` depths of focus of the best code (where a policy confirms focus), with
probability ``far_fraction`` (default 0) at ``far_dof = [lo, hi]`` DoF from it on a random
side (the first jump from an end of the range; clipped to the range, so the label stays the
true defocus of the code reached), else uniformly over the code range (where it must jump).
"""

from __future__ import annotations

import math

import numpy as np

from focuslab.af.backends import SimulatorBackend
from focuslab.camera.camera import Camera
from focuslab.data.augment import augment_fusion, augment_pair, augment_stack
from focuslab.data.generate_camera import sample_camera, uniform
from focuslab.data.generate_scene import (
    SCENE_SAMPLES_PER_PX,
    card_scene,
    crop_field,
    depth_motion,
    edge_scene,
    plane_scene,
    texture_patch,
    wide_texture,
)
from focuslab.optics.focus import coc_diameter_um


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def code_range(camera: Camera) -> tuple[int, int]:
    """Codes focusing at infinity and at the lens's minimum focus distance."""
    return camera.focus_code_for_distance(math.inf), camera.focus_code_for_distance(camera.lens.min_focus_distance_m)


def dof_per_code(camera: Camera, code: float) -> float:
    """Depths of focus per code near ``code``: (dd/dcode) A / s / c_max (as the simulator backend)."""
    act = camera.actuator
    c = int(np.clip(round(code), act.start_code + 1, act.max_code - 1))
    du = 0.5 * (float(act.displacement_um(c + 1)) - float(act.displacement_um(c - 1)))
    s_mm = camera.sensor_distance_mm(float(act.displacement_um(c)))
    return du * camera.lens.aperture_diameter_mm / s_mm / camera.coc_max_um


def centre_crop_roi(camera: Camera, crop_px: int) -> tuple[int, int, int, int]:
    """The ``crop_px`` square AF region at the stream's centre (even origin: CFA phase kept)."""
    h, w = camera.stream_sensor.shape_px
    return (2 * ((w - crop_px) // 4), 2 * ((h - crop_px) // 4), crop_px, crop_px)


def draw_subject_m(cfg: dict, camera: Camera, rng: np.random.Generator) -> float:
    """Subject distance, uniform in diopters over ``subject_distance_m`` (not nearer than the lens can focus)."""
    near, far = cfg["subject_distance_m"]
    near = max(near, camera.lens.min_focus_distance_m)
    far = max(far, near)
    return 1.0 / uniform(rng, (1.0 / far, 1.0 / near))


def draw_lux(cfg: dict, rng: np.random.Generator) -> float:
    """Scene illuminance, log-uniform over ``light_lux``."""
    lo, hi = cfg["light_lux"]
    return float(math.exp(uniform(rng, (math.log(lo), math.log(hi)))))


def draw_code(cfg: dict, camera: Camera, subject_m: float, rng: np.random.Generator) -> int:
    """Lens code of a sample: near focus (``near_fraction``) or anywhere in the code range."""
    lo, hi = code_range(camera)
    best = camera.focus_code_for_distance(subject_m)
    lp = cfg["lens_position"]
    u = rng.random()
    if u < lp["near_fraction"]:
        k = float(rng.uniform(-lp["near_dof"], lp["near_dof"])) / dof_per_code(camera, best)
        return int(np.clip(round(best + k), lo, hi))
    if u < lp["near_fraction"] + lp["far_fraction"]:  # no draw at all when far_fraction is 0
        sign = 1.0 if rng.random() < 0.5 else -1.0
        return code_at_defocus(camera, subject_m, sign * uniform(rng, lp["far_dof"]), lo, hi)
    return int(rng.integers(lo, hi + 1))


def code_at_defocus(camera: Camera, subject_m: float, defocus_dof: float, lo: int, hi: int) -> int:
    """The code in ``[lo, hi]`` whose signed defocus of the subject is nearest ``defocus_dof``
    (the end of the range on that side when the lens cannot reach it). Exact through the code
    -> displacement map (the DoF per code changes several-fold along the range, so a local
    linear step from the best code misses a 30-DoF target by ~10 DoF)."""
    codes = np.arange(lo, hi + 1)
    disp = np.asarray(camera.actuator.displacement_um(codes), dtype=float)
    s_mm = np.array([camera.sensor_distance_mm(float(x)) for x in disp])
    d = coc_diameter_um(camera.lens, subject_m, s_mm) / camera.coc_max_um
    return int(codes[int(np.argmin(np.abs(np.asarray(d, dtype=float) - defocus_dof)))])


def blur_um(camera: Camera, subject_m: float, code: int) -> float:
    """Signed blur diameter (um) of the subject with the lens resting at ``code``."""
    return float(camera.coc_um(subject_m, float(camera.actuator.displacement_um(int(code)))))


def labels(backend: SimulatorBackend, t_s: float, lens_code: int, image: np.ndarray) -> dict:
    """Per-frame labels of the frame exposed from ``t_s`` (see the module notes)."""
    cam = backend.camera
    truth = backend.truth(t_s)
    u = truth.subject_distance_m
    d_um = backend.session.exposure_position_um(t_s, backend.exposure_s)
    u_f = cam.focus_distance_m(d_um)
    stream = cam.stream_sensor
    e_per_unit = (stream.white_level_dn - stream.black_level_dn) * stream.e_per_dn / backend.analog_gain
    return {
        "defocus_dof": float(cam.coc_um(u, d_um)) / cam.coc_max_um,
        "defocus_diopters": 1.0 / u - (0.0 if math.isinf(u_f) else 1.0 / u_f),
        "defocus_codes": float(truth.best_code) - float(lens_code),
        "true_code": float(truth.best_code),
        "codes_per_dof": 1.0 / dof_per_code(cam, lens_code),
        "signal_electrons": float(np.mean(image)) * e_per_unit,
    }


def _backend(cfg, camera, scene, code, lux, roi, rng) -> SimulatorBackend:
    gain = 1.0 if cfg["sensor"]["analog_gain"] == "unity" else None  # None: the AE's
    return SimulatorBackend(camera, scene, roi=roi, illuminance_lux=lux, seed=_seed(rng), initial_code=int(code),
                            analog_gain=gain)


def _common(lab: dict, lux: float, variant: int, code) -> dict:
    return {
        "defocus_dof": lab["defocus_dof"], "defocus_diopters": lab["defocus_diopters"],
        "defocus_codes": lab["defocus_codes"], "lens_code": code, "codes_per_dof": lab["codes_per_dof"],
        "light_lux": lux, "signal_electrons": lab["signal_electrons"], "variant": variant,
    }


def _corner(depth_edge: dict, rng: np.random.Generator) -> bool:
    """Whether a depth-edge card is a corner square (``depth_edge.corner_probability``; no draw
    when it is 0, so that configs without it give the bytes they gave before)."""
    p = float(depth_edge.get("corner_probability", 0.0))
    return bool(p > 0.0 and rng.random() < p)


def dp_sample(cfg: dict, rng: np.random.Generator) -> dict:
    """One ``dp`` sample: left/right AF crops at a random lens code, with labels."""
    cam, vi = sample_camera(cfg, rng)
    crop = cfg["crop_px"]
    u, lux = draw_subject_m(cfg, cam, rng), draw_lux(cfg, rng)
    code = draw_code(cfg, cam, u, rng)
    de = cfg["depth_edge"]
    d_um = float(cam.actuator.displacement_um(code))
    if de["probability"] > 0 and rng.random() < de["probability"]:
        # nearest-subject priority: the label is the card where it covers >= 30 % of the crop, else
        # the background (the benchmark's truth, focuslab.af.region_depth)
        p_bg = 1.0 / u - uniform(rng, de["gap_diopters"])
        bg_m = 1.0 / p_bg if p_bg > 1e-3 else 1e3
        blur = max(abs(blur_um(cam, u, code)), abs(blur_um(cam, bg_m, code)))
        side, hfov = crop_field(cam, crop, blur, d_um)
        card, _ = texture_patch(cfg, (side, side), rng)
        back, _ = texture_patch(cfg, (side, side), rng)
        scene = edge_scene(card, back, hfov, u, bg_m, crop_fraction=crop * SCENE_SAMPLES_PER_PX / side,
                           card_share=uniform(rng, de["card_share"]), horizontal=bool(rng.random() < 0.5),
                           card_low=bool(rng.random() < 0.5), corner=_corner(de, rng))
    else:
        side, hfov = crop_field(cam, crop, blur_um(cam, u, code), d_um)
        rad, _ = texture_patch(cfg, (side, side), rng)
        scene = plane_scene(rad, hfov, u)
    be = _backend(cfg, cam, scene, code, lux, centre_crop_roi(cam, crop), rng)
    obs = be.observe(0, 0.0)
    lab = labels(be, 0.0, code, obs.image)
    left, right = augment_pair(obs.left, obs.right, cfg["augment"], rng)
    return {**_common(lab, lux, vi, code), "left": left, "right": right}


def two_frame_sample(cfg: dict, rng: np.random.Generator) -> dict:
    """One ``two-frame`` sample: the AF crop at two lens codes (labels refer to frame 0)."""
    cam, vi = sample_camera(cfg, rng)
    crop = cfg["crop_px"]
    u, lux = draw_subject_m(cfg, cam, rng), draw_lux(cfg, rng)
    lo, hi = code_range(cam)
    c0 = draw_code(cfg, cam, u, rng)
    step = round(uniform(rng, cfg["two_frame"]["step_codes"])) * (1 if rng.random() < 0.5 else -1)
    c1 = int(np.clip(c0 + step, lo, hi))
    if c1 == c0:
        c1 = int(np.clip(c0 - step, lo, hi))
    blur = max(abs(blur_um(cam, u, c0)), abs(blur_um(cam, u, c1)))
    side, hfov = crop_field(cam, crop, blur, float(cam.actuator.displacement_um(min(c0, c1))))
    rad, _ = texture_patch(cfg, (side, side), rng)
    scene, roi = plane_scene(rad, hfov, u), centre_crop_roi(cam, crop)
    frames, lab = [], None
    for k, code in enumerate((c0, c1)):
        be = _backend(cfg, cam, scene, code, lux, roi, rng)
        obs = be.observe(0, 0.0)
        frames.append(obs.image)
        if k == 0:
            lab = labels(be, 0.0, code, obs.image)
    image = augment_stack(np.stack(frames), cfg["augment"], rng)
    return {**_common(lab, lux, vi, np.array([c0, c1])), "image": image}


def fusion_sample(cfg: dict, rng: np.random.Generator) -> dict:
    """One ``fusion`` sample: DP crops plus the depth sensor's zones (NaN: no return)."""
    cam, vi = sample_camera(cfg, rng)
    crop, fc = cfg["crop_px"], cfg["fusion"]
    u, lux = draw_subject_m(cfg, cam, rng), draw_lux(cfg, rng)
    code = draw_code(cfg, cam, u, rng)
    s_mm = cam.sensor_distance_mm(float(cam.actuator.displacement_um(code)))
    field = float(fc["field_deg"])
    side = math.ceil(2 * math.tan(math.radians(field / 2)) * s_mm * 1e3 / cam.stream_sensor.pixel_pitch_um
                         * min(SCENE_SAMPLES_PER_PX, 1.0))
    side += side % 2
    centre, _ = crop_field(cam, crop, blur_um(cam, u, code), float(cam.actuator.displacement_um(code)))
    centre = min(side, math.ceil(centre / SCENE_SAMPLES_PER_PX))  # the crop's field on this 1-sample/px grid
    card = wide_texture(cfg, side, centre, rng)
    back = wide_texture(cfg, side, centre, rng)
    bg_m = max(uniform(rng, fc["background_distance_m"]), 1.2 * u)
    scene = card_scene(card, back, field, u, bg_m, uniform(rng, fc["card_fraction"]))
    be = _backend(cfg, cam, scene, code, lux, centre_crop_roi(cam, crop), rng)
    obs = be.observe(0, 0.0)
    lab = labels(be, 0.0, code, obs.image)
    depth = obs.depth
    left, right, depth_m, sigma_m = augment_fusion(
        obs.left, obs.right, np.where(depth.valid, depth.distance_m, np.nan).astype(np.float32),
        np.where(depth.valid, depth.sigma_m, np.nan).astype(np.float32), cfg["augment"], rng)
    return {**_common(lab, lux, vi, code), "left": left, "right": right, "depth_m": depth_m,
            "depth_sigma_m": sigma_m}


def video_sample(cfg: dict, rng: np.random.Generator) -> dict:
    """One ``video`` sample: T frames of a plane moving in depth (optionally a card over a farther
    background, ``depth_edge``, and a cut to another depth between two frames, ``video.jump_*``),
    the lens tracking it with an error.

    With ``video.start_far_probability`` the lens instead starts at a code drawn uniformly over
    its range (a video that opens with the lens parked or focused elsewhere, up to ~40 DoF off on
    ``phone_main``) and rests there for 1 to T - 1 frames before it tracks: without such frames a
    recurrent reader sees only the tracking error (<= ``tracking_error_dof``) from a fresh state
    and learns that prior, reading a lens at rest 6-10 DoF off as ~3 DoF.
    """
    cam, vi = sample_camera(cfg, rng)
    crop, vc = cfg["crop_px"], cfg["video"]
    n = int(vc["frames"])
    dt = cam.frame_interval_s
    lux = draw_lux(cfg, rng)
    near = max(cfg["subject_distance_m"][0], cam.lens.min_focus_distance_m)
    far = max(cfg["subject_distance_m"][1], near)
    p0 = 1.0 / draw_subject_m(cfg, cam, rng)
    speed = uniform(rng, vc["speed_diopters_per_s"]) * (1 if rng.random() < 0.5 else -1)
    p1 = float(np.clip(p0 + speed * n * dt, 1.0 / far, 1.0 / near))
    times = [0.0, n * dt]
    dists = [1.0 / p0, 1.0 / p1]
    if vc["jump_probability"] > 0 and rng.random() < vc["jump_probability"]:
        # a cut: between two frames the subject is replaced by one jump_diopters nearer or farther
        # (a pan to another subject, a person stepping in), which then moves on at the same speed
        k = int(rng.integers(1, n))
        t_j = k * dt - 1e-4  # just before frame k's exposure starts: frame k - 1's (<= dt) shows the old subject
        p_j = p0 + (p1 - p0) * t_j / times[1]
        q = p_j + uniform(rng, vc["jump_diopters"]) * (1 if rng.random() < 0.5 else -1)
        if not 1.0 / far <= q <= 1.0 / near:
            q = 2.0 * p_j - q  # the other way stays in the range
        q = float(np.clip(q, 1.0 / far, 1.0 / near))
        q1 = float(np.clip(q + (p1 - p_j), 1.0 / far, 1.0 / near))
        times = [0.0, t_j - 1e-6, t_j, n * dt]
        dists = [1.0 / p0, 1.0 / p_j, 1.0 / q, 1.0 / q1]
        # the lens does not know: it stays where it was for 1-3 frames, then tracks the new subject
        hold = range(k, k + int(rng.integers(1, 4)))
    else:
        hold = range(0)
    lo, hi = code_range(cam)
    de = cfg["depth_edge"]
    motion = depth_motion(dists, times)
    if de["probability"] > 0 and rng.random() < de["probability"]:
        # the moving subject is a card over a still farther background (nearest-subject
        # priority: the label is the card where it covers >= 30 % of the crop, else the background)
        p_bg = min(1.0 / d for d in dists) - uniform(rng, de["gap_diopters"])
        bg_m = 1.0 / p_bg if p_bg > 1e-3 else 1e3
        blur = max(abs(blur_um(cam, d, c)) for d in (*dists, bg_m) for c in (lo, hi))
        side, hfov = crop_field(cam, crop, blur, 0.0)
        card, _ = texture_patch(cfg, (side, side), rng)
        back, _ = texture_patch(cfg, (side, side), rng)
        scene = edge_scene(card, back, hfov, dists[0], bg_m, crop_fraction=crop * SCENE_SAMPLES_PER_PX / side,
                           card_share=uniform(rng, de["card_share"]), horizontal=bool(rng.random() < 0.5),
                           card_low=bool(rng.random() < 0.5), motion=motion, corner=_corner(de, rng))
    else:
        blur = max(abs(blur_um(cam, d, c)) for d in dists for c in (lo, hi))
        side, hfov = crop_field(cam, crop, blur, 0.0)
        rad, _ = texture_patch(cfg, (side, side), rng)
        scene = plane_scene(rad, hfov, dists[0], motion=motion)
    err_max = uniform(rng, vc["tracking_error_dof"])
    err = float(rng.uniform(-err_max, err_max))
    code = int(np.clip(round(cam.focus_code_for_distance(dists[0]) + err / dof_per_code(cam, lo + 1)), lo, hi))
    rest = range(0)
    if vc["start_far_probability"] > 0 and rng.random() < vc["start_far_probability"]:
        code = int(rng.integers(lo, hi + 1))  # the lens starts anywhere and rests there at first
        rest = range(0, int(rng.integers(1, n)))
    be = _backend(cfg, cam, scene, code, lux, centre_crop_roi(cam, crop), rng)
    keys = ("defocus_dof", "defocus_diopters", "defocus_codes", "true_code")
    out = {k: np.zeros(n, np.float32) for k in keys}
    codes, lefts, rights, signal = np.zeros(n, np.int32), [], [], []
    for k in range(n):
        t = k * dt
        best = be.truth(t).best_code
        err = float(np.clip(err + rng.normal(0.0, 0.5 * err_max + 1e-3), -err_max, err_max))
        if k not in hold and k not in rest:
            code = be.command(round(best + err / dof_per_code(cam, best)), t)
        obs = be.observe(k, t)
        lab = labels(be, t, code, obs.image)
        for key in keys:
            out[key][k] = lab[key]
        codes[k] = code
        lefts.append(obs.left)
        rights.append(obs.right)
        signal.append(lab["signal_electrons"])
        if k == 0:
            cpd = lab["codes_per_dof"]
    left, right = augment_pair(np.stack(lefts), np.stack(rights), cfg["augment"], rng)
    return {
        "defocus_dof": out["defocus_dof"], "defocus_diopters": out["defocus_diopters"],
        "defocus_codes": out["defocus_codes"], "lens_code": codes, "codes_per_dof": cpd, "light_lux": lux,
        "signal_electrons": float(np.mean(signal)), "variant": vi, "left": left, "right": right,
        "true_code": out["true_code"],
    }


#: Sample function of each kind.
SAMPLERS = {"dp": dp_sample, "two-frame": two_frame_sample, "fusion": fusion_sample, "video": video_sample}
