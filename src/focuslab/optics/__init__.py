"""Optics: the lens, thin-lens focus geometry, PSF models and their analytic MTFs."""

from focuslab.optics.dual_pixel import DualPixelResponse, gaussian_pair, geometric_pair
from focuslab.optics.focus import (
    coc_diameter_px,
    coc_diameter_um,
    coc_max_um,
    coc_per_diopter_um,
    depth_of_field_m,
    focus_distance_from_displacement_m,
    focus_distance_m,
    focus_error_dof,
    hyperfocal_distance_m,
    lens_displacement_um,
    magnification,
    sensor_distance_mm,
)
from focuslab.optics.lens import LensSpec
from focuslab.optics.models import FieldDependentPsf, GaussianPsf, GeometricPsf, WavePsf
from focuslab.optics.mtf import (
    area_sampled_otf,
    diffraction_mtf,
    gaussian_mtf,
    mtf_of_psf,
    otf_of_psf,
    pillbox_mtf,
    pillbox_otf,
    pixel_aperture_mtf,
    pixel_aperture_otf,
)
from focuslab.optics.psf_field import SeidelAberrations
from focuslab.optics.psf_gaussian import gaussian_kernel
from focuslab.optics.psf_geometric import aperture_kernel, pillbox_kernel
from focuslab.optics.psf_model import PsfModel
from focuslab.optics.psf_wave import ChannelSpectrum, mono_spectrum, rgb_spectra
from focuslab.optics.pupil import coc_um_from_w020, w020_from_coc_um
from focuslab.optics.zernike import ZERNIKE_NAMES, noll_to_nm, zernike

__all__ = [
    "ZERNIKE_NAMES",
    "ChannelSpectrum",
    "DualPixelResponse",
    "FieldDependentPsf",
    "GaussianPsf",
    "GeometricPsf",
    "LensSpec",
    "PsfModel",
    "SeidelAberrations",
    "WavePsf",
    "aperture_kernel",
    "area_sampled_otf",
    "coc_diameter_px",
    "coc_diameter_um",
    "coc_max_um",
    "coc_per_diopter_um",
    "coc_um_from_w020",
    "depth_of_field_m",
    "diffraction_mtf",
    "focus_distance_from_displacement_m",
    "focus_distance_m",
    "focus_error_dof",
    "gaussian_kernel",
    "gaussian_mtf",
    "gaussian_pair",
    "geometric_pair",
    "hyperfocal_distance_m",
    "lens_displacement_um",
    "magnification",
    "mono_spectrum",
    "mtf_of_psf",
    "noll_to_nm",
    "otf_of_psf",
    "pillbox_kernel",
    "pillbox_mtf",
    "pillbox_otf",
    "pixel_aperture_mtf",
    "pixel_aperture_otf",
    "rgb_spectra",
    "sensor_distance_mm",
    "w020_from_coc_um",
    "zernike",
]
