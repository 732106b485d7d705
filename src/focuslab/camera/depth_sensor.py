"""Multizone time-of-flight (ToF / LiDAR) depth sensor, e.g. an 8×8-zone direct-ToF module.

Model (one reading, per zone):

1. **Sampling.** The sensor is boresighted with the camera (parallel axes, parallax
   ignored). Its ``hfov_deg`` × ``vfov_deg`` field is split into ``zones_x`` × ``zones_y``
   zones, uniform in tan(angle) like the pixels of its SPAD array (a pinhole image); each
   zone is sampled at ``samples_per_zone``² directions, mapped onto the scene grid with the
   renderer's geometry (:mod:`focuslab.render.resample`: the scene grid is uniform in
   tan(angle) across ``hfov_deg``, square samples; a layer shifted by ``offset_deg`` is seen
   at angle θ − offset, a layer magnified by ``scale`` about ``scale_center_deg`` as the
   renderer draws it; nearest sample, nothing outside the grid).
2. **Occlusion.** At each direction the layers are composited front to back with their alpha
   (the "over" operator [3]): a layer is seen with weight T·α, T = Π(1 − α) of the layers in
   front of it; what is left (1 − Σ) is empty space (no return).
3. **Dominant surface.** The seen weights form a histogram over distance with bins of
   ``histogram_bin_m`` (a dToF histogram bin: c·Δt/2, 250 ps ↔ 37.5 mm). The zone reports the
   3-bin window (the width of the laser pulse) holding the *largest visible area* within
   the ranging window [0, max_range_m]: its distance d and reflectance ρ are the
   weight-averaged depth and radiance (mean over channels; visible radiance stands in for
   the ~940 nm reflectance) of that window, and f is its fraction of the zone.
4. **Signal and dropout.** The return signal, relative to the detection threshold, is

       S = f · (ρ / ρ_ref) · (R_max / d)²                                          (1)

   (Lambertian target: return ∝ ρ / d² [2]), with R_max = ``max_range_m`` the range of a
   target of reflectance ρ_ref = ``reference_reflectance`` filling the zone. The zone drops
   out (NaN, ``valid`` False) when S < 1, when d < ``min_range_m``, or when the zone sees no
   surface in the window. So the range for reflectance ρ is R_max · √(f ρ / ρ_ref).
5. **Noise.** The reported distance is d + N(0, σ²) with

       σ = a + b · R_max² / S  =  a + b · d² · (ρ_ref / (f ρ))                     (2)

   a = ``noise_floor_m`` (timing jitter, calibration), b = ``noise_quadratic_per_m``: the
   ambient-limited range noise of a ToF sensor grows as √B / A, background over signal
   amplitude [1], i.e. as d² / ρ. For a full white reference target σ = a + b·d².

Timing: readings come at ``frame_rate_hz``; the reading available at time t is the last
frame k = ⌊(t − latency_s) · rate⌋, which saw the scene at k / rate and was delivered at
k / rate + latency_s. Default figures are of the ST VL53L5CX class [4]: 8×8 zones, 45°×45°
(63° diagonal), 2 cm to 4 m on a white 88 % target, 15 Hz in 8×8 mode, mm-to-cm noise.

References
----------
.. [1] R. Lange and P. Seitz, "Solid-state time-of-flight range camera", IEEE J. Quantum
       Electron. 37(3), 390–397 (2001): range resolution ΔL = (L / √8) · √B / (2A).
.. [2] M. Hansard, S. Lee, O. Choi and R. Horaud, *Time-of-Flight Cameras: Principles,
       Methods and Applications*, Springer (2012), ch. 1 (signal ∝ reflectance / d²).
.. [3] T. Porter and T. Duff, "Compositing digital images", SIGGRAPH 1984 ("over").
.. [4] STMicroelectronics, VL53L5CX datasheet DS13754 (multizone ToF ranging sensor).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from focuslab.errors import InvalidParameterError, check_finite, check_positive
from focuslab.scene.scene import Scene

_MASK63 = (1 << 63) - 1


def _layer_tan(angle_rad: np.ndarray, layer, axis: int) -> np.ndarray:
    """tan of the direction in the layer's own grid: undo its offset, then its magnification
    about ``scale_center_deg`` (the renderer's eq. (3), focuslab.render.resample)."""
    tan_layer = np.tan(angle_rad - np.radians(layer.offset_deg[axis]))
    scale = float(getattr(layer, "scale", 1.0))
    if scale != 1.0:
        tan_centre = np.tan(np.radians(layer.scale_center_deg[axis]))
        tan_layer = tan_centre + (tan_layer - tan_centre) / scale
    return tan_layer


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class DepthReading:
    """One multizone depth reading; arrays are ``zones_y x zones_x`` (row = +y, down).

    Parameters
    ----------
    distance_m
        Reported distance per zone, metres; NaN where the zone dropped out.
    valid
        Whether the zone returned a distance.
    signal
        Relative return signal S of eq. (1) (1 = detection threshold; 0 for no surface).
    sigma_m
        Predicted 1-σ range noise of eq. (2), metres (NaN where invalid): the confidence.
    reflectance
        Reflectance of the dominant surface (NaN when the zone sees no surface).
    coverage
        Fraction f of the zone covered by the dominant surface.
    true_distance_m
        Noise-free distance of the dominant surface (NaN when none): the ground truth.
    zone_edges_x_deg, zone_edges_y_deg
        Zone boundaries, degrees from the optical axis (+x right, +y down).
    t_s
        Delivery time of the reading, seconds.
    t_scene_s
        Time at which the scene was sampled, seconds.
    frame_index
        Index k of the depth-sensor frame.
    """

    distance_m: np.ndarray
    valid: np.ndarray
    signal: np.ndarray
    sigma_m: np.ndarray
    reflectance: np.ndarray
    coverage: np.ndarray
    true_distance_m: np.ndarray
    zone_edges_x_deg: np.ndarray
    zone_edges_y_deg: np.ndarray
    t_s: float
    t_scene_s: float
    frame_index: int

    @property
    def zone_centers_deg(self) -> tuple[np.ndarray, np.ndarray]:
        """Zone centre angles ``(x_deg, y_deg)``, each ``zones_y x zones_x``."""
        cx = 0.5 * (self.zone_edges_x_deg[:-1] + self.zone_edges_x_deg[1:])
        cy = 0.5 * (self.zone_edges_y_deg[:-1] + self.zone_edges_y_deg[1:])
        return np.meshgrid(cx, cy)

    def zone_rois_px(self, image_hfov_deg: float, image_shape_px: tuple[int, int]) -> np.ndarray:
        """Zone rectangles in an image spanning ``image_hfov_deg`` horizontally.

        Parameters
        ----------
        image_hfov_deg
            Horizontal field of view of the image, degrees (a pinhole image, uniform in
            tan(angle), square pixels, optical axis at the centre).
        image_shape_px
            ``(H, W)`` of the image, pixels.

        Returns
        -------
        ndarray
            ``zones_y x zones_x x 4`` int array of ROIs ``(x, y, w, h)`` in pixels, clipped
            to the image (w or h may be 0 for zones outside it).
        """
        hfov = check_positive("image_hfov_deg", image_hfov_deg)
        h, w = (int(v) for v in image_shape_px)
        if hfov >= 180.0:
            raise InvalidParameterError(f"image_hfov_deg must be < 180, got {hfov}")
        px_per_tan = w / (2.0 * np.tan(np.radians(hfov) / 2.0))
        xe = np.round(np.tan(np.radians(self.zone_edges_x_deg)) * px_per_tan + w / 2.0)
        ye = np.round(np.tan(np.radians(self.zone_edges_y_deg)) * px_per_tan + h / 2.0)
        xe, ye = np.clip(xe, 0, w).astype(int), np.clip(ye, 0, h).astype(int)
        x0, y0 = np.meshgrid(xe[:-1], ye[:-1])
        x1, y1 = np.meshgrid(xe[1:], ye[1:])
        return np.stack([x0, y0, x1 - x0, y1 - y0], axis=-1)


@dataclass(frozen=True)
class DepthSensorSpec:
    """A multizone ToF depth sensor (frozen hardware description; see the module notes).

    Parameters
    ----------
    zones_x, zones_y
        Zone grid (1..64 each).
    hfov_deg, vfov_deg
        Field of view, degrees (0, 180).
    min_range_m, max_range_m
        Ranging limits, metres; ``max_range_m`` is reached by a zone-filling target of
        ``reference_reflectance``.
    reference_reflectance
        ρ_ref of eq. (1), in (0, 1].
    noise_floor_m, noise_quadratic_per_m
        a (m) and b (1/m) of eq. (2), >= 0.
    frame_rate_hz
        Readings per second (> 0).
    latency_s
        Delay from the sampled scene instant to delivery, seconds (>= 0).
    histogram_bin_m
        Histogram bin width, metres (> 0).
    samples_per_zone
        Directions sampled per zone along each axis (1..64).
    name
        Label for reports.
    """

    zones_x: int = 8
    zones_y: int = 8
    hfov_deg: float = 45.0
    vfov_deg: float = 45.0
    min_range_m: float = 0.02
    max_range_m: float = 4.0
    reference_reflectance: float = 0.88
    noise_floor_m: float = 0.004
    noise_quadratic_per_m: float = 0.0025
    frame_rate_hz: float = 15.0
    latency_s: float = 0.02
    histogram_bin_m: float = 0.0375
    samples_per_zone: int = 8
    name: str = "tof-8x8"

    def __post_init__(self) -> None:
        for key, hi in (("zones_x", 64), ("zones_y", 64), ("samples_per_zone", 64)):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or not 1 <= v <= hi:
                raise InvalidParameterError(f"{key} must be an integer in 1..{hi}, got {v!r}")
        for key in ("hfov_deg", "vfov_deg"):
            if check_positive(key, getattr(self, key)) >= 180.0:
                raise InvalidParameterError(f"{key} must be < 180 degrees, got {getattr(self, key)}")
        lo = check_positive("min_range_m", self.min_range_m)
        if check_positive("max_range_m", self.max_range_m) <= lo:
            raise InvalidParameterError(
                f"max_range_m {self.max_range_m} must exceed min_range_m {lo}; check the ranging limits"
            )
        rho = check_positive("reference_reflectance", self.reference_reflectance)
        if rho > 1.0:
            raise InvalidParameterError(f"reference_reflectance must be in (0, 1], got {rho}")
        check_positive("noise_floor_m", self.noise_floor_m, allow_zero=True)
        check_positive("noise_quadratic_per_m", self.noise_quadratic_per_m, allow_zero=True)
        check_positive("frame_rate_hz", self.frame_rate_hz)
        check_positive("latency_s", self.latency_s, allow_zero=True)
        check_positive("histogram_bin_m", self.histogram_bin_m)

    def noise_sigma_m(self, distance_m, reflectance=None, coverage=1.0):
        """Range noise σ (m) of eq. (2) for a surface at ``distance_m`` (default ρ = ρ_ref)."""
        rho = self.reference_reflectance if reflectance is None else reflectance
        d = np.asarray(distance_m, dtype=float)
        with np.errstate(divide="ignore"):
            s = self.noise_floor_m + self.noise_quadratic_per_m * d**2 * (
                self.reference_reflectance / np.multiply(coverage, rho)
            )
        return float(s) if np.ndim(s) == 0 else s

    def max_range_for_reflectance_m(self, reflectance: float, coverage: float = 1.0) -> float:
        """Largest distance (m) at which a surface of ``reflectance`` still returns, eq. (1)."""
        rho = check_positive("reflectance", reflectance, allow_zero=True)
        f = check_positive("coverage", coverage, allow_zero=True)
        return float(self.max_range_m * np.sqrt(min(f * rho / self.reference_reflectance, 1.0)))

    def frame_index_at(self, t_s: float) -> int:
        """Index of the last reading delivered by time ``t_s``."""
        t = check_finite("t_s", t_s)
        return int(np.floor((t - self.latency_s) * self.frame_rate_hz + 1e-9))

    def zone_edges_deg(self) -> tuple[np.ndarray, np.ndarray]:
        """Zone boundaries ``(x_edges_deg, y_edges_deg)`` from the optical axis (uniform in tan)."""
        tx, ty = np.tan(np.radians(self.hfov_deg) / 2), np.tan(np.radians(self.vfov_deg) / 2)
        return (
            np.degrees(np.arctan(np.linspace(-tx, tx, self.zones_x + 1))),
            np.degrees(np.arctan(np.linspace(-ty, ty, self.zones_y + 1))),
        )

    def measure(self, scene: Scene, t_s: float, *, seed: int | None) -> DepthReading:
        """The reading available at time ``t_s`` for ``scene`` (see the module notes).

        Parameters
        ----------
        scene
            The scene (moving layers are resolved at the frame's sampling time).
        t_s
            Query time, seconds.
        seed
            Noise seed; the generator is keyed on (seed, frame index), so the same seed and
            frame give bit-identical readings and successive frames differ.

        Returns
        -------
        DepthReading

        Raises
        ------
        InvalidParameterError
            ``scene`` is not a Scene or ``t_s`` is not finite.
        """
        if not isinstance(scene, Scene):
            raise InvalidParameterError(f"scene must be a focuslab Scene, got {type(scene).__name__}")
        k = self.frame_index_at(t_s)
        t_scene = k / self.frame_rate_hz
        true_d, rho, cover = self._dominant_surface(scene.at(t_scene))
        with np.errstate(divide="ignore", invalid="ignore"):
            signal = np.where(
                np.isfinite(true_d),
                cover * (rho / self.reference_reflectance) * (self.max_range_m / true_d) ** 2,
                0.0,
            )
            valid = (signal >= 1.0) & (true_d >= self.min_range_m)
            noise_b = self.noise_quadratic_per_m * self.max_range_m**2
            sigma = np.where(valid, self.noise_floor_m + noise_b / np.where(valid, signal, 1.0), np.nan)
        bad_seed = isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0
        if seed is not None and bad_seed:
            raise InvalidParameterError(f"seed must be a non-negative integer or None, got {seed!r}")
        entropy = None if seed is None else [int(seed), k & _MASK63, int(k < 0)]
        z = np.random.default_rng(np.random.SeedSequence(entropy)).standard_normal(true_d.shape)
        dist = np.where(valid, true_d + np.where(valid, sigma, 0.0) * z, np.nan)
        xe, ye = self.zone_edges_deg()
        return DepthReading(
            distance_m=_readonly(dist),
            valid=_readonly(valid),
            signal=_readonly(signal),
            sigma_m=_readonly(sigma),
            reflectance=_readonly(rho),
            coverage=_readonly(cover),
            true_distance_m=_readonly(true_d),
            zone_edges_x_deg=_readonly(xe),
            zone_edges_y_deg=_readonly(ye),
            t_s=t_scene + self.latency_s,
            t_scene_s=t_scene,
            frame_index=k,
        )

    def _dominant_surface(self, scene: Scene) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per zone: distance, reflectance and coverage of the largest visible surface."""
        zx, zy, n = self.zones_x, self.zones_y, self.samples_per_zone
        nx, ny = zx * n, zy * n
        tx, ty = np.tan(np.radians(self.hfov_deg) / 2), np.tan(np.radians(self.vfov_deg) / 2)
        ax = np.arctan(((np.arange(nx) + 0.5) / nx * 2 - 1) * tx)  # direction angles, rad
        ay = np.arctan(((np.arange(ny) + 0.5) / ny * 2 - 1) * ty)
        h, w = scene.shape
        per_tan = w / (2.0 * np.tan(np.radians(scene.hfov_deg) / 2.0))  # scene samples per tan unit
        front_to_back = sorted(scene.layers, key=lambda lay: lay.min_depth_m)
        trans = np.ones((ny, nx))
        weights, depths, refls = [], [], []
        for lay in front_to_back:
            cols = np.floor(_layer_tan(ax, lay, 0) * per_tan + w / 2).astype(int)
            rows = np.floor(_layer_tan(ay, lay, 1) * per_tan + h / 2).astype(int)
            inside = (rows[:, None] >= 0) & (rows[:, None] < h) & (cols[None, :] >= 0) & (cols[None, :] < w)
            r, c = np.clip(rows, 0, h - 1)[:, None], np.clip(cols, 0, w - 1)[None, :]
            alpha = np.where(inside, lay.alpha[r, c], 0.0)
            depth = np.broadcast_to(lay.depth_m, (1, 1)) if np.ndim(lay.depth_m) == 0 else lay.depth_m[r, c]
            weights.append(trans * alpha)
            depths.append(np.broadcast_to(np.asarray(depth, dtype=float), (ny, nx)))
            refls.append(lay.radiance[r, c].mean(axis=-1).astype(float))
            trans = trans * (1.0 - alpha)
        wgt, dep, ref = np.stack(weights), np.stack(depths), np.stack(refls)  # (L, ny, nx)
        zone = (np.arange(ny)[:, None] // n) * zx + (np.arange(nx)[None, :] // n)
        zone = np.broadcast_to(zone, wgt.shape)
        nbins = int(np.ceil(self.max_range_m / self.histogram_bin_m)) + 1
        keep = (wgt > 0) & (dep <= self.max_range_m)
        b = np.floor(dep[keep] / self.histogram_bin_m).astype(int)
        key = zone[keep] * nbins + b
        size = zx * zy * nbins
        hist = np.bincount(key, weights=wgt[keep], minlength=size).reshape(zx * zy, nbins)
        hd = np.bincount(key, weights=(wgt * dep)[keep], minlength=size).reshape(zx * zy, nbins)
        hr = np.bincount(key, weights=(wgt * ref)[keep], minlength=size).reshape(zx * zy, nbins)

        def window(a: np.ndarray) -> np.ndarray:  # 3-bin moving sum (the pulse width)
            p = np.pad(a, ((0, 0), (1, 1)))
            return p[:, :-2] + p[:, 1:-1] + p[:, 2:]

        wh, wd, wr = window(hist), window(hd), window(hr)
        peak = np.argmax(wh, axis=1)
        rows_z = np.arange(zx * zy)
        area = wh[rows_z, peak]
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(area > 0, wd[rows_z, peak] / area, np.nan)
            rho = np.where(area > 0, wr[rows_z, peak] / area, np.nan)
        cover = area / float(n * n)
        return d.reshape(zy, zx), rho.reshape(zy, zx), cover.reshape(zy, zx)
