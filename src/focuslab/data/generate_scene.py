"""Scenes for dataset generation: a randomized texture on a plane sized to what the crop needs.

Rendering is the cost of a dataset, so a sample's scene covers only the AF crop plus the
blur margin (:func:`crop_field`), on a grid of ~1.25 samples per stream pixel. Textures
(:func:`texture_patch`): procedural (dead leaves, 1/f noise, low-texture wall, text,
checkerboard; :mod:`focuslab.scene.textures`, :mod:`focuslab.scene.charts`) and real
photographs bundled with scikit-image (:mod:`focuslab.scene.photos`), a random window of
the photograph at a random scale. The texture's contrast about its mean is scaled by a
factor drawn from ``contrast``.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from focuslab.camera.camera import Camera
from focuslab.data.generate_camera import pick, uniform
from focuslab.scene import charts, textures
from focuslab.scene.photos import photo
from focuslab.scene.scene import KeyframeMotion, Layer, Scene
from focuslab.scene.synthetic_scenes import card_alpha

#: Scene samples per stream pixel (> 1: the render resamples the grid with anti-aliasing).
SCENE_SAMPLES_PER_PX = 1.25

#: Extra stream pixels of scene around the crop beyond the blur radius.
MARGIN_PX = 6


@functools.lru_cache(maxsize=16)
def _photo(name: str) -> np.ndarray:
    return photo(name, None, grey=False)


def texture_patch(cfg: dict, shape: tuple[int, int], rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """A ``H x W x C`` relative-radiance texture (C = 1 or 3) and its source name."""
    tex = cfg["textures"][pick(rng, [t["weight"] for t in cfg["textures"]])]
    src = tex["source"]
    seed = int(rng.integers(0, 2**31 - 1))
    h, w = shape
    if src == "dead_leaves":
        rad = textures.dead_leaves(shape, r_min_px=1.0, r_max_px=float(rng.uniform(0.2, 1.0)) * max(h, w),
                                   color=bool(rng.random() < 0.5), seed=seed)
    elif src == "one_over_f":
        rad = textures.one_over_f_noise(shape, seed=seed)
    elif src == "low_texture":
        rad = textures.low_texture(shape, contrast=float(rng.uniform(0.005, 0.03)), seed=seed)
    elif src == "text":
        rad = charts.text_card(shape, sizes_px=tuple(int(s) for s in rng.choice([6, 8, 12, 16, 24], 3)))
    elif src == "checkerboard":
        rad = charts.checkerboard(shape, square_px=float(rng.uniform(3.0, 24.0)))
    else:  # photo: a random window at a random scale (1-3 photo pixels per scene sample)
        src = str(rng.choice(cfg["photos"]))
        img = _photo(src)
        k = int(rng.integers(1, 4))
        ph, pw = img.shape[:2]
        if ph < h or pw < w:  # a scene larger than the photograph: the whole photograph, resampled
            rad = photo(src, (h, w), grey=False)
        else:
            k = max(1, min(k, ph // h, pw // w))
            y = int(rng.integers(0, ph - k * h + 1))
            x = int(rng.integers(0, pw - k * w + 1))
            win = img[y:y + k * h, x:x + k * w]
            rad = win.reshape(h, k, w, k, -1).mean(axis=(1, 3))
        src = f"photo:{src}"
    rad = np.asarray(rad, dtype=np.float32)
    if rad.ndim == 2:
        rad = rad[..., None]
    c = uniform(rng, cfg["contrast"])
    mean = rad.mean(axis=(0, 1), keepdims=True)
    rad = np.clip(mean + c * (rad - mean), 0.0, 1.0).astype(np.float32)
    if rng.random() < 0.5:
        rad = np.ascontiguousarray(np.rot90(rad))  # orientation of the texture (dead leaves, text...)
        if rad.shape[:2] != (h, w):
            rad = np.ascontiguousarray(np.rot90(rad, -1))
    return rad, src


def crop_field(camera: Camera, crop_px: int, blur_um: float, displacement_um: float) -> tuple[int, float]:
    """Scene grid side (samples) and field of view (degrees) covering the crop plus the blur margin.

    The crop of ``crop_px`` stream pixels sits at the frame's centre; a blur circle of
    ``blur_um`` spreads light by its radius, so the scene must reach ``crop/2 + |c|/2 +
    MARGIN_PX`` pixels from the axis: half-angle atan(that x pitch / s) with s = f + d.
    """
    pitch_um = camera.stream_sensor.pixel_pitch_um
    half_px = crop_px / 2 + 0.5 * abs(blur_um) / pitch_um + MARGIN_PX
    s_mm = camera.sensor_distance_mm(displacement_um)
    hfov = 2.0 * math.degrees(math.atan(half_px * pitch_um * 1e-3 / s_mm))
    side = math.ceil(2 * half_px * SCENE_SAMPLES_PER_PX)
    return side + side % 2, hfov


def plane_scene(radiance: np.ndarray, hfov_deg: float, distance_m: float, *, motion=None) -> Scene:
    """One fronto-parallel textured plane filling the grid at ``distance_m`` (optionally moving)."""
    layer = Layer(radiance, np.ones(radiance.shape[:2], dtype=np.float32), float(distance_m), motion=motion,
                  name="subject")
    return Scene((layer,), hfov_deg, name="dataset_plane", subject_layer=0,
                 metadata={"subject_distance_m": float(distance_m)})


def depth_motion(distances_m: list[float], times_s: list[float]) -> KeyframeMotion:
    """Depth keyframes of a plane moving along the optical axis (no lateral motion)."""
    return KeyframeMotion(times_s=tuple(float(t) for t in times_s), depths_m=tuple(float(d) for d in distances_m))


def _channels(*images: np.ndarray) -> list[np.ndarray]:
    c = max(x.shape[2] for x in images)
    return [np.repeat(x, c // x.shape[2], axis=2) for x in images]


def wide_texture(cfg: dict, side: int, centre_side: int, rng: np.random.Generator, *, coarse: int = 4) -> np.ndarray:
    """A ``side x side`` texture that is fine only in its centre ``centre_side`` square.

    For wide scenes (the depth sensor's field): the texture is drawn at ``1/coarse`` of the
    resolution and upsampled (nearest), and a full-resolution texture is pasted in the centre
    square, which covers the AF crop and its blur margin (the only part the crop sees).
    """
    low, _ = texture_patch(cfg, (-(-side // coarse),) * 2, rng)
    centre, _ = texture_patch(cfg, (centre_side, centre_side), rng)
    low, centre = _channels(low, centre)
    out = np.repeat(np.repeat(low, coarse, axis=0), coarse, axis=1)[:side, :side].copy()
    o = (side - centre_side) // 2
    out[o:o + centre_side, o:o + centre_side] = centre
    return out


def _coverage(n: int, lo: float, hi: float) -> np.ndarray:
    """Exact share of each unit cell [i, i+1] inside [lo, hi] (anti-aliased edge)."""
    i = np.arange(n, dtype=np.float64)
    return np.clip(np.minimum(i + 1.0, hi) - np.maximum(i, lo), 0.0, 1.0)


def edge_scene(card: np.ndarray, background: np.ndarray, hfov_deg: float, subject_m: float, background_m: float, *,
               crop_fraction: float, card_share: float, horizontal: bool, card_low: bool, motion=None,
               corner: bool = False) -> Scene:
    """A near card whose straight edge crosses the AF crop over a farther plane (a depth edge).

    The crop spans the central ``crop_fraction`` of the grid; the card covers ``card_share``
    of it, from the low side (left / top, ``card_low``) or the high side, with a vertical edge
    (or a horizontal one, ``horizontal``) and exact anti-aliased coverage. With ``corner`` the
    card is a square in a corner of the crop instead (a vertical and a horizontal edge, each
    at ``sqrt(card_share)`` of the crop; ``card_low`` picks the left or right side,
    ``horizontal`` the top or bottom): how each quarter of an AF region sees a centred subject
    smaller than the region. ``motion``: the card's (a depth motion keeps its angular coverage;
    the background stays still).
    """
    card, background = _channels(card, background)
    n = card.shape[1]
    c0, c1 = n / 2 * (1 - crop_fraction), n / 2 * (1 + crop_fraction)

    def cover(share: float, low: bool) -> np.ndarray:
        edge = c0 + share * (c1 - c0) if low else c1 - share * (c1 - c0)
        return _coverage(n, 0.0, edge) if low else _coverage(n, edge, float(n))

    if corner:
        side = math.sqrt(card_share)
        alpha = (cover(side, horizontal)[:, None] * cover(side, card_low)[None, :]).astype(np.float32)
    else:
        alpha = np.repeat(cover(card_share, card_low)[None, :], n, axis=0).astype(np.float32)
        if horizontal:
            alpha = np.ascontiguousarray(alpha.T)
    back = Layer(background, np.ones(alpha.shape, dtype=np.float32), float(background_m), name="background")
    front = Layer(card, alpha, float(subject_m), motion=motion, name="card")
    return Scene((back, front), hfov_deg, name="dataset_depth_edge", subject_layer=1,
                 metadata={"subject_distance_m": float(subject_m), "background_distance_m": float(background_m)})


def card_scene(card: np.ndarray, background: np.ndarray, field_deg: float, subject_m: float,
               background_m: float, card_fraction: float) -> Scene:
    """A textured card (centred, ``card_fraction`` of the field) over a background plane, for fusion.

    The grid spans ``field_deg`` so the depth sensor's zones see the background (or nothing,
    beyond its range: no-return zones) around the card.
    """
    card, background = _channels(card, background)
    shape = card.shape[:2]
    back = Layer(background, np.ones(shape, dtype=np.float32), float(background_m), name="background")
    front = Layer(card, card_alpha(shape, card_fraction), float(subject_m), name="card")
    return Scene((back, front), field_deg, name="dataset_card", subject_layer=1,
                 metadata={"subject_distance_m": float(subject_m), "background_distance_m": float(background_m)})
