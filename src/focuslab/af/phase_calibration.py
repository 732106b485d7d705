"""Phase-AF gain calibration: fit lens codes per pixel of dual-pixel disparity from a focal sweep.

A phone's PDAF is calibrated at the factory: the module looks at a chart at a known distance,
the lens steps through a range of codes around the chart's focus, and at each code the
dual-pixel disparity of the chart is measured. A line through (disparity, code_best - code)
gives the *gain* (codes per pixel of disparity) that turns a measured disparity into the
lens move that focuses, and its offset (the disparity read in focus, from an asymmetric DP
response or shading). :func:`calibrate_phase_gain` does this on the simulator.

Model (DESIGN.md "Physics"). The blur of an object at u with the lens at displacement d is
c = A s (1/u - 1/u_f), linear in the lens position near focus; the dual-pixel disparity is
D = k c (k = 4 / (3 pi) for an ideal half-pupil split, about 0.22 for the Pixel 4 response,
docs/dual_pixel.md). So near focus

    code_best - code = g (D - D_0),     g = 1 / (k |dc/dcode|)                      (1)

with g > 0: a positive disparity (object nearer than the focus plane) asks for a higher
code. D_0 (``offset_px``) is the disparity in focus.

Dead zone. Near focus the measured disparity falls below the line: a blur smaller than the
renderer's sample pitch has no disparity at all (on ``phone_main``'s preview, |c| < 1 DoF),
and the three-point sub-pixel peak of the correlation locks toward zero shift. Outside it
the measurement follows D ~ k (|c| - c_z) sign(c), so the fit (points at least
``dead_zone_dof`` from focus) is

    code_best - code = g_z (D - D_0) + z sign(code_best - code)                       (2)

fitted with D_0 from eq. (1); :meth:`PhaseCalibration.move_codes` uses it (adding
z sign(D - D_0) only when the disparity is clearly non-zero). ``gain_codes_per_px`` stays the
plain line of eq. (1): the one to compare with the camera model's gain (the measured slope
g_z of the soft dead-zone model is steeper in disparity, ~0.8-0.9 g, because the shift
outside the dead zone rises faster than k c to catch up with it).

True gain (the truth the calibration is tested against). The disparity of a dual-pixel
pair is, by DESIGN.md's definition, the separation of the centroids of the left and right
half-pupil PSFs, the sensor's angular response included (4c/(3 pi) for the ideal split), so
the true gain is g_model = 1 / (k |dc/dcode|) with k the centroid separation per unit blur of
the camera's own kernel pair (as rendered) and dc/dcode the camera model's blur per code at
the chart's focus code. A property of the optics, not of an estimator. The alternative, the
gain the estimator reads on noise-free views made from the kernel pair, was tried and left:
on a 64-px region it moves by +-3 % with the texture's seed and it depends on the sub-pixel
interpolation, so it is not a property of the camera. What the estimator adds is a bias:
the parabola through the NCC peak locks sub-pixel shifts toward whole pixels ("pixel
locking"), so the soft Pixel-4 split, whose disparities over a +-8 DoF sweep stay below
half a green-plane pixel (k ~ 0.22 against 0.42 for the ideal split), is read ~4 % low and
its gain fitted ~4 % high (phone_main at 1 m, 5 seeds: +3.4 .. +4.4 %, one texture +9 %).
A Gaussian pre-filter of sigma = 1 green-plane pixel (``lowpass_sigma_px=1``) smooths the
correlation peak to the parabola's shape and removes the bias: recovered / true gain over
seeds 0-4 at 1 m and 0.5 m is 0.97-1.02 (ideal split), 0.99-1.02 (phone_main; 1.05-1.07 for
seed 4's texture), 0.95-1.00 (phone_tele). The policies measure without the pre-filter by
default and use a calibration made the same way (the gain they need is the estimator's).

The lens position of each calibration frame is taken from the frame's true lens
displacement, expressed in codes through the factory map (a factory measures it with the
module's Hall sensor or a laser), so lens jitter and the posture offset do not enter the fit.

Cost: ``positions`` renders of a ``roi_px`` square region (about 40 ms each for 64 px on
``phone_main`` on one CPU core: ~1 s for the default 21 positions).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from focuslab.af.af_signals import roi_disparity
from focuslab.camera.camera import Camera
from focuslab.camera.exposure import auto_exposure
from focuslab.errors import InputFileError, InvalidParameterError, check_positive
from focuslab.optics.focus import lens_displacement_um
from focuslab.scene.library import make_scene

#: Calibration frames whose pooled disparity confidence is below this are left out of the fit.
MIN_CALIBRATION_CONFIDENCE = 0.2


@dataclass(frozen=True)
class PhaseCalibration:
    """A fitted phase-AF gain, eq. (1) of :mod:`focuslab.af.phase_calibration`.

    Attributes
    ----------
    gain_codes_per_px
        g: lens codes to move per frame pixel of disparity x_R - x_L (> 0 for focuslab's sign).
    offset_px
        D_0: disparity measured in focus, frame pixels.
    r2
        Coefficient of determination of the fit.
    near_gain_codes_per_px
        g_z: the slope of eq. (2) (NaN: use ``gain_codes_per_px``).
    dead_zone_codes
        z: half-width of the zone around focus where the measured disparity stays near zero
        (codes), eq. (2).
    dead_zone_px
        Largest |D - D_0| measured inside the dead zone during the sweep, pixels: below twice
        this a disparity does not say which side of focus the region is on.
    residual_codes
        RMS residual of the fit, codes.
    camera
        Name of the camera calibrated.
    distance_m
        Chart distance, metres.
    best_code
        Real-valued code focusing the chart (factory map).
    codes, disparities_px, confidences
        The sweep: lens positions (codes), measured disparities, confidences.
    used
        Which sweep points entered the fit.
    """

    gain_codes_per_px: float
    offset_px: float
    r2: float
    residual_codes: float
    near_gain_codes_per_px: float = math.nan
    dead_zone_codes: float = 0.0
    dead_zone_px: float = 0.0
    camera: str = ""
    distance_m: float = math.nan
    best_code: float = math.nan
    codes: tuple[float, ...] = ()
    disparities_px: tuple[float, ...] = ()
    confidences: tuple[float, ...] = ()
    used: tuple[bool, ...] = ()

    def __post_init__(self) -> None:
        g = float(self.gain_codes_per_px)
        if not math.isfinite(g) or g <= 0.0:
            raise InvalidParameterError(
                f"gain_codes_per_px must be finite and > 0 (focuslab's disparity sign), got {self.gain_codes_per_px!r}"
            )
        if not math.isfinite(float(self.offset_px)):
            raise InvalidParameterError(f"offset_px must be finite, got {self.offset_px!r}")

    def move_codes(self, disparity_px: float, *, sigma_px: float = 0.0) -> float:
        """Lens move (codes, + = toward near focus) that focuses a region of this disparity.

        Eq. (2): g_z (D - D_0) + z sign(D - D_0), the dead-zone term only when |D - D_0|
        exceeds both 1.5 times the measurement's standard error ``sigma_px`` and twice
        ``dead_zone_px`` (else the region is inside the dead zone, where the sign is noise
        or texture bias).
        """
        r = float(disparity_px) - float(self.offset_px)
        gz = float(self.near_gain_codes_per_px)
        if not (self.dead_zone_codes > 0 and math.isfinite(gz) and gz > 0):
            return float(self.gain_codes_per_px) * r
        move = gz * r
        if not self.in_dead_zone(disparity_px, sigma_px=sigma_px):
            move += math.copysign(float(self.dead_zone_codes), r)
        return move

    def in_dead_zone(self, disparity_px: float, *, sigma_px: float = 0.0) -> bool:
        """Whether |D - D_0| is too small to tell the side of focus (see :meth:`move_codes`)."""
        r = abs(float(disparity_px) - float(self.offset_px))
        return r <= max(1.5 * max(float(sigma_px), 0.0), 2.0 * float(self.dead_zone_px))

    def to_dict(self) -> dict:
        """Plain JSON-ready dict (NaN becomes None)."""
        out = asdict(self)
        for k, v in out.items():
            if isinstance(v, tuple):
                out[k] = [None if isinstance(x, float) and not math.isfinite(x) else x for x in v]
            elif isinstance(v, float) and not math.isfinite(v):
                out[k] = None
        return out

    @classmethod
    def from_dict(cls, data: dict) -> PhaseCalibration:
        """Inverse of :meth:`to_dict`.

        Raises
        ------
        InputFileError
            A dict without ``gain_codes_per_px`` / ``offset_px`` or with bad values.
        """
        try:
            gain, off = float(data["gain_codes_per_px"]), float(data["offset_px"])
        except (KeyError, TypeError, ValueError):
            raise InputFileError(
                "a phase calibration needs numeric 'gain_codes_per_px' and 'offset_px'; "
                "write it with PhaseCalibration.to_dict()"
            ) from None

        def floats(key: str) -> tuple[float, ...]:
            return tuple(math.nan if v is None else float(v) for v in data.get(key, ()) or ())

        def num(key: str) -> float:
            v = data.get(key)
            return math.nan if v is None else float(v)

        try:
            return cls(
                gain_codes_per_px=gain,
                offset_px=off,
                r2=num("r2"),
                residual_codes=num("residual_codes"),
                near_gain_codes_per_px=num("near_gain_codes_per_px"),
                dead_zone_codes=0.0 if data.get("dead_zone_codes") is None else float(data["dead_zone_codes"]),
                dead_zone_px=0.0 if data.get("dead_zone_px") is None else float(data["dead_zone_px"]),
                camera=str(data.get("camera", "")),
                distance_m=num("distance_m"),
                best_code=num("best_code"),
                codes=floats("codes"),
                disparities_px=floats("disparities_px"),
                confidences=floats("confidences"),
                used=tuple(bool(v) for v in data.get("used", ()) or ()),
            )
        except InvalidParameterError as exc:
            raise InputFileError(f"bad phase calibration: {exc}") from None


def continuous_code_for_um(camera: Camera, displacement_um: float) -> float:
    """Real-valued code whose factory-calibrated displacement is ``displacement_um``.

    Linear interpolation of the factory map between integer codes; the lift-off code at or
    below 0 µm.
    """
    act = camera.actuator
    codes = np.arange(act.start_code, act.max_code + 1)
    tab = np.asarray(act.displacement_um(codes), dtype=float)
    top = int(np.searchsorted(tab, tab[-1], side="left"))
    return float(np.interp(float(displacement_um), tab[: top + 1], codes[: top + 1].astype(float)))


def calibrate_phase_gain(
    camera: Camera,
    *,
    scene_name: str = "dead_leaves",
    distance_m: float = 1.0,
    positions: int = 21,
    span_dof: float = 8.0,
    roi_px: int = 64,
    illuminance_lux: float = 500.0,
    dead_zone_dof: float = 1.5,
    seed: int = 0,
    lowpass_sigma_px: float = 0.0,
) -> PhaseCalibration:
    """Fit the phase-AF gain of ``camera`` from a rendered focal sweep of a chart.

    Parameters
    ----------
    camera
        A camera with a dual-pixel sensor.
    scene_name
        Built-in scene used as the chart (``"dead_leaves"`` or ``"slanted_edge"``...).
    distance_m
        Chart distance, metres.
    positions
        Lens codes in the sweep (>= 5), evenly spread over +-``span_dof`` around focus.
    span_dof
        Half-width of the sweep, depth-of-focus units (> 0); keep the disparity inside the
        search range (about 8 DoF on ``phone_main``'s preview is 0.9 px).
    roi_px
        Side of the centred square AF region, preview-stream pixels (>= 32, even).
    illuminance_lux
        Chart illuminance, lux.
    dead_zone_dof
        Sweep points within this many DoF of focus are left out of the fit (> 0 leaves them
        out; 0 keeps all): near focus a blur smaller than the render's sample pitch has no
        disparity and the three-point peak fit locks to zero shift, so these points bend
        the line.
    seed
        Seed of the chart texture and of each frame's noise (frame i uses ``seed + i``).
    lowpass_sigma_px
        Gaussian pre-filter of both views before matching (green-plane pixels; 0 = off, as
        the policies measure by default). Use the value the policy measures with: the gain is
        the estimator's. With 1.0 the correlation peak is smooth enough for the parabola's
        sub-pixel fit, and the fitted gain is the optics' own (see the module notes).

    Returns
    -------
    PhaseCalibration

    Raises
    ------
    InvalidParameterError
        A camera without dual pixels, bad parameters, or too few confident sweep points.

    Notes
    -----
    Least squares of y_i = code_best - x_i on D_i: y = g D + b, D_0 = -b / g (eq. (1)); then of
    y_i on (D_i - D_0) and sign(y_i) for g_z and z (eq. (2); skipped when ``dead_zone_dof`` is
    0). x_i is the frame's true lens position in codes.
    """
    if not isinstance(camera, Camera):
        raise InvalidParameterError(f"camera must be a focuslab Camera, got {type(camera).__name__}")
    if not camera.has_dual_pixel:
        raise InvalidParameterError(f"camera {camera.name!r} has no dual-pixel sensor; phase AF cannot be calibrated")
    if isinstance(positions, bool) or not isinstance(positions, int | np.integer) or positions < 5:
        raise InvalidParameterError(f"positions must be an integer >= 5, got {positions!r}")
    if isinstance(roi_px, bool) or not isinstance(roi_px, int | np.integer) or roi_px < 32 or roi_px % 2:
        raise InvalidParameterError(f"roi_px must be an even integer >= 32, got {roi_px!r}")
    dist = check_positive("distance_m", distance_m)
    span = check_positive("span_dof", span_dof)
    lux = check_positive("illuminance_lux", illuminance_lux)
    dead = check_positive("dead_zone_dof", dead_zone_dof, allow_zero=True)
    lowpass = check_positive("lowpass_sigma_px", lowpass_sigma_px, allow_zero=True)
    if dist <= camera.lens.min_focus_distance_m:
        raise InvalidParameterError(
            f"distance_m {dist:g} m is inside the lens's minimum focus distance "
            f"{camera.lens.min_focus_distance_m:g} m; put the chart farther"
        )
    h, w = camera.stream_sensor.shape_px
    if roi_px > min(h, w):
        raise InvalidParameterError(f"roi_px {roi_px} exceeds the {w} x {h} preview stream; use a smaller region")
    roi = ((w - roi_px) // 2 // 2 * 2, (h - roi_px) // 2 // 2 * 2, int(roi_px), int(roi_px))
    best_um = float(lens_displacement_um(camera.lens.focal_length_mm, dist))
    best_code = continuous_code_for_um(camera, best_um)
    # codes per DoF at focus: blur changes by |dc/dd| = A / s per µm of travel
    act = camera.actuator
    k = int(np.clip(round(best_code), act.start_code + 1, act.max_code - 1))
    um_per_code = float(act.displacement_um(k + 1) - act.displacement_um(k - 1)) / 2.0
    blur_per_code = um_per_code * camera.lens.aperture_diameter_mm / camera.sensor_distance_mm(best_um)
    cpd = camera.coc_max_um / blur_per_code
    lo, hi = act.start_code, act.max_code
    targets = np.unique(np.clip(np.round(best_code + np.linspace(-span, span, int(positions)) * cpd), lo, hi))
    scene = make_scene(scene_name, subject_distance_m=dist, seed=int(seed))
    exposure_s, gain = auto_exposure(camera, lux)
    xs, ds, cs = [], [], []
    for i, code in enumerate(targets):
        frame = camera.capture(
            scene, 0.0, lens_code=int(code), exposure_s=exposure_s, illuminance_lux=lux, seed=int(seed) + i, roi=roi,
            analog_gain=gain,
        )
        left, right = frame.raw.normalized_pair()
        meas = roi_disparity(left, right, cfa=None if frame.raw.cfa == "mono" else frame.raw.cfa,
                             lowpass_sigma_px=lowpass)
        xs.append(continuous_code_for_um(camera, frame.lens_displacement_um))
        ds.append(meas.disparity_px if not meas.at_limit else math.nan)
        cs.append(meas.confidence)
    x, d, c = (np.asarray(v, dtype=float) for v in (xs, ds, cs))
    y = best_code - x
    use = np.isfinite(d) & (c >= MIN_CALIBRATION_CONFIDENCE) & (np.abs(y) >= dead * cpd)
    if use.sum() < 3:
        raise InvalidParameterError(
            f"only {int(use.sum())} of {x.size} sweep frames gave a confident disparity; use a textured "
            "chart, more light, a larger roi_px or a smaller span_dof"
        )
    g, b = np.polyfit(d[use], y[use], 1)
    resid = y[use] - (g * d[use] + b)
    gz, dz = g, 0.0
    if dead > 0 and np.any(y[use] > 0) and np.any(y[use] < 0):
        design = np.stack([d[use] + b / g, np.sign(y[use])], axis=1)
        (gz, dz), *_ = np.linalg.lstsq(design, y[use], rcond=None)
        if not (gz > 0 and dz > 0):
            gz, dz = g, 0.0
    inside = np.isfinite(d) & (np.abs(y) < dz)
    dz_px = float(np.max(np.abs(d[inside] + b / g))) if inside.any() else 0.0
    ss_tot = float(np.sum((y[use] - y[use].mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / ss_tot if ss_tot > 0 else math.nan
    if not g > 0:
        raise InvalidParameterError(
            f"the fitted gain is {g:.3g} codes/px (expected > 0): the disparity does not follow the lens; "
            "check the chart's texture and the dual-pixel sign"
        )
    return PhaseCalibration(
        gain_codes_per_px=float(g),
        offset_px=float(-b / g),
        r2=float(r2),
        near_gain_codes_per_px=float(gz),
        dead_zone_codes=float(dz),
        dead_zone_px=dz_px,
        residual_codes=float(np.sqrt(np.mean(resid**2))),
        camera=camera.name,
        distance_m=dist,
        best_code=float(best_code),
        codes=tuple(float(v) for v in x),
        disparities_px=tuple(float(v) for v in d),
        confidences=tuple(float(v) for v in c),
        used=tuple(bool(v) for v in use),
    )

