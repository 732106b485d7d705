"""Scene = layers of linear radiance + alpha at depths, optionally moving (DESIGN.md).

Geometry. Every layer of a scene is sampled on one grid of ``H x W`` samples that spans the
horizontal field of view ``hfov_deg`` (vertical: ``hfov_deg * H / W`` in the small-angle
sense), centred on the optical axis, row index growing downwards (+y) and column index
rightwards (+x). The grid is a pinhole image uniform in tan(angle), with square samples:
the W columns span 2 tan(hfov_deg / 2), so one sample is ``2 tan(hfov_deg / 2) / W`` wide in
both axes (the vertical extent is ``H`` such samples). The renderer resamples this grid onto
the sensor's pixels (a pixel ``x_px`` from the optical centre looks along
tan(theta) = x_px * pitch / s); a scene can therefore be rendered by any camera, and a
camera with a narrower field sees a crop.

Radiance is *relative linear radiance*: 1.0 is a perfect white (Lambertian, 100 %
reflectance) surface under the scene illuminance given at capture time. Values above 1 are
specular highlights or light sources. Colour layers are ``H x W x 3`` (linear RGB, the
sensor's own primaries for simulation purposes), grey layers ``H x W x 1``.

Alpha is coverage in [0, 1]. Depth is the distance along the optical axis in metres: a
float for a fronto-parallel layer, or an ``H x W`` map for a layer whose depth varies (a
tilted plane, an RGB-D photograph); the renderer slices such a layer into depth bins.

Scale. A layer may be magnified by ``scale`` about a centre ``scale_center_deg = (x, y)``
(degrees of field along each axis, in the layer's own coordinates): the point of the layer
that a pinhole sees along tan(theta) is drawn at ``tan(c) + scale * (tan(theta) - tan(c))``,
a magnification of the pinhole image plane (uniform in tan). Then the layer is shifted by
``offset_deg``. A fronto-parallel object moved from distance d0 to d along the axis images
at ``scale = d0 / d`` about its own centre (pinhole projection: image size is proportional to
1 / distance; Hartley & Zisserman, *Multiple View Geometry*, 2nd ed., sec. 6.1, eq. 6.1).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from focuslab.errors import InvalidParameterError, check_finite, check_positive


def _check_centre(name: str, centre) -> tuple[float, float]:
    """``(x, y)`` degrees of field, finite and inside (-90, 90); returned as floats."""
    if np.shape(centre) != (2,):
        raise InvalidParameterError(f"{name} must be (x, y) in degrees, got {centre!r}")
    x, y = (check_finite(name, v) for v in centre)
    if abs(x) >= 90.0 or abs(y) >= 90.0:
        raise InvalidParameterError(f"{name} must lie within (-90, 90) degrees, got {centre!r}")
    return (x, y)


@dataclass(frozen=True)
class KeyframeMotion:
    """Depth and lateral position of a layer as piecewise-linear functions of time.

    Parameters
    ----------
    times_s
        Increasing key times, seconds. Outside the range the end values hold.
    depths_m
        Layer depth at each key time, metres (replaces the layer's own depth; for a layer
        with a depth map the map is scaled by ``depth(t) / depth(times_s[0])``).
    offsets_deg
        Lateral shift ``(dx, dy)`` of the layer at each key time, degrees of field (+x right,
        +y down).
    scales
        Image magnification of the layer at each key time (> 0, dimensionless), about
        ``scale_center_deg``; ``None`` (default): the layer keeps its size. Between keys the
        reciprocal ``1 / scale`` is interpolated linearly, so keys ``scales = d0 / depths_m``
        (pinhole: image size proportional to 1 / distance) stay exactly ``d0 / depth(t)`` at
        every t while the depth is interpolated linearly.
    scale_center_deg
        Centre ``(x, y)`` of the magnification, degrees of field in the layer's own
        coordinates (before ``offsets_deg``); default the optical axis.

    Examples
    --------
    >>> m = KeyframeMotion(times_s=(0.0, 2.0), depths_m=(3.0, 1.0), scales=(1.0, 3.0))
    >>> round(m.depth_m(1.0), 6), round(m.scale(1.0), 6)  # 3 m / 2 m = 1.5
    (2.0, 1.5)
    """

    times_s: tuple[float, ...]
    depths_m: tuple[float, ...]
    offsets_deg: tuple[tuple[float, float], ...] | None = None
    scales: tuple[float, ...] | None = None
    scale_center_deg: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        t = np.asarray(self.times_s, dtype=float)
        if t.ndim != 1 or t.size < 1 or np.any(np.diff(t) <= 0):
            raise InvalidParameterError("KeyframeMotion.times_s must be a strictly increasing list")
        if len(self.depths_m) != t.size:
            raise InvalidParameterError("KeyframeMotion.depths_m must have one depth per key time")
        for d in self.depths_m:
            check_positive("KeyframeMotion depth_m", d)
        if self.offsets_deg is not None and len(self.offsets_deg) != t.size:
            raise InvalidParameterError("KeyframeMotion.offsets_deg needs one (dx, dy) per key time")
        if self.scales is not None:
            if np.ndim(self.scales) != 1 or len(self.scales) != t.size:
                raise InvalidParameterError("KeyframeMotion.scales needs one scale (> 0) per key time")
            object.__setattr__(
                self, "scales", tuple(check_positive("KeyframeMotion scale", v) for v in self.scales)
            )
        object.__setattr__(
            self, "scale_center_deg", _check_centre("KeyframeMotion.scale_center_deg", self.scale_center_deg)
        )

    def depth_m(self, t_s: float) -> float:
        """Depth at time ``t_s`` (linear interpolation between keys), metres."""
        return float(np.interp(t_s, self.times_s, self.depths_m))

    def offset_deg(self, t_s: float) -> tuple[float, float]:
        """Lateral offset ``(dx, dy)`` at time ``t_s``, degrees."""
        if self.offsets_deg is None:
            return (0.0, 0.0)
        o = np.asarray(self.offsets_deg, dtype=float)
        return (
            float(np.interp(t_s, self.times_s, o[:, 0])),
            float(np.interp(t_s, self.times_s, o[:, 1])),
        )

    def scale(self, t_s: float) -> float:
        """Magnification at time ``t_s`` (1 / scale linear between keys; 1.0 without scales)."""
        if self.scales is None:
            return 1.0
        return float(1.0 / np.interp(t_s, self.times_s, 1.0 / np.asarray(self.scales, dtype=float)))


@dataclass(frozen=True, eq=False)
class Layer:
    """One layer of a scene: radiance, coverage and depth.

    Parameters
    ----------
    radiance
        ``H x W x C`` float32 relative linear radiance (C = 1 or 3).
    alpha
        ``H x W`` float32 coverage in [0, 1].
    depth_m
        Depth in metres: a positive float, or an ``H x W`` positive map.
    offset_deg
        Lateral shift ``(dx, dy)`` of the layer, degrees of field (+x right, +y down).
    motion
        Optional motion; :meth:`Scene.at` resolves it into ``depth_m``, ``offset_deg`` and
        ``scale``.
    name
        Label for reports.
    scale
        Image magnification of the layer (> 0) about ``scale_center_deg``, applied before
        ``offset_deg`` (see the module docstring); 1.0 keeps the grid's size.
    scale_center_deg
        Centre ``(x, y)`` of the magnification, degrees of field in the layer's coordinates.
        A layer whose ``motion`` has ``scales`` must use the motion's centre (or scale 1).
    """

    radiance: np.ndarray
    alpha: np.ndarray
    depth_m: float | np.ndarray
    offset_deg: tuple[float, float] = (0.0, 0.0)
    motion: KeyframeMotion | None = None
    name: str = ""
    scale: float = 1.0
    scale_center_deg: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        rad = np.asarray(self.radiance, dtype=np.float32)
        if rad.ndim == 2:
            rad = rad[..., None]
        if rad.ndim != 3 or rad.shape[2] not in (1, 3):
            raise InvalidParameterError(
                f"layer {self.name!r}: radiance must be H x W x C with C in (1, 3), got shape "
                f"{np.shape(self.radiance)}"
            )
        alpha = np.asarray(self.alpha, dtype=np.float32)
        if alpha.shape != rad.shape[:2]:
            raise InvalidParameterError(
                f"layer {self.name!r}: alpha shape {alpha.shape} != radiance shape {rad.shape[:2]}"
            )
        if not (np.all(np.isfinite(rad)) and np.all(np.isfinite(alpha))):
            raise InvalidParameterError(f"layer {self.name!r}: radiance/alpha contain NaN or inf")
        if np.any(rad < 0):
            raise InvalidParameterError(f"layer {self.name!r}: radiance must be >= 0 (linear light)")
        if np.any(alpha < 0) or np.any(alpha > 1):
            raise InvalidParameterError(f"layer {self.name!r}: alpha must lie in [0, 1]")
        depth = self.depth_m
        if np.ndim(depth) == 0:
            depth = check_positive(f"layer {self.name!r} depth_m", float(depth))
        else:
            depth = np.asarray(depth, dtype=np.float32)
            if depth.shape != rad.shape[:2]:
                raise InvalidParameterError(
                    f"layer {self.name!r}: depth map shape {depth.shape} != {rad.shape[:2]}"
                )
            if not np.all(np.isfinite(depth)) or np.any(depth <= 0):
                raise InvalidParameterError(
                    f"layer {self.name!r}: depth map must be finite and > 0 metres everywhere"
                )
        object.__setattr__(self, "radiance", rad)
        object.__setattr__(self, "alpha", alpha)
        object.__setattr__(self, "depth_m", depth)
        object.__setattr__(self, "offset_deg", (float(self.offset_deg[0]), float(self.offset_deg[1])))
        object.__setattr__(self, "scale", check_positive(f"layer {self.name!r} scale", self.scale))
        centre = _check_centre(f"layer {self.name!r} scale_center_deg", self.scale_center_deg)
        object.__setattr__(self, "scale_center_deg", centre)
        m = self.motion
        if m is not None and m.scales is not None and self.scale != 1.0 and centre != m.scale_center_deg:
            raise InvalidParameterError(
                f"layer {self.name!r}: its scale_center_deg {centre} differs from its motion's "
                f"{m.scale_center_deg}; give the magnification about one centre (e.g. in the motion only)"
            )

    @property
    def shape(self) -> tuple[int, int]:
        """Grid shape ``(H, W)``."""
        return self.radiance.shape[:2]

    @property
    def channels(self) -> int:
        """Number of colour channels C."""
        return self.radiance.shape[2]

    @property
    def min_depth_m(self) -> float:
        """Nearest depth of the covered part of the layer, metres."""
        if np.ndim(self.depth_m) == 0:
            return float(self.depth_m)
        covered = self.alpha > 0
        return float(self.depth_m[covered].min() if covered.any() else self.depth_m.min())

    @property
    def max_depth_m(self) -> float:
        """Farthest depth of the covered part of the layer, metres."""
        if np.ndim(self.depth_m) == 0:
            return float(self.depth_m)
        covered = self.alpha > 0
        return float(self.depth_m[covered].max() if covered.any() else self.depth_m.max())

    def at(self, t_s: float) -> Layer:
        """This layer with its motion resolved at time ``t_s`` (static, ``motion=None``).

        Depth and offset come from the motion (offsets add to the layer's own); the motion's
        scale multiplies the layer's own, about the motion's ``scale_center_deg``.
        """
        if self.motion is None:
            return self
        d = self.motion.depth_m(t_s)
        if np.ndim(self.depth_m) == 0:
            depth = d
        else:
            depth = self.depth_m * np.float32(d / self.motion.depths_m[0])
        dx, dy = self.motion.offset_deg(t_s)
        scale, centre = self.scale, self.scale_center_deg
        if self.motion.scales is not None:
            scale, centre = scale * self.motion.scale(t_s), self.motion.scale_center_deg
        return replace(
            self,
            depth_m=depth,
            offset_deg=(self.offset_deg[0] + dx, self.offset_deg[1] + dy),
            motion=None,
            scale=scale,
            scale_center_deg=centre,
        )


@dataclass(frozen=True, eq=False)
class Scene:
    """Layers of radiance + alpha at depths on one grid spanning ``hfov_deg``.

    Layers may be given in any order; :attr:`layers_back_to_front` sorts them by depth for
    compositing. ``ground_truth_roi`` optionally names the subject: ``{"roi": (x, y, w, h)``
    in *scene-grid* fractions (0..1) ``, "layer": index}``.
    """

    layers: tuple[Layer, ...]
    hfov_deg: float
    name: str = "scene"
    subject_layer: int | None = None
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        layers = tuple(self.layers)
        if not layers:
            raise InvalidParameterError("a scene needs at least one layer")
        shape = layers[0].shape
        chans = {lay.channels for lay in layers}
        for lay in layers:
            if lay.shape != shape:
                raise InvalidParameterError(
                    f"all layers of a scene share one grid: layer {lay.name!r} is {lay.shape}, "
                    f"expected {shape}"
                )
        if len(chans) != 1:
            raise InvalidParameterError("all layers of a scene must have the same channel count")
        h = check_positive("hfov_deg", self.hfov_deg)
        if h >= 180:
            raise InvalidParameterError(f"hfov_deg must be < 180, got {h}")
        if self.subject_layer is not None and not 0 <= self.subject_layer < len(layers):
            raise InvalidParameterError(f"subject_layer {self.subject_layer} is not a layer index")
        object.__setattr__(self, "layers", layers)

    @property
    def shape(self) -> tuple[int, int]:
        """Grid shape ``(H, W)`` shared by all layers."""
        return self.layers[0].shape

    @property
    def channels(self) -> int:
        """Colour channels C (1 or 3)."""
        return self.layers[0].channels

    @property
    def vfov_deg(self) -> float:
        """Vertical field of view spanned by the grid, degrees (same angular sampling as x)."""
        h, w = self.shape
        return self.hfov_deg * h / w

    @property
    def is_moving(self) -> bool:
        """Whether any layer moves."""
        return any(lay.motion is not None for lay in self.layers)

    def at(self, t_s: float) -> Scene:
        """The static scene at time ``t_s`` (all motions resolved)."""
        if not self.is_moving:
            return self
        return replace(self, layers=tuple(lay.at(t_s) for lay in self.layers))

    def layers_back_to_front(self) -> list[Layer]:
        """Layers sorted farthest first (by their nearest covered depth, descending)."""
        return sorted(self.layers, key=lambda lay: -lay.min_depth_m)

    def subject_distance_m(self, t_s: float = 0.0) -> float | None:
        """Distance of the subject layer at time ``t_s`` (median depth of its covered part).

        When ``metadata["subject_roi"] = (x, y, w, h)`` (grid fractions) is given, only the
        covered part of that window counts (e.g. the centre of a full-frame RGB-D photo).
        """
        if self.subject_layer is None:
            return None
        lay = self.layers[self.subject_layer].at(t_s)
        if np.ndim(lay.depth_m) == 0:
            return float(lay.depth_m)
        depth, alpha = lay.depth_m, lay.alpha
        roi = self.metadata.get("subject_roi")
        if roi is not None:
            h, w = self.shape
            x, y, rw, rh = roi
            rows = slice(int(y * h), max(int(y * h) + 1, int((y + rh) * h)))
            cols = slice(int(x * w), max(int(x * w) + 1, int((x + rw) * w)))
            depth, alpha = depth[rows, cols], alpha[rows, cols]
        covered = alpha > 0.5
        return float(np.median(depth[covered] if covered.any() else depth))
