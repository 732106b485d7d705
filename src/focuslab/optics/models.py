"""PSF models implementing :class:`focuslab.optics.psf_model.PsfModel`.

* :class:`GeometricPsf` - ray optics: the area-sampled image of the aperture (pillbox or
  polygon), dual-pixel halves of it.
* :class:`GaussianPsf` - a Gaussian whose sigma grows with the blur diameter.
* :class:`WavePsf` - diffraction: |FT(pupil)|^2 with defocus W020 = c / (8 N), Zernike
  aberrations, per-channel polychromatic sums, longitudinal chromatic aberration.
* :class:`FieldDependentPsf` - :class:`WavePsf` plus Seidel aberrations that vary across
  the field (field curvature, astigmatism, coma).

All ``kernel`` methods take the signed blur-circle diameter ``coc_px`` in pixels (positive
when the object is nearer than the focus plane), the relative field position ``field_xy``
and ``samples_per_px``, and return float64 kernels with odd size, centred, each channel
summing to 1. ``kernel_pair`` returns the dual-pixel (left, right) PSFs whose sums add up
to the fraction of light the photodiodes collect (1 for an ideal response).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from focuslab.errors import InvalidParameterError, check_finite, check_positive
from focuslab.optics.dual_pixel import DualPixelResponse, gaussian_pair, geometric_pair
from focuslab.optics.lens import LensSpec
from focuslab.optics.psf_field import SeidelAberrations, check_field_xy
from focuslab.optics.psf_gaussian import DEFAULT_TRUNCATE, gaussian_half_width, gaussian_kernel
from focuslab.optics.psf_geometric import aperture_kernel
from focuslab.optics.psf_wave import DEFAULT_AIRY_RADII, ChannelSpectrum, polychromatic_psf, rgb_spectra
from focuslab.optics.pupil import (
    check_zernike_terms,
    circular_pupil,
    dual_pixel_pupil_weights,
    wavefront_um,
)

#: Cache keys round the blur diameter to this many samples and the field to this step.
COC_CACHE_STEP_SAMPLES = 1e-4
FIELD_CACHE_STEP = 1e-4


def _check_call(coc_px, field_xy, samples_per_px) -> tuple[float, tuple[float, float], int]:
    if isinstance(coc_px, (str, bytes, bool)):
        raise InvalidParameterError(f"coc_px must be a number of pixels, got {coc_px!r}")
    c = check_finite("coc_px", coc_px)
    fxy = check_field_xy(field_xy)
    if isinstance(samples_per_px, bool) or not isinstance(samples_per_px, (int, np.integer)):
        raise InvalidParameterError(f"samples_per_px must be a positive integer, got {samples_per_px!r}")
    if samples_per_px < 1:
        raise InvalidParameterError(f"samples_per_px must be >= 1, got {samples_per_px}")
    return c, fxy, int(samples_per_px)


def _check_response(dp_response) -> None:
    if not isinstance(dp_response, DualPixelResponse):
        raise InvalidParameterError(
            f"dp_response must be a DualPixelResponse, got {type(dp_response).__name__}"
        )


@dataclass(frozen=True)
class GeometricPsf:
    """Geometric defocus PSF: the uniformly lit image of the aperture (pillbox or polygon).

    Parameters
    ----------
    blades
        ``None`` for a circular stop, else the number of straight blades (>= 3).
    rotation_deg
        Polygon rotation (a vertex direction), degrees from +x towards +y; the image is
        rotated by 180 degrees more for c < 0.
    dp_response
        Dual-pixel sub-pixel response used by :meth:`kernel_pair`.
    name
        Label for reports.

    Notes
    -----
    Kernel size: k = 2 ceil(|c|/2 + 1/2) - 1 samples (the whole blur circle). In focus
    (c = 0) the kernel is the delta ``[[1.0]]``. See :mod:`focuslab.optics.psf_geometric`.
    """

    blades: int | None = None
    rotation_deg: float = 0.0
    dp_response: DualPixelResponse = field(default_factory=DualPixelResponse)
    name: str = "geometric"

    def __post_init__(self) -> None:
        if self.blades is not None and (isinstance(self.blades, bool) or int(self.blades) < 3):
            raise InvalidParameterError(f"blades must be >= 3 (or None for a circle), got {self.blades}")
        check_finite("rotation_deg", self.rotation_deg)
        _check_response(self.dp_response)

    @classmethod
    def from_lens(cls, lens: LensSpec, dp_response: DualPixelResponse | None = None) -> GeometricPsf:
        """The geometric PSF of a lens's aperture (its blades and rotation)."""
        return cls(
            blades=lens.aperture_blades,
            rotation_deg=lens.aperture_rotation_deg,
            dp_response=dp_response if dp_response is not None else DualPixelResponse(),
            name=f"geometric:{lens.name}",
        )

    @property
    def field_dependent(self) -> bool:
        """Only the dual-pixel split can vary with field (``split_shift_per_field``)."""
        return self.dp_response.split_shift_per_field != 0.0

    def kernel(self, coc_px, *, field_xy=(0.0, 0.0), samples_per_px=1) -> np.ndarray:
        """Whole-aperture PSF, ``(k, k)``; see :func:`~focuslab.optics.psf_geometric.aperture_kernel`."""
        c, _, spp = _check_call(coc_px, field_xy, samples_per_px)
        return aperture_kernel(c * spp, blades=self.blades, rotation_deg=self.rotation_deg)

    def kernel_pair(self, coc_px, *, field_xy=(0.0, 0.0), samples_per_px=1):
        """Dual-pixel (left, right) PSFs, ``(k, k)`` each; disparity 4 c / (3 pi) when ideal."""
        c, fxy, spp = _check_call(coc_px, field_xy, samples_per_px)
        return geometric_pair(
            c * spp, self.dp_response, field_x=fxy[0], blades=self.blades, rotation_deg=self.rotation_deg
        )


@dataclass(frozen=True)
class GaussianPsf:
    """Gaussian PSF whose standard deviation grows with the blur diameter.

    Parameters
    ----------
    sigma_per_coc
        sigma_d / |c|. The default 1/4 matches the second moment of the uniform disk:
        <x^2> = R^2 / 4 for radius R = |c| / 2, so sigma = |c| / 4.
    sigma_min_px
        Defocus-independent blur sigma_m (residual aberrations, diffraction), pixels; it adds
        in quadrature: sigma = sqrt(sigma_d^2 + sigma_m^2).
    truncate
        Kernel half-width in standard deviations.
    dp_response
        Dual-pixel response for :meth:`kernel_pair`.
    name
        Label for reports.

    Notes
    -----
    The dual-pixel halves split the defocus part at the image of the split line and keep
    the floor whole (:func:`focuslab.optics.dual_pixel.gaussian_pair`); the ideal disparity
    is 2 sqrt(2/pi) sigma_d = 0.399 c with the default sigma_per_coc (pillbox: 0.424 c).
    """

    sigma_per_coc: float = 0.25
    sigma_min_px: float = 0.0
    truncate: float = DEFAULT_TRUNCATE
    dp_response: DualPixelResponse = field(default_factory=DualPixelResponse)
    name: str = "gaussian"

    def __post_init__(self) -> None:
        check_positive("sigma_per_coc", self.sigma_per_coc, allow_zero=True)
        check_positive("sigma_min_px", self.sigma_min_px, allow_zero=True)
        check_positive("truncate", self.truncate)
        _check_response(self.dp_response)

    @property
    def field_dependent(self) -> bool:
        """Only the dual-pixel split can vary with field (``split_shift_per_field``)."""
        return self.dp_response.split_shift_per_field != 0.0

    def _sigmas(self, c: float, spp: int) -> tuple[float, float]:
        return self.sigma_per_coc * abs(c) * spp, self.sigma_min_px * spp

    def kernel(self, coc_px, *, field_xy=(0.0, 0.0), samples_per_px=1) -> np.ndarray:
        """Gaussian PSF with sigma = sqrt((sigma_per_coc c)^2 + sigma_min^2), ``(k, k)``."""
        c, _, spp = _check_call(coc_px, field_xy, samples_per_px)
        sd, sm = self._sigmas(c, spp)
        return gaussian_kernel(math.hypot(sd, sm), truncate=self.truncate)

    def kernel_pair(self, coc_px, *, field_xy=(0.0, 0.0), samples_per_px=1):
        """Dual-pixel (left, right) Gaussian halves, ``(k, k)`` each (same k as :meth:`kernel`)."""
        c, fxy, spp = _check_call(coc_px, field_xy, samples_per_px)
        sd, sm = self._sigmas(c, spp)
        half = gaussian_half_width(math.hypot(sd, sm), self.truncate)
        return gaussian_pair(sd, sm, c * spp, self.dp_response, field_x=fxy[0], half_width=half)


def _check_spectra(spectra) -> tuple[ChannelSpectrum, ...]:
    spectra = tuple(spectra)
    if not spectra or not all(isinstance(s, ChannelSpectrum) for s in spectra):
        raise InvalidParameterError("spectra must be a non-empty sequence of ChannelSpectrum")
    return spectra


@dataclass(frozen=True)
class WavePsf:
    """Diffraction PSF of a circular pupil with defocus and Zernike aberrations, per channel.

    Parameters
    ----------
    f_number
        Working f-number N (>= 0.5).
    pixel_pitch_um
        Sensor pixel pitch, micrometres (the kernel pitch is pitch / samples_per_px).
    spectra
        One :class:`~focuslab.optics.psf_wave.ChannelSpectrum` per output channel
        (default :func:`~focuslab.optics.psf_wave.rgb_spectra`: R, G, B, 3 wavelengths each).
    zernike_um
        ``{Noll index or name: RMS coefficient, um}`` of the lens's static aberrations.
    dp_response
        Dual-pixel response: the whole PSF is shared between the photodiodes point by point
        in the ratio of the intensities of the pupil weighted by sqrt(w_L) and sqrt(w_R)
        (intensity weights w), see :func:`~focuslab.optics.psf_wave.wave_psf`.
    airy_radii
        Kernel margin beyond the geometric blur, in units of lambda N.
    coherent_halves
        If True, :meth:`kernel_pair` returns the PSFs of the two masked half-pupils
        themselves (the textbook model; their sum lacks the interference term, so it shows
        a dark fringe along the split and differs from the whole PSF). Default False: the
        energy-conserving partition of the whole PSF.
    name
        Label for reports.

    Notes
    -----
    Dual-pixel disparity: the partition tends to the geometric 4 c / (3 pi) for blur much
    larger than lambda N (0.94 of it at c = 27 lambda N, 0.83 at 9 lambda N, 0.59 at
    1.8 lambda N, measured in the tests); the coherent half-pupils keep the geometric
    centroids at every defocus (centroid = mean wavefront slope over the half pupil).

    Defocus: W020 = c / (8 N) um at the pupil edge with c = coc_px x pixel_pitch_um, so the
    geometric limit of the wave PSF is the pillbox of diameter c and positive c has the
    same meaning as in :mod:`focuslab.optics.focus`. Kernels are ``(C, k, k)``, one per
    channel, each summing to 1 (the ~2 % of Airy energy beyond the kernel is renormalised
    in). Results are cached (LRU) on the blur rounded to 1e-4 samples. For an ideal
    response left + right equals the whole PSF.
    """

    f_number: float
    pixel_pitch_um: float
    spectra: tuple[ChannelSpectrum, ...] = field(default_factory=rgb_spectra)
    zernike_um: Mapping | tuple = ()
    dp_response: DualPixelResponse = field(default_factory=DualPixelResponse)
    airy_radii: float = DEFAULT_AIRY_RADII
    coherent_halves: bool = False
    name: str = "wave"

    def __post_init__(self) -> None:
        n = check_positive("f_number", self.f_number)
        if n < 0.5:
            raise InvalidParameterError(f"f_number {n} is below 0.5, the limit of a lens in air; use >= 0.5")
        check_positive("pixel_pitch_um", self.pixel_pitch_um)
        check_positive("airy_radii", self.airy_radii)
        if not isinstance(self.coherent_halves, bool):
            raise InvalidParameterError(f"coherent_halves must be a bool, got {self.coherent_halves!r}")
        object.__setattr__(self, "spectra", _check_spectra(self.spectra))
        object.__setattr__(self, "zernike_um", check_zernike_terms(dict(self.zernike_um)))
        _check_response(self.dp_response)

    @property
    def field_dependent(self) -> bool:
        """Only the dual-pixel split can vary with field (``split_shift_per_field``)."""
        return self.dp_response.split_shift_per_field != 0.0

    @property
    def channel_names(self) -> tuple[str, ...]:
        """Names of the kernel's channels, in order."""
        return tuple(s.name for s in self.spectra)

    def wavefront_um(self, x, y, field_xy=(0.0, 0.0)) -> np.ndarray:
        """Static aberration wavefront (um) at pupil points, without the defocus of c."""
        return wavefront_um(x, y, zernike_um=dict(self.zernike_um))

    def kernel(self, coc_px, *, field_xy=(0.0, 0.0), samples_per_px=1) -> np.ndarray:
        """Per-channel PSFs ``(C, k, k)``, each summing to 1."""
        c, fxy, spp = _check_call(coc_px, field_xy, samples_per_px)
        return _wave_kernels(self, *_cache_key(c, fxy, spp, self.field_dependent), False)[0].copy()

    def kernel_pair(self, coc_px, *, field_xy=(0.0, 0.0), samples_per_px=1):
        """Dual-pixel (left, right) half-pupil PSFs, ``(C, k, k)`` each."""
        c, fxy, spp = _check_call(coc_px, field_xy, samples_per_px)
        left, right = _wave_kernels(self, *_cache_key(c, fxy, spp, True), True)
        return left.copy(), right.copy()


def _cache_key(c: float, fxy, spp: int, use_field: bool):
    cr = round(c * spp / COC_CACHE_STEP_SAMPLES) * COC_CACHE_STEP_SAMPLES
    if not use_field:
        return cr, (0.0, 0.0), spp
    fr = tuple(round(f / FIELD_CACHE_STEP) * FIELD_CACHE_STEP for f in fxy)
    return cr, fr, spp


@functools.lru_cache(maxsize=256)
def _wave_kernels(model, c_samples: float, fxy: tuple[float, float], spp: int, pair: bool):
    pitch = model.pixel_pitch_um / spp
    coc_um = c_samples * pitch
    resp = model.dp_response

    def amplitudes(n: int) -> np.ndarray:
        clear = circular_pupil(n)
        if not pair:
            return clear[None]
        w_left, w_right = dual_pixel_pupil_weights(n, resp, fxy[0])
        halves = [clear * np.sqrt(w_left)[None, :], clear * np.sqrt(w_right)[None, :]]
        return np.stack(halves if model.coherent_halves else [clear, *halves])

    psf = polychromatic_psf(
        amplitudes,
        lambda x, y: model.wavefront_um(x, y, fxy),
        coc_um=coc_um,
        spectra=model.spectra,
        f_number=model.f_number,
        sample_pitch_um=pitch,
        airy_radii=model.airy_radii,
        dual_pixel_partition=pair and not model.coherent_halves,
    )
    if not pair:
        whole = psf[:, 0]
        whole = whole / whole.sum(axis=(-2, -1), keepdims=True)
        whole.flags.writeable = False
        return (whole,)
    left, right = resp.mix(psf[:, 0], psf[:, 1])
    left.flags.writeable = False
    right.flags.writeable = False
    return left, right


@dataclass(frozen=True)
class FieldDependentPsf:
    """Wave PSF whose aberrations vary over the field: Seidel terms on top of :class:`WavePsf`.

    Parameters
    ----------
    f_number, pixel_pitch_um, spectra, zernike_um, dp_response, airy_radii, coherent_halves
        As :class:`WavePsf` (``zernike_um`` are field-independent aberrations).
    seidel
        :class:`~focuslab.optics.psf_field.SeidelAberrations`, coefficients at the frame
        corner (field curvature and astigmatism grow as h^2, coma as h, oriented by the
        field direction).
    name
        Label for reports.

    Notes
    -----
    ``kernel(coc_px, field_xy=...)`` adds W(field) of :mod:`focuslab.optics.psf_field` to
    the pupil; ``field_dependent`` is True, so the renderer blends kernels over a grid of
    field positions. Results are cached on the field rounded to 1e-4.
    """

    f_number: float
    pixel_pitch_um: float
    seidel: SeidelAberrations = field(default_factory=SeidelAberrations)
    spectra: tuple[ChannelSpectrum, ...] = field(default_factory=rgb_spectra)
    zernike_um: Mapping | tuple = ()
    dp_response: DualPixelResponse = field(default_factory=DualPixelResponse)
    airy_radii: float = DEFAULT_AIRY_RADII
    coherent_halves: bool = False
    name: str = "field-dependent wave"

    def __post_init__(self) -> None:
        WavePsf.__post_init__(self)  # same validation and normalisation of the shared fields
        if not isinstance(self.seidel, SeidelAberrations):
            raise InvalidParameterError(f"seidel must be SeidelAberrations, got {type(self.seidel).__name__}")

    @property
    def field_dependent(self) -> bool:
        """Always True: the PSF changes across the field."""
        return True

    channel_names = WavePsf.channel_names

    def wavefront_um(self, x, y, field_xy=(0.0, 0.0)) -> np.ndarray:
        """Static plus Seidel wavefront (um) at pupil points for the field point, without defocus."""
        return wavefront_um(x, y, zernike_um=dict(self.zernike_um)) + self.seidel.wavefront_um(x, y, field_xy)

    def kernel(self, coc_px, *, field_xy=(0.0, 0.0), samples_per_px=1) -> np.ndarray:
        """Per-channel PSFs ``(C, k, k)`` at ``field_xy``, each summing to 1."""
        c, fxy, spp = _check_call(coc_px, field_xy, samples_per_px)
        return _wave_kernels(self, *_cache_key(c, fxy, spp, True), False)[0].copy()

    def kernel_pair(self, coc_px, *, field_xy=(0.0, 0.0), samples_per_px=1):
        """Dual-pixel (left, right) half-pupil PSFs at ``field_xy``, ``(C, k, k)`` each."""
        c, fxy, spp = _check_call(coc_px, field_xy, samples_per_px)
        left, right = _wave_kernels(self, *_cache_key(c, fxy, spp, True), True)
        return left.copy(), right.copy()
