"""A camera module with manufacturing errors: sensor tilt, lens decenter, back-focus error.

A :class:`ModuleDesign` is the nominal module (a focuslab lens, a small mono readout of a
sensor, the lens's field-dependent Seidel aberrations and the chart distance); a
:class:`ModuleBuild` is one manufactured unit's errors. The functions below give, for a point
of the sensor, the signed blur diameter the PSF model needs and the *truth* best-focus lens
position of each field zone, against which :mod:`focuslab.hw.qualify` is tested.

Model (sensor coordinates x, y in mm from the sensor centre, x right, y down; lens
displacement d in um from the infinity position; all "z" along the optical axis, away from
the lens):

1. Sensor tilt (Smith [1] sec. 13; the "sensor tilt" term of active alignment [3], [4]): the
   sensor surface is the plane z(x, y) = s0 + b + x tan(t_x) + y tan(t_y), with s0 = f + d the
   nominal lens-sensor distance and b the back-focus error. ``tilt_x_deg`` t_x is the slope
   of the sensor along x (a rotation about the y axis); ``tilt_y_deg`` along y.
2. Blur at a sensor point (DESIGN.md "Physics", :func:`focuslab.optics.focus.coc_diameter_um`):
   c(x, y) = A (1 - z(x, y) / s_u), with s_u = 1 / (1/f - 1/u) the image distance of the
   chart at u and A = f / N. So a tilted sensor makes the defocus linear over the field.
3. Lens decenter (d_x, d_y) um: the optical axis meets the sensor at (d_x, d_y) instead of
   the centre, so the field-dependent aberrations are evaluated at the field height measured
   from there: h = |(x, y) - (d_x, d_y)| / R (R the sensor half-diagonal). A decentred element
   also tilts the image surface (Smith [1] sec. 14.6, tilted and decentred elements): by
   kappa * (d_x, d_y), kappa = ``ModuleDesign.decenter_tilt_deg_per_mm``. The image surface
   tilt has the opposite effect of the same sensor tilt, so the *apparent* tilt is
   t_x - kappa d_x (and y likewise).
4. Field curvature and astigmatism (Seidel W220, W222 of :mod:`focuslab.optics.psf_field`):
   the pupil wavefront W020 rho^2 + (W220 + W222 cos^2) h^2 rho^2 is flat for the meridional
   fan when W020 = -(W220 + W222) h^2 and for the sagittal fan when W020 = -W220 h^2. With
   W020 = c / (8 N) the meridional (M) and sagittal (S) foci lie at blur
   c_M = -8 N (W220 + W222) h^2 and c_S = -8 N W220 h^2, i.e. at image-side shifts
   dz = -c s_u / A (Hopkins [2]; Wyant & Creath [5] eqs. 27-33).
5. Best-focus lens position of a zone (the truth): d_best = s_u - f - b - x tan t_x - y tan t_y
   + x tan(kappa d_x) + y tan(kappa d_y) + dz_{M or S}(h). The tilt terms are linear in
   (x, y), the aberration terms a paraboloid centred on the decentred axis: M and S share the
   tilt but have different curvatures (astigmatism), which is what lets a through-focus series
   separate decenter from tilt (docs/hw_qualification.md).

References
----------
.. [1] W. J. Smith, *Modern Optical Engineering*, 4th ed., McGraw-Hill (2008): ch. 13-14
       (image surfaces, tolerancing of tilted and decentred elements).
.. [2] H. H. Hopkins, *Wave Theory of Aberrations*, Oxford (1950), ch. 4.
.. [3] ISO 12233:2017, annex C (e-SFR chart: slanted squares over the field) and the field
       zones of camera-module MTF specifications (centre, 0.3/0.5/0.7 field, corners).
.. [4] S. Lee and J. Park, "Tilt measurement of lens module with multiple lenses: algorithm
       and application", J. Korean Soc. Precision Engineering 24(3) (2007) (tilt vector from the
       best focal surface of a through-focus series); US 9,210,306 B1 / US 2015/0350497 A1,
       "Single frame camera module active alignment tilt correction" (tilt from the SFR of
       field edges); Imatest, "Measuring the effects of tilt" (2012).
.. [5] J. C. Wyant and K. Creath, "Basic wavefront aberration theory for optical metrology",
       Applied Optics and Optical Engineering XI (1992), sec. 3.2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from focuslab.errors import InvalidParameterError, check_finite, check_positive
from focuslab.optics.focus import sensor_distance_mm
from focuslab.optics.lens import LensSpec
from focuslab.optics.models import FieldDependentPsf
from focuslab.optics.psf_field import SeidelAberrations
from focuslab.optics.psf_wave import mono_spectrum
from focuslab.sensor.spec import SensorSpec

#: Largest sensor tilt and decenter a build may have (beyond these a module is not assembled).
MAX_TILT_DEG = 5.0
MAX_DECENTER_UM = 1000.0


@dataclass(frozen=True)
class ModuleBuild:
    """One manufactured module's assembly errors.

    Parameters
    ----------
    tilt_x_deg, tilt_y_deg
        Sensor tilt: slope of the sensor surface along x (rotation about y) and along y,
        degrees, |t| <= 5.
    decenter_x_um, decenter_y_um
        Where the lens's optical axis meets the sensor, relative to the sensor centre, um.
    back_focus_um
        Back-focus error b (sensor farther from the lens than nominal when > 0), um.
    extra_field_curvature_um
        Additional field curvature of this unit (an element spacing error), expressed as the
        image-side best-focus shift at the frame corner, um (both M and S).
    """

    tilt_x_deg: float = 0.0
    tilt_y_deg: float = 0.0
    decenter_x_um: float = 0.0
    decenter_y_um: float = 0.0
    back_focus_um: float = 0.0
    extra_field_curvature_um: float = 0.0

    def __post_init__(self) -> None:
        for name in ("tilt_x_deg", "tilt_y_deg"):
            if abs(check_finite(name, getattr(self, name))) > MAX_TILT_DEG:
                raise InvalidParameterError(
                    f"{name} must be within +-{MAX_TILT_DEG} degrees, got {getattr(self, name)}")
        for name in ("decenter_x_um", "decenter_y_um"):
            if abs(check_finite(name, getattr(self, name))) > MAX_DECENTER_UM:
                raise InvalidParameterError(f"{name} must be within +-{MAX_DECENTER_UM} um, got {getattr(self, name)}")
        check_finite("back_focus_um", self.back_focus_um)
        check_finite("extra_field_curvature_um", self.extra_field_curvature_um)

    def to_dict(self) -> dict[str, float]:
        return {k: float(getattr(self, k)) for k in (
            "tilt_x_deg", "tilt_y_deg", "decenter_x_um", "decenter_y_um", "back_focus_um", "extra_field_curvature_um")}


def binned_readout(native: SensorSpec, *, width_px: int = 640, height_px: int = 480) -> SensorSpec:
    """A ``width_px x height_px`` mono readout covering ``native``'s width, by digital binning.

    Each output pixel sums n = (pitch / native pitch)^2 native pixels read separately: full
    well n FW, read noise sqrt(n) sigma_r, dark current n I_d, DSNU sqrt(n) DSNU, PRNU
    PRNU / sqrt(n) (independent pixels averaged), the native QE; a 12-bit scale spanning the
    binned full well (the binning rules of :class:`focuslab.sensor.spec.BinningMode`).
    """
    pitch = native.size_mm[0] * 1000.0 / width_px
    n = (pitch / native.pixel_pitch_um) ** 2
    full_well = native.full_well_e * n
    return SensorSpec(
        name=f"{native.name}-binned-{width_px}x{height_px}", pixel_pitch_um=pitch, width_px=width_px,
        height_px=height_px, quantum_efficiency=native.quantum_efficiency, full_well_e=full_well,
        read_noise_e=native.read_noise_e * math.sqrt(n), dark_current_e_per_s=native.dark_current_e_per_s * n,
        prnu_fraction=native.prnu_fraction / math.sqrt(n), dsnu_e=native.dsnu_e * math.sqrt(n), adc_bits=12,
        black_level_dn=64.0, conversion_gain_dn_per_e=(4095.0 - 64.0) / full_well, cfa="mono",
        fpn_seed=native.fpn_seed,
    )


@dataclass(frozen=True)
class ModuleDesign:
    """The nominal module: lens, qualification readout, aberrations, chart distance.

    Parameters
    ----------
    lens
        The thin lens (focal length, f-number).
    sensor
        The readout the qualification captures use (mono; small for speed).
    seidel
        Field-dependent aberrations at the frame corner (:class:`SeidelAberrations`); W220 and
        W222 make the curved, astigmatic best-focus surfaces.
    chart_distance_m
        Chart distance u, metres.
    decenter_tilt_deg_per_mm
        Image-surface tilt kappa per mm of decenter, degrees/mm (model eq. 3).
    wavelength_um
        Wavelength of the (monochromatic) PSF, um.
    """

    lens: LensSpec
    sensor: SensorSpec
    seidel: SeidelAberrations = field(default_factory=lambda: SeidelAberrations(w220_um=-0.4, w222_um=2.4))
    chart_distance_m: float = 0.3
    decenter_tilt_deg_per_mm: float = 0.5
    wavelength_um: float = 0.55

    def __post_init__(self) -> None:
        if not isinstance(self.lens, LensSpec) or not isinstance(self.sensor, SensorSpec):
            raise InvalidParameterError("ModuleDesign needs a LensSpec and a SensorSpec")
        if not isinstance(self.seidel, SeidelAberrations):
            raise InvalidParameterError("ModuleDesign.seidel must be SeidelAberrations")
        u = check_positive("chart_distance_m", self.chart_distance_m)
        if u * 1000.0 <= 2.0 * self.lens.focal_length_mm:
            raise InvalidParameterError(f"chart_distance_m {u} is too close for f = {self.lens.focal_length_mm} mm")
        check_finite("decenter_tilt_deg_per_mm", self.decenter_tilt_deg_per_mm)
        check_positive("wavelength_um", self.wavelength_um)

    @classmethod
    def from_camera(cls, camera, **options) -> ModuleDesign:
        """The module of a focuslab :class:`~focuslab.camera.camera.Camera` (e.g. a preset):
        its lens, and a 640 x 480 binned readout of its sensor (:func:`binned_readout`)."""
        return cls(lens=camera.lens, sensor=binned_readout(camera.sensor), **options)

    # --- geometry ------------------------------------------------------------------------------
    @property
    def pixel_pitch_um(self) -> float:
        return float(self.sensor.pixel_pitch_um)

    @property
    def half_diagonal_mm(self) -> float:
        """R: the sensor half-diagonal, mm (relative field h = 1 there)."""
        return 0.5 * self.sensor.diagonal_mm

    @property
    def image_distance_mm(self) -> float:
        """s_u = 1 / (1/f - 1/u), mm."""
        return float(sensor_distance_mm(self.lens.focal_length_mm, self.chart_distance_m))

    @property
    def nominal_lens_um(self) -> float:
        """Lens displacement that focuses the chart on a perfect module, um (s_u - f)."""
        return (self.image_distance_mm - self.lens.focal_length_mm) * 1000.0

    @property
    def dz_per_w_um(self) -> float:
        """Image-side focus shift per um of W020, um: dz = 8 N s_u / A * W (model eq. 4)."""
        return 8.0 * self.lens.f_number * self.image_distance_mm / self.lens.aperture_diameter_mm

    def psf(self, build: ModuleBuild) -> FieldDependentPsf:
        """The unit's field-dependent wave PSF (its extra field curvature added to W220)."""
        seidel = SeidelAberrations(self.seidel.w040_um, self.seidel.w131_um, self.seidel.w222_um, self._w220_um(build))
        return FieldDependentPsf(f_number=self.lens.f_number, pixel_pitch_um=self.pixel_pitch_um, seidel=seidel,
                                 spectra=mono_spectrum(self.wavelength_um), name="module")

    def pixel_to_sensor_mm(self, x_px, y_px) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates (centre of the top-left pixel = 0) to sensor mm from the centre."""
        p = self.pixel_pitch_um / 1000.0
        return ((np.asarray(x_px, float) - (self.sensor.width_px - 1) / 2.0) * p,
                (np.asarray(y_px, float) - (self.sensor.height_px - 1) / 2.0) * p)

    def field_xy(self, build: ModuleBuild, x_mm, y_mm) -> tuple[np.ndarray, np.ndarray]:
        """Relative field position measured from the decentred optical axis (model eq. 3)."""
        r = self.half_diagonal_mm
        return ((np.asarray(x_mm, float) - build.decenter_x_um / 1000.0) / r,
                (np.asarray(y_mm, float) - build.decenter_y_um / 1000.0) / r)

    def apparent_tilt_deg(self, build: ModuleBuild) -> tuple[float, float]:
        """Tilt of the sensor relative to the image surface: t - kappa * decenter (eq. 3)."""
        k = self.decenter_tilt_deg_per_mm
        return (build.tilt_x_deg - k * build.decenter_x_um / 1000.0,
                build.tilt_y_deg - k * build.decenter_y_um / 1000.0)

    def sensor_z_offset_um(self, build: ModuleBuild, x_mm, y_mm) -> np.ndarray:
        """b + x tan(t_x') + y tan(t_y') with the apparent tilt t' (eq. 1 and 3), um."""
        tx, ty = self.apparent_tilt_deg(build)
        return build.back_focus_um + 1000.0 * (np.asarray(x_mm, float) * math.tan(math.radians(tx))
                                               + np.asarray(y_mm, float) * math.tan(math.radians(ty)))

    def coc_px(self, build: ModuleBuild, lens_um: float, x_mm, y_mm) -> np.ndarray:
        """Signed blur diameter (px) of the chart at sensor points for lens displacement ``lens_um`` (eq. 2)."""
        s_mm = self.lens.focal_length_mm + (lens_um + self.sensor_z_offset_um(build, x_mm, y_mm)) / 1000.0
        # c = A (1 - s / s_u): the equation of focuslab.optics.focus.coc_diameter_um, here also for
        # s < f (a test series may drive the lens below its infinity stop)
        c_um = 1000.0 * self.lens.aperture_diameter_mm * (1.0 - s_mm / self.image_distance_mm)
        return c_um / self.pixel_pitch_um

    def fan_blur_px(self, build: ModuleBuild, lens_um: float, x_mm, y_mm) -> tuple[np.ndarray, np.ndarray]:
        """Signed blur diameters (px) of the meridional and sagittal ray fans at sensor points.

        c_M = c + 8 N (W220 + W222) h^2 and c_S = c + 8 N W220 h^2 (eq. 4; each fan is in
        focus where its total defocus wavefront vanishes). They are the geometric extents of
        the astigmatic PSF along the radial and tangential directions.
        """
        c = self.coc_px(build, lens_um, x_mm, y_mm)
        fx, fy = self.field_xy(build, x_mm, y_mm)
        h2 = fx * fx + fy * fy
        k = 8.0 * self.lens.f_number / self.pixel_pitch_um
        w220 = self._w220_um(build)
        return c + k * (w220 + self.seidel.w222_um) * h2, c + k * w220 * h2

    def best_focus_lens_um(self, build: ModuleBuild, x_mm, y_mm, direction: str) -> np.ndarray:
        """Truth: lens displacement (um) at which the zone at (x, y) is sharpest (eq. 5).

        ``direction`` is ``"meridional"`` or ``"sagittal"``.
        """
        if direction not in ("meridional", "sagittal"):
            raise InvalidParameterError(f"direction must be 'meridional' or 'sagittal', got {direction!r}")
        fx, fy = self.field_xy(build, x_mm, y_mm)
        w = self._w220_um(build) + (self.seidel.w222_um if direction == "meridional" else 0.0)
        # c_best = -8 N W h^2 and c = A (1 - z / s_u): z - s_u = 8 N s_u / A * W h^2
        dz_um = self.dz_per_w_um * w * (fx * fx + fy * fy)
        return self.nominal_lens_um - self.sensor_z_offset_um(build, x_mm, y_mm) + dz_um

    def _w220_um(self, build: ModuleBuild) -> float:
        return self.seidel.w220_um + build.extra_field_curvature_um / self.dz_per_w_um
