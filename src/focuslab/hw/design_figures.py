"""Simulated image-quality figures of one lens + sensor design (all physically computed).

* **System MTF** at the centre and the corner: the lens OTF (pupil autocorrelation,
  :mod:`focuslab.hw.design_otf`, of the wave model :class:`~focuslab.optics.models.FieldDependentPsf`:
  diffraction, the catalog's Seidel and Zernike aberrations, photopic spectrum, at the focus
  below) times the pixel aperture, MTF_sys(f) = |OTF(f)| |sinc(f)| (Boreman, SPIE TT52, eq. 2.2;
  100 % fill factor). The corner is relative field 1
  (image height of the frame corner) evaluated on the +x axis: for a rotationally symmetric
  lens the x profile there is the meridional (tangential) MTF and the y profile the sagittal.
  :func:`kernel_system_mtf` computes the same from the area-sampled PSF kernel (the route of
  the rendered slanted edge, :mod:`focuslab.hw.design_edge`); the tests hold the two within 0.005.
* **Focus**: with ``focus: best_centre`` (default) the sensor sits at the focus of minimum
  RMS wavefront error at the centre (maximum Strehl ratio in the Marechal approximation,
  Born & Wolf, *Principles of Optics*, 7th ed., sec. 9.3): the defocus
  W020 = -cov(W, rho^2) / var(rho^2) over the pupil, e.g. -W040 for pure spherical
  aberration; ``paraxial`` keeps W020 = 0. ``focus_w020_um`` and ``focus_shift_um``
  (= 8 N^2 W020, the sensor shift from paraxial focus) are reported.
* **MTF50**: the first frequency where the MTF falls through 0.5, cy/px (cubic refinement of
  :func:`focuslab.metrics.sfr.figures.crossing_frequency`), also lp/mm (1000 f / p) and LW/PH
  (2 f H). ``corner_mtf50`` is the lower of sagittal and meridional.
* **CPIQ acutance** of the centre MTF (mean of x and y) for the catalog's viewing condition,
  the picture being the full sensor height (IEEE 1858-2016 5.4; :mod:`focuslab.metrics.acutance`).
* **SNR at 10 lux**: an 18 % grey (``reflectance``) under 10 lux, green pixel of a Bayer
  sensor (whole band for mono), exposure ``exposure_s`` (default 1/30 s);
  S = QE r_G Phi_G, SNR = S / sqrt(S + I_d t + sigma_r^2) (EMVA 1288 R4.0 Eq. 15 without
  quantization noise), photons Phi from the camera equation (:mod:`focuslab.sensor.photometry`).
* **Depth of field at close focus**: thin-lens near and far limits when focused at the
  minimum focus distance, c_max = ``coc_max_px`` pixel pitches
  (:func:`focuslab.optics.focus.depth_of_field_m`).

The PSF kernel keeps ``MTF_AIRY_RADII`` lambda N of margin and renormalises the Airy tail
beyond it, which biases its MTF high by about the tail's energy fraction (0.5 % on the
diffraction-limited MTF50); the pupil-autocorrelation OTF has no such bias.
"""

from __future__ import annotations

import math

import numpy as np

from focuslab.errors import InvalidParameterError
from focuslab.hw.design_otf import otf_along
from focuslab.metrics.acutance import acutance
from focuslab.metrics.sfr.figures import crossing_frequency
from focuslab.optics.focus import coc_max_um, depth_of_field_m
from focuslab.optics.lens import LensSpec
from focuslab.optics.models import FieldDependentPsf
from focuslab.optics.mtf import mtf_of_psf
from focuslab.optics.psf_field import SeidelAberrations
from focuslab.optics.psf_wave import ChannelSpectrum
from focuslab.optics.pupil import circular_pupil, pupil_coordinates
from focuslab.sensor.photometry import photons_per_pixel
from focuslab.sensor.spec import SensorSpec
from focuslab.units import cycles_per_pixel_to_lp_per_mm, cycles_per_pixel_to_lw_per_ph

#: Photopic luminance spectrum: CIE 1924 V(lambda) at 450..650 nm in 50 nm steps (equal-energy white).
PHOTOPIC = ChannelSpectrum("Y", (0.45, 0.50, 0.55, 0.60, 0.65), (0.038, 0.323, 0.995, 0.631, 0.107))

#: Kernel margin of the PSF kernels (slanted-edge route), lambda N (~0.5 % of Airy energy beyond, renormalised in).
MTF_AIRY_RADII = 30.0

#: Frequencies at which the system MTF is evaluated, cycles/pixel (0 .. 1, step 0.005).
FREQUENCIES_CPP = np.linspace(0.0, 1.0, 201)

#: Illuminance of the low-light SNR figure, lux.
SNR_LUX = 10.0

#: Names of the figures :func:`optical_figures` returns (the optimizer's possible objectives).
FIGURE_NAMES = ("focus_w020_um", "focus_shift_um", "centre_mtf50_cpp", "centre_mtf50_lp_mm", "centre_mtf50_lw_ph",
                "corner_mtf50_meridional_cpp",
                "corner_mtf50_sagittal_cpp", "corner_mtf50_cpp", "corner_mtf50_lp_mm", "corner_mtf50_lw_ph",
                "acutance", "signal_10lux_e", "snr_10lux", "snr_10lux_db", "dof_near_m", "dof_far_m",
                "dof_close_mm", "megapixels")

#: Relative field of the corner figures (1 = frame corner), on the +x axis.
CORNER_FIELD = (1.0, 0.0)


def psf_model(lens: LensSpec, seidel: SeidelAberrations, zernike_um, pixel_pitch_um: float,
              *, spectra=(PHOTOPIC,), defocus_w020_um: float = 0.0) -> FieldDependentPsf:
    """The wave-optical PSF of a catalog lens on a sensor of pitch ``pixel_pitch_um``.

    ``defocus_w020_um`` adds W020 rho^2 (as the Noll defocus term, W020 rho^2 = W020 / (2 sqrt 3)
    Z4 + piston) to the lens's static aberrations: the sensor's focus position.
    """
    zern = dict(zernike_um)
    z4 = float(zern.pop("defocus", 0.0)) + float(zern.pop(4, 0.0)) + float(defocus_w020_um) / (2.0 * math.sqrt(3.0))
    if z4 != 0.0:
        zern[4] = z4
    return FieldDependentPsf(f_number=lens.f_number, pixel_pitch_um=pixel_pitch_um, seidel=seidel,
                             spectra=tuple(spectra), zernike_um=zern, airy_radii=MTF_AIRY_RADII,
                             name=f"wave:{lens.name}")


def best_focus_w020_um(model: FieldDependentPsf, *, cells: int = 256) -> float:
    """Defocus W020 (um) minimising the RMS wavefront error of ``model`` at the field centre.

    Notes
    -----
    Least squares of W + W020 rho^2 + piston over the (anti-aliased) pupil:
    W020 = -cov(W, rho^2) / var(rho^2). For W = W040 rho^4 over the unit disk
    (<rho^2> = 1/2, <rho^4> = 1/3, <rho^6> = 1/4) this is -W040 (Born & Wolf sec. 9.3).
    """
    x, y = pupil_coordinates(cells)
    a = circular_pupil(cells)
    w = model.wavefront_um(x, y, (0.0, 0.0))
    r2 = x * x + y * y
    wm = float((a * w).sum() / a.sum())
    rm = float((a * r2).sum() / a.sum())
    return -float((a * (w - wm) * (r2 - rm)).sum() / (a * (r2 - rm) ** 2).sum())


def samples_per_px(model: FieldDependentPsf) -> int:
    """Samples per pixel s > p / (lambda_min N) + 1: the PSF's band has no alias below 1 cy/px."""
    lam_min = min(w for s in model.spectra for w in s.wavelengths_um)
    return max(2, math.floor(model.pixel_pitch_um / (lam_min * model.f_number) + 1.0) + 1)


def system_mtf(model: FieldDependentPsf, field_xy=(0.0, 0.0), frequencies_cpp=FREQUENCIES_CPP):
    """System MTF (lens OTF x pixel aperture) along x and along y at ``field_xy``.

    Returns
    -------
    (mtf_x, mtf_y)
        Arrays like ``frequencies_cpp`` (cycles/pixel); the model's first channel.
    """
    f = np.asarray(frequencies_cpp, dtype=float)
    pixel = np.abs(np.sinc(f))
    f_um = f / model.pixel_pitch_um
    return tuple(np.abs(otf_along(model, field_xy, f_um, axis=a)) * pixel for a in ("x", "y"))


def kernel_system_mtf(model: FieldDependentPsf, field_xy=(0.0, 0.0), frequencies_cpp=FREQUENCIES_CPP):
    """:func:`system_mtf` from the area-sampled PSF kernel instead (the slanted-edge route's PSF).

    The kernel is sampled at ``s`` samples per pixel (:func:`samples_per_px`); its sample box
    sinc(f / s) is divided out and the pixel's |sinc(f)| applied.
    """
    f = np.asarray(frequencies_cpp, dtype=float)
    s = samples_per_px(model)
    kernel = model.kernel(0.0, field_xy=field_xy, samples_per_px=s)[0]
    box = np.sinc(f / s)  # the sample box of the area-sampled kernel, divided out
    pixel = np.abs(np.sinc(f))
    return tuple(mtf_of_psf(kernel, f / s, axis=a) / box * pixel for a in ("x", "y"))


def mtf50_cpp(frequencies_cpp, mtf) -> float:
    """First frequency (cy/px) where ``mtf`` falls through 0.5; NaN if it never does."""
    return crossing_frequency(np.asarray(frequencies_cpp, float), np.asarray(mtf, float), 0.5)


def snr_at_lux(sensor: SensorSpec, *, f_number: float, transmission: float, exposure_s: float,
               illuminance_lux: float = SNR_LUX, reflectance: float = 0.18) -> tuple[float, float]:
    """Signal (electrons) and SNR of one pixel viewing a grey diffuser.

    Notes
    -----
    S = QE r_G Phi_G for a Bayer sensor (green band of :data:`~focuslab.sensor.photometry.BAND_FRACTIONS`,
    green channel response), S = QE Phi for mono; SNR = S / sqrt(S + I_d t + sigma_r^2)
    (shot noise, dark-current shot noise and read noise; EMVA 1288 R4.0 Eq. 15).
    """
    bands = 1 if sensor.is_mono else 3
    ph = photons_per_pixel(np.full((1, 1, bands), float(reflectance)), illuminance_lux=illuminance_lux,
                           f_number=f_number, pixel_pitch_um=sensor.pixel_pitch_um, exposure_s=exposure_s,
                           transmission=transmission)[0, 0]
    if sensor.is_mono:
        s_e = float(sensor.quantum_efficiency * ph.sum())
    else:
        s_e = float(sensor.quantum_efficiency * sensor.channel_response[1] * ph[1])
    s_e = min(s_e, sensor.saturation_e)
    noise = math.sqrt(s_e + sensor.dark_current_e_per_s * exposure_s + sensor.read_noise_e**2)
    return s_e, (s_e / noise if noise > 0 else math.inf)


def close_focus_dof_m(lens: LensSpec, pixel_pitch_um: float, coc_max_px: float = 2.0) -> tuple[float, float]:
    """Near and far limits (m) of the depth of field when focused at the minimum focus distance."""
    return depth_of_field_m(lens, lens.min_focus_distance_m, coc_max_um(pixel_pitch_um, coc_max_px))


def _resolution(prefix: str, f_cpp: float, sensor: SensorSpec) -> dict:
    ok = math.isfinite(f_cpp)
    return {f"{prefix}_cpp": f_cpp,
            f"{prefix}_lp_mm": float(cycles_per_pixel_to_lp_per_mm(f_cpp, sensor.pixel_pitch_um)) if ok else math.nan,
            f"{prefix}_lw_ph": float(cycles_per_pixel_to_lw_per_ph(f_cpp, sensor.height_px)) if ok else math.nan}


def optical_figures(lens: LensSpec, seidel: SeidelAberrations, zernike_um, sensor: SensorSpec, *,
                    settings: dict) -> tuple[dict, dict]:
    """The analytic figures of a lens + sensor design (module notes) and its MTF curves.

    Parameters
    ----------
    lens, seidel, zernike_um
        The lens, its Seidel coefficients at full field and static Zernike terms (um).
    sensor
        The sensor.
    settings
        Catalog settings (``exposure_s``, ``reflectance``, ``viewing``, ``coc_max_px``, optional
        ``focus``: ``"best_centre"`` (default) or ``"paraxial"``).

    Returns
    -------
    figures, curves
        Flat dict of numbers (module notes); ``curves``: ``frequencies_cpp`` and the
        ``centre``, ``corner_meridional``, ``corner_sagittal`` MTF lists.
    """
    if not isinstance(sensor, SensorSpec):
        raise InvalidParameterError(f"sensor must be a SensorSpec, got {type(sensor).__name__}")
    model = psf_model(lens, seidel, zernike_um, sensor.pixel_pitch_um)
    w020 = 0.0
    if settings.get("focus", "best_centre") == "best_centre":
        w020 = best_focus_w020_um(model)
        model = psf_model(lens, seidel, zernike_um, sensor.pixel_pitch_um, defocus_w020_um=w020)
    f = FREQUENCIES_CPP
    cx, cy = system_mtf(model, (0.0, 0.0), f)
    mer, sag = system_mtf(model, CORNER_FIELD, f)
    centre = 0.5 * (cx + cy)
    fig = {"focus_w020_um": w020, "focus_shift_um": 8.0 * lens.f_number**2 * w020}
    fig.update(_resolution("centre_mtf50", mtf50_cpp(f, centre), sensor))
    m_mer, m_sag = mtf50_cpp(f, mer), mtf50_cpp(f, sag)
    fig["corner_mtf50_meridional_cpp"] = m_mer
    fig["corner_mtf50_sagittal_cpp"] = m_sag
    fig.update(_resolution("corner_mtf50", float(np.nanmin([m_mer, m_sag])), sensor))
    nyq = f <= 0.5 + 1e-12
    fig["acutance"] = acutance(f[nyq], centre[nyq], settings["viewing"], image_height_px=sensor.height_px).acutance
    s_e, snr = snr_at_lux(sensor, f_number=lens.f_number, transmission=lens.transmission,
                          exposure_s=settings["exposure_s"], reflectance=settings["reflectance"])
    fig["signal_10lux_e"] = s_e
    fig["snr_10lux"] = snr
    fig["snr_10lux_db"] = 20.0 * math.log10(snr) if snr > 0 else -math.inf
    near, far = close_focus_dof_m(lens, sensor.pixel_pitch_um, settings["coc_max_px"])
    fig["dof_near_m"], fig["dof_far_m"] = near, far
    fig["dof_close_mm"] = 1000.0 * (far - near)
    fig["megapixels"] = sensor.width_px * sensor.height_px / 1e6
    curves = {"frequencies_cpp": f.tolist(), "centre": centre.tolist(), "corner_meridional": mer.tolist(),
              "corner_sagittal": sag.tolist()}
    return fig, curves
