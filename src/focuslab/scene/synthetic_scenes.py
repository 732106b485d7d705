"""Built-in synthetic scenes: textures and charts on planes, two planes, a tilted plane, video.

Registered in :data:`focuslab.scene.registry.SCENES`; build them with
:func:`focuslab.scene.library.make_scene`. Each builder receives validated common arguments
``(shape, hfov_deg, subject_distance_m, seed)``; its keyword-only parameters are the scene's
options. Radiance is relative linear radiance (1.0 = white diffuser).
"""

from __future__ import annotations

import numpy as np

from focuslab.errors import InvalidParameterError, check_positive
from focuslab.scene import charts, textures
from focuslab.scene.photos import photo, photo_names
from focuslab.scene.registry import register_scene
from focuslab.scene.scene import KeyframeMotion, Layer, Scene


def _child_seeds(seed: int, n: int) -> list[np.random.SeedSequence]:
    """``n`` independent seed sequences derived from ``seed`` (numpy ``SeedSequence.spawn``)."""
    return np.random.SeedSequence(seed).spawn(n)


def _full_layer(radiance: np.ndarray, depth_m, name: str) -> Layer:
    rad = radiance if radiance.ndim == 3 else radiance[..., None]
    return Layer(rad, np.ones(rad.shape[:2], dtype=np.float32), depth_m, name=name)


def _plane_scene(name, radiance, shape, hfov_deg, distance_m, kind, **meta) -> Scene:
    layer = _full_layer(radiance, distance_m, name)
    metadata = {"kind": kind, "subject_distance_m": float(distance_m), **meta}
    return Scene((layer,), hfov_deg, name=name, subject_layer=0, metadata=metadata)


def card_alpha(shape, fraction: float) -> np.ndarray:
    """Coverage of a centred rectangle with ``fraction`` of the grid's area, exactly anti-aliased.

    The rectangle has sides ``sqrt(fraction) * W`` and ``sqrt(fraction) * H`` (same aspect
    as the grid), centred; each pixel's alpha is the exact area of its square inside the
    rectangle (product of the 1-D interval overlaps), so ``alpha.sum() == fraction * H * W``.
    """
    f = check_positive("card_fraction", fraction)
    if f > 0.95:
        raise InvalidParameterError(f"card_fraction must lie in (0, 0.95], got {fraction!r}")
    h, w = shape
    k = np.sqrt(f)

    def overlap(n: int, lo: float, hi: float) -> np.ndarray:
        i = np.arange(n, dtype=np.float64)
        return np.clip(np.minimum(i + 1.0, hi) - np.maximum(i, lo), 0.0, 1.0)

    ax = overlap(w, w * (1 - k) / 2, w * (1 + k) / 2)
    ay = overlap(h, h * (1 - k) / 2, h * (1 + k) / 2)
    return (ay[:, None] * ax[None, :]).astype(np.float32)


def _texture(kind: str, shape, seed, *, color: bool) -> np.ndarray:
    """A card/background texture: ``"dead_leaves"``, ``"one_over_f"`` or a photo name."""
    if kind == "dead_leaves":
        return textures.dead_leaves(shape, color=color, seed=seed)
    if kind == "one_over_f":
        out = textures.one_over_f_noise(shape, seed=seed)
        return np.repeat(out[..., None], 3, axis=2) if color else out
    if kind in photo_names():
        return photo(kind, shape, grey=not color)
    raise InvalidParameterError(
        f"texture {kind!r} unknown; use dead_leaves, one_over_f or a photo ({', '.join(photo_names())})"
    )


def _is_colour(*kinds: str) -> bool:
    return any(k in photo_names() for k in kinds)


@register_scene("dead_leaves")
def dead_leaves_scene(shape, hfov_deg, subject_distance_m, seed, *, r_min_px=1.0, r_max_px=None,
                      levels=(0.05, 0.85), color=False):
    """One fronto-parallel dead-leaves plane filling the frame at the subject distance (the demo scene).

    Options are those of :func:`focuslab.scene.textures.dead_leaves`.
    """
    rad = textures.dead_leaves(shape, r_min_px=r_min_px, r_max_px=r_max_px, levels=levels, color=color,
                               seed=seed)
    return _plane_scene("dead_leaves", rad, shape, hfov_deg, subject_distance_m, "texture")


@register_scene("slanted_edge")
def slanted_edge_scene(shape, hfov_deg, subject_distance_m, seed, *, angle_deg=5.0, orientation="vertical",
                       dark=0.2, light=0.8, polarity="dark_to_light"):
    """An ISO 12233 slanted-edge chart (4:1 contrast by default) filling the frame.

    Options are those of :func:`focuslab.scene.charts.slanted_edge`; ``seed`` is unused.
    """
    rad = charts.slanted_edge(shape, angle_deg=angle_deg, orientation=orientation, dark=dark, light=light,
                              polarity=polarity)
    return _plane_scene("slanted_edge", rad, shape, hfov_deg, subject_distance_m, "chart",
                        angle_deg=float(angle_deg), orientation=orientation)


@register_scene("siemens_star")
def siemens_star_scene(shape, hfov_deg, subject_distance_m, seed, *, cycles=36, profile="sinusoidal",
                       dark=0.2, light=0.8, radius_fraction=0.45):
    """A Siemens star chart centred in the frame, on a plane at the subject distance.

    Options are those of :func:`focuslab.scene.charts.siemens_star`; ``seed`` is unused.
    """
    rad = charts.siemens_star(shape, cycles=cycles, profile=profile, dark=dark, light=light,
                              radius_fraction=radius_fraction)
    return _plane_scene("siemens_star", rad, shape, hfov_deg, subject_distance_m, "chart", cycles=int(cycles))


@register_scene("text")
def text_scene(shape, hfov_deg, subject_distance_m, seed, *, sizes_px=(8, 12, 16, 24, 32), ink=0.04,
               paper=0.85):
    """A card of printed text at several sizes (dark ink on light paper) filling the frame.

    Options are those of :func:`focuslab.scene.charts.text_card`; ``seed`` is unused.
    """
    rad = charts.text_card(shape, sizes_px=tuple(sizes_px), ink=ink, paper=paper)
    return _plane_scene("text", rad, shape, hfov_deg, subject_distance_m, "chart")


@register_scene("checkerboard")
def checkerboard_scene(shape, hfov_deg, subject_distance_m, seed, *, square_px=16.0, dark=0.1, light=0.8):
    """A checkerboard chart filling the frame (exactly box-integrated squares).

    Options are those of :func:`focuslab.scene.charts.checkerboard`; ``seed`` is unused.
    """
    rad = charts.checkerboard(shape, square_px=square_px, dark=dark, light=light)
    return _plane_scene("checkerboard", rad, shape, hfov_deg, subject_distance_m, "chart")


@register_scene("low_texture")
def low_texture_scene(shape, hfov_deg, subject_distance_m, seed, *, mean=0.4, contrast=0.01, shading=0.15):
    """A nearly featureless wall (smooth shading, ~1 % fine texture): an AF failure case.

    Options are those of :func:`focuslab.scene.textures.low_texture`.
    """
    rad = textures.low_texture(shape, mean=mean, contrast=contrast, shading=shading, seed=seed)
    return _plane_scene("low_texture", rad, shape, hfov_deg, subject_distance_m, "low_texture",
                        contrast=float(contrast))


@register_scene("photo")
def photo_scene(shape, hfov_deg, subject_distance_m, seed, *, image="astronaut", grey=False):
    """A real photograph (bundled with scikit-image) printed on a plane at the subject distance.

    ``image`` is one of :func:`focuslab.scene.photos.photo_names`; ``grey=True`` gives one
    luminance channel. ``seed`` is unused.
    """
    rad = photo(image, shape, grey=bool(grey))
    return _plane_scene("photo", rad, shape, hfov_deg, subject_distance_m, "photo", image=image)


def _check_farther(name: str, value: float, nearer: float) -> float:
    v = check_positive(name, value)
    if not v > nearer:
        raise InvalidParameterError(f"{name} must be farther than the subject ({nearer} m), got {value!r}")
    return v


@register_scene("two_planes")
def two_planes_scene(shape, hfov_deg, subject_distance_m, seed, *, foreground="dead_leaves",
                     background="dead_leaves", background_distance_m=3.0, card_fraction=0.4):
    """A textured card (centre ~40 % of the frame) at the subject distance over a farther background.

    ``foreground`` / ``background``: ``"dead_leaves"``, ``"one_over_f"`` or a photo name
    (colour photos make the whole scene RGB). The card's alpha is a centred rectangle with
    exact anti-aliased borders (:func:`card_alpha`); the background covers the full frame.
    """
    bg_m = _check_farther("background_distance_m", background_distance_m, subject_distance_m)
    s_fg, s_bg = _child_seeds(seed, 2)
    color = _is_colour(foreground, background)
    fg = _texture(foreground, shape, s_fg, color=color)
    bg = _texture(background, shape, s_bg, color=color)
    back = _full_layer(bg, bg_m, "background")
    fg = fg if fg.ndim == 3 else fg[..., None]
    card = Layer(fg, card_alpha(shape, card_fraction), subject_distance_m, name="card")
    meta = {"kind": "two_planes", "subject_distance_m": float(subject_distance_m),
            "background_distance_m": bg_m, "card_fraction": float(card_fraction)}
    return Scene((back, card), hfov_deg, name="two_planes", subject_layer=1, metadata=meta)


def tilted_plane_depth_m(shape, hfov_deg: float, centre_distance_m: float, tilt_deg: float) -> np.ndarray:
    """Depth map of a plane through the axis point at ``centre_distance_m``, top tilted away.

    Notes
    -----
    A plane tilted by φ about the horizontal axis through the on-axis point at distance
    ``Z0`` satisfies ``Z = Z0 - Y tan φ`` (Y down). On the ray through grid row ``i``,
    ``Y = Z t_i`` with ``t_i = (i + 1/2 - H/2) * 2 tan(hfov/2) / W`` (pinhole grid), so
    ``Z_i = Z0 / (1 + t_i tan φ)``: inverse depth is linear in the row coordinate.
    """
    h, w = shape
    t = (np.arange(h) + 0.5 - h / 2.0) * 2.0 * np.tan(np.radians(hfov_deg) / 2.0) / w
    den = 1.0 + t * np.tan(np.radians(tilt_deg))
    if den.min() < 0.05:
        raise InvalidParameterError(
            f"tilt_deg={tilt_deg} brings the plane's horizon into this field of view; use a smaller tilt"
        )
    z = centre_distance_m / den
    return np.broadcast_to(z[:, None], (h, w)).astype(np.float32)


@register_scene("tilted_plane")
def tilted_plane_scene(shape, hfov_deg, subject_distance_m, seed, *, tilt_deg=60.0, texture="dead_leaves"):
    """One textured plane tilted away at the top (a table top, a road): depth ramps near to far.

    The layer carries an ``H x W`` depth map (exact planar geometry, see
    :func:`tilted_plane_depth_m`) equal to the subject distance at the frame centre; the
    texture is laid out on the image grid (not perspective-foreshortened).
    """
    tilt = check_positive("tilt_deg", tilt_deg)
    if tilt >= 89:
        raise InvalidParameterError(f"tilt_deg must lie in (0, 89) degrees, got {tilt_deg!r}")
    depth = tilted_plane_depth_m(shape, hfov_deg, subject_distance_m, tilt)
    rad = _texture(texture, shape, np.random.SeedSequence(seed), color=_is_colour(texture))
    layer = _full_layer(rad, depth, "tilted_plane")
    meta = {"kind": "tilted_plane", "subject_distance_m": float(subject_distance_m),
            "near_distance_m": float(depth.min()), "far_distance_m": float(depth.max()), "tilt_deg": tilt}
    return Scene((layer,), hfov_deg, name="tilted_plane", subject_layer=0, metadata=meta)


@register_scene("approaching_subject")
def approaching_subject_scene(shape, hfov_deg, subject_distance_m, seed, *, start_distance_m=3.0,
                              duration_s=3.0, background_distance_m=8.0, card_fraction=0.3,
                              foreground="dead_leaves"):
    """Video: a textured card approaches from ``start_distance_m`` to the subject over a static background.

    The card's depth is a :class:`KeyframeMotion` linear in time from ``start_distance_m``
    at t = 0 to ``subject_distance_m`` at ``t = duration_s`` (then holds), and it grows as it
    approaches: its image is magnified by ``scale(t) = start_distance_m / depth(t)`` about
    its centre (the optical axis), as a pinhole images an object of fixed size at a size
    proportional to 1 / distance (Hartley & Zisserman, *Multiple View Geometry*, 2nd ed.,
    eq. 6.1). ``card_fraction`` is the card's share of the frame at t = 0; its coverage grows
    as ``(start_distance_m / depth(t))^2`` (an approach from 3 m to 1 m makes it 9 times
    larger, so a card larger than 1/9 of the frame ends up filling it).
    """
    start = check_positive("start_distance_m", start_distance_m)
    dur = check_positive("duration_s", duration_s)
    bg_m = _check_farther("background_distance_m", background_distance_m, max(start, subject_distance_m))
    s_fg, s_bg = _child_seeds(seed, 2)
    color = _is_colour(foreground)
    fg = _texture(foreground, shape, s_fg, color=color)
    bg = _texture("dead_leaves", shape, s_bg, color=color)
    motion = KeyframeMotion(
        times_s=(0.0, dur),
        depths_m=(start, float(subject_distance_m)),
        scales=(1.0, start / float(subject_distance_m)),  # 1 / scale is interpolated linearly, as depth
    )
    fg = fg if fg.ndim == 3 else fg[..., None]
    card = Layer(fg, card_alpha(shape, card_fraction), start, motion=motion, name="card")
    back = _full_layer(bg, bg_m, "background")
    meta = {"kind": "video", "subject_distance_m": float(subject_distance_m), "start_distance_m": start,
            "duration_s": dur, "background_distance_m": bg_m, "card_fraction": float(card_fraction)}
    return Scene((back, card), hfov_deg, name="approaching_subject", subject_layer=1, metadata=meta)
