"""Photometry: scene illuminance and optics -> mean photons per pixel per colour band.

A white Lambertian diffuser (reflectance rho = 1) under illuminance ``E_v`` has luminance
``L = rho E_v / pi``; a lens of f-number N and transmission T focused at magnification m puts
on axis the image-plane illuminance (camera equation)::

    E_img = pi L T / (4 N^2 (1 + m)^2) = E_v rho T / (4 N^2 (1 + m)^2)       [lux]

times ``cos^4(theta)`` off axis. A pixel of pitch p integrating for t seconds receives
``E_img * t * p^2 * PHOTONS_PER_LUX_S_M2`` photons, split over colour bands in the
proportions ``BAND_FRACTIONS``.

The photon constant is that of CIE illuminant D65 over 380-780 nm:
``PHOTONS_PER_LUX_S_M2 = sum(S(l) l / (h c)) / (K_m sum(S(l) V(l)))`` with ``S`` the D65
relative SPD, ``V`` the CIE 1924 photopic luminous efficiency (= CIE 1931 y-bar),
``K_m = 683 lm/W``, on the 5 nm grid 380..780 nm. The R/G/B bands are B = [380, 490),
G = [490, 580), R = [580, 780] nm; ``BAND_FRACTIONS`` are their shares of the photons.
:func:`derive_photon_constants` recomputes both from colour-science's tables (the tests check
the hard-coded values against it).

References
----------
CIE 015:2018 Colorimetry, 4th ed. (D65 SPD, V(lambda), K_m = 683 lm/W).
ISO 12232:2019, Annex / ISO 2720: the camera equation E_img = pi L T / (4 N^2).
ISETCam ``oiCalculateIrradiance`` (the same relation, Farrell et al.).
"""

from __future__ import annotations

import numpy as np

from focuslab.errors import InvalidParameterError, check_positive
from focuslab.units import um_to_m

#: Photons per second per square metre per lux for CIE D65, 380-780 nm (see module notes).
PHOTONS_PER_LUX_S_M2 = 1.40060282064e16

#: Shares of the D65 photons in the R [580, 780], G [490, 580) and B [380, 490) nm bands.
BAND_FRACTIONS = (0.522830420265, 0.248812834933, 0.228356744803)

#: Round-off below zero (FFT convolution in the renderer) accepted and clipped to 0, relative units.
NEGATIVE_TOLERANCE = 1e-6

#: Maximum luminous efficacy of photopic vision, lm/W (CIE 015:2018).
K_M_LM_PER_W = 683.0
_PLANCK_J_S = 6.62607015e-34
_LIGHT_SPEED_M_PER_S = 299792458.0
_BANDS_NM = ((580.0, 781.0), (490.0, 580.0), (380.0, 490.0))


def derive_photon_constants(illuminant: str = "D65") -> tuple[float, tuple[float, float, float]]:
    """Photons per (lux s m^2) and R, G, B band fractions of a CIE illuminant.

    Parameters
    ----------
    illuminant
        Name of an illuminant in ``colour.SDS_ILLUMINANTS`` (e.g. ``"D65"``, ``"A"``).

    Returns
    -------
    photons_per_lux_s_m2, band_fractions
        The constant and the (R, G, B) photon shares, on the 5 nm grid 380..780 nm.

    Raises
    ------
    UnknownNameError
        When the illuminant is not in colour-science's table (the message lists them).

    Notes
    -----
    ``N = sum S(l) l / (h c) / (K_m sum S(l) V(l))`` (CIE 015:2018 Eq. 7.1 for the
    photometric quantity; photon energy h c / l).
    """
    import colour

    from focuslab.errors import UnknownNameError

    if illuminant not in colour.SDS_ILLUMINANTS:
        raise UnknownNameError(
            f"unknown illuminant {illuminant!r}; valid names: {', '.join(sorted(colour.SDS_ILLUMINANTS))}"
        )
    wl_nm = np.arange(380.0, 781.0, 5.0)
    spd = colour.SDS_ILLUMINANTS[illuminant].copy().align(colour.SpectralShape(380, 780, 5))
    v = colour.colorimetry.SDS_LEFS_PHOTOPIC["CIE 1924 Photopic Standard Observer"]
    s = spd[wl_nm]
    photons = s * wl_nm * 1e-9 / (_PLANCK_J_S * _LIGHT_SPEED_M_PER_S)
    constant = float(photons.sum() / (K_M_LM_PER_W * np.sum(s * v[wl_nm])))
    total = photons.sum()
    fractions = tuple(float(photons[(wl_nm >= lo) & (wl_nm < hi)].sum() / total) for lo, hi in _BANDS_NM)
    return constant, fractions  # type: ignore[return-value]


def image_plane_illuminance_lux(
    illuminance_lux: float,
    *,
    f_number: float,
    transmission: float = 1.0,
    magnification: float = 0.0,
) -> float:
    """On-axis image-plane illuminance of a white Lambertian diffuser, lux.

    ``E_img = E_v T / (4 N^2 (1 + m)^2)`` (camera equation, ISO 12232; reflectance 1).
    """
    e_v = check_positive("illuminance_lux", illuminance_lux, allow_zero=True)
    n = check_positive("f_number", f_number)
    t = check_positive("transmission", transmission)
    if t > 1.0:
        raise InvalidParameterError(f"transmission must be in (0, 1], got {t}")
    m = check_positive("magnification", magnification, allow_zero=True)
    return e_v * t / (4.0 * n * n * (1.0 + m) ** 2)


def photons_per_pixel(
    relative_irradiance: np.ndarray,
    *,
    illuminance_lux: float,
    f_number: float,
    pixel_pitch_um: float,
    exposure_s: float,
    transmission: float = 1.0,
    magnification: float = 0.0,
    field_angle_deg: float | np.ndarray | None = None,
) -> np.ndarray:
    """Mean photons reaching each pixel, per colour band, during an exposure.

    Parameters
    ----------
    relative_irradiance
        ``H x W x C`` (C = 1 or 3) or ``H x W`` relative image irradiance, finite and >= 0
        (round-off down to ``-NEGATIVE_TOLERANCE`` is clipped to 0):
        1.0 is a white Lambertian diffuser in focus (the renderer's ``OpticalImage``). With
        C = 3 the channels are the R, G, B bands; with C = 1 the whole 380-780 nm band.
    illuminance_lux
        Scene illuminance on the diffuser, lux (>= 0).
    f_number
        Working f-number N at infinity focus (> 0).
    pixel_pitch_um
        Pixel pitch p, micrometres (> 0); the pixel's light-collecting area is ``p^2``
        (microlenses give 100 % fill factor).
    exposure_s
        Integration time, seconds (>= 0).
    transmission
        Lens transmission T in (0, 1].
    magnification
        Lateral magnification m >= 0 (0 at infinity focus); the working f-number is N (1 + m).
    field_angle_deg
        Chief-ray angle of each pixel in object space, degrees (scalar or ``H x W``), for
        ``cos^4`` relative illumination; None = on axis everywhere.

    Returns
    -------
    numpy.ndarray
        Mean photons, same shape as the input (``H x W`` in -> ``H x W`` out), float32 for a
        float32 input, else float64.

    Raises
    ------
    InvalidParameterError
        On NaN/inf/negative irradiance, a wrong shape, or a parameter out of range.

    Notes
    -----
    ``photons[..., c] = r[..., c] * E_img * cos^4(theta) * t * p^2 * N_D65 * f_c`` with
    ``f_c`` = ``BAND_FRACTIONS[c]`` for C = 3 and 1 for C = 1 (module notes for ``E_img`` and
    ``N_D65``). The cos^4 law: Slater, *Photogrammetric Engineering* (1960); ISETCam
    ``opticsCos4th``.
    """
    r = np.asarray(relative_irradiance)
    if r.ndim not in (2, 3) or (r.ndim == 3 and r.shape[2] not in (1, 3)):
        raise InvalidParameterError(
            f"relative_irradiance must be H x W or H x W x C with C = 1 or 3, got shape {r.shape}"
        )
    if not np.issubdtype(r.dtype, np.number) or np.iscomplexobj(r):
        raise InvalidParameterError(f"relative_irradiance must be real numbers, got dtype {r.dtype}")
    if not np.all(np.isfinite(r)):
        raise InvalidParameterError("relative_irradiance contains NaN or inf; pass finite values")
    if np.any(r < -NEGATIVE_TOLERANCE):
        raise InvalidParameterError("relative_irradiance contains negative values; clip it to >= 0 first")
    e_img = image_plane_illuminance_lux(
        illuminance_lux, f_number=f_number, transmission=transmission, magnification=magnification
    )
    pitch_m = float(um_to_m(check_positive("pixel_pitch_um", pixel_pitch_um)))
    t_s = check_positive("exposure_s", exposure_s, allow_zero=True)
    scale = e_img * t_s * pitch_m * pitch_m * PHOTONS_PER_LUX_S_M2
    out_dtype = np.float32 if r.dtype == np.float32 else np.float64
    out = np.maximum(r.astype(np.float64), 0.0) * scale
    if r.ndim == 3 and r.shape[2] == 3:
        out = out * np.asarray(BAND_FRACTIONS)
    if field_angle_deg is not None:
        theta = np.asarray(field_angle_deg, dtype=np.float64)
        if theta.ndim not in (0, 2) or (theta.ndim == 2 and theta.shape != r.shape[:2]):
            raise InvalidParameterError(
                f"field_angle_deg must be a scalar or an H x W map {r.shape[:2]}, got shape {theta.shape}"
            )
        if not np.all(np.isfinite(theta)) or np.any(np.abs(theta) >= 90.0):
            raise InvalidParameterError("field_angle_deg must be finite and within (-90, 90) degrees")
        cos4 = np.cos(np.deg2rad(theta)) ** 4
        out = out * (cos4[..., None] if (r.ndim == 3 and theta.ndim == 2) else cos4)
    return out.astype(out_dtype, copy=False)
