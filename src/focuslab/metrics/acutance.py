"""CPIQ acutance (IEEE 1858-2016): perceived sharpness of an SFR for a viewing condition.

Acutance weights a system SFR (MTF) by the human contrast sensitivity function (CSF) at the
angular frequencies where a viewer sees it, and normalises by the CSF's own integral, so a
perfect system scores 1 and a system passing nothing scores 0:

    A = int_0^nu_max SFR(nu) CSF(nu) dnu / int_0^nu_max CSF(nu) dnu,
    CSF(nu) = a nu^c exp(-b nu) / K,   nu in cycles/degree.

An image frequency ``f`` (cycles/pixel) becomes ``nu = f * pixels_per_degree``, where a
:class:`ViewingCondition` fixes how large an image pixel is on the display or print and how
far the viewer is. Named conditions live in a registry (:func:`get_viewing_condition`).

numpy/scipy only: SFR curves come in as plain arrays (e.g. from ``focuslab.metrics.sfr``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import integrate

from focuslab.errors import InvalidParameterError, check_finite, check_positive
from focuslab.registry import Registry

#: CPIQ luminance CSF constants (Baxter et al. 2012; IEEE 1858-2016, 5.4): a, b, c, K.
CSF_A = 75.0
CSF_B = 0.2  # degrees (per cycle/degree)
CSF_C = 0.8
CSF_K = 34.05
_MM_PER_INCH = 25.4
_QUADRATURE_POINTS = 4097  # odd: Simpson's rule on an even number of intervals
_MIN_UPPER_CPD = 8.0  # below twice the CSF peak frequency the truncated CSF integral misleads


def cpiq_csf(nu_cpd):
    """CPIQ contrast sensitivity function ``CSF(nu) = a nu^c exp(-b nu) / K``.

    Parameters
    ----------
    nu_cpd
        Spatial frequency at the eye, cycles/degree (>= 0), scalar or array.

    Returns
    -------
    numpy.ndarray or float
        Relative sensitivity (peak ~ 1.0 at ``nu = c / b = 4`` cycles/degree).

    Notes
    -----
    ``a = 75, b = 0.2, c = 0.8, K = 34.05`` (Baxter, Cao, Eliasson, Phillips, "Development
    of the I3A CPIQ spatial metrics", Proc. SPIE 8293, 829302 (2012), the luminance CSF;
    IEEE Std 1858-2016, 5.4 "Acutance calculation"). ``K`` only scales the curve, so it
    cancels in the acutance ratio.
    """
    nu = np.asarray(nu_cpd, dtype=np.float64)
    if np.any(nu < 0) or not np.all(np.isfinite(nu)):
        raise InvalidParameterError("nu_cpd must be finite and >= 0 (cycles/degree)")
    return CSF_A * nu**CSF_C * np.exp(-CSF_B * nu) / CSF_K


@dataclass(frozen=True)
class ViewingCondition:
    """How an image is viewed: its pixel size on the display or print, and the distance.

    Give exactly one of ``display_pixel_pitch_mm`` (the image shown at 100 %: one image
    pixel per display pixel) or ``picture_height_mm`` (the image scaled so that its height
    fills this many mm; the image height in pixels is then needed to size a pixel).

    Attributes
    ----------
    name
        Registry name.
    viewing_distance_mm
        Eye to display or print, mm.
    display_pixel_pitch_mm
        Display pixel pitch for 100 % viewing, mm (e.g. 0.254 mm = 100 ppi).
    picture_height_mm
        Displayed or printed picture height, mm.
    description
        One line on where the numbers come from.
    """

    name: str
    viewing_distance_mm: float
    display_pixel_pitch_mm: float | None = None
    picture_height_mm: float | None = None
    description: str = ""

    def __post_init__(self) -> None:
        check_positive("viewing_distance_mm", self.viewing_distance_mm)
        if (self.display_pixel_pitch_mm is None) == (self.picture_height_mm is None):
            raise InvalidParameterError(
                "give exactly one of display_pixel_pitch_mm (100 % view) or picture_height_mm (scaled to a height)"
            )
        if self.display_pixel_pitch_mm is not None:
            check_positive("display_pixel_pitch_mm", self.display_pixel_pitch_mm)
        if self.picture_height_mm is not None:
            check_positive("picture_height_mm", self.picture_height_mm)

    @property
    def needs_image_height(self) -> bool:
        """True when the pixel size depends on the image height in pixels."""
        return self.picture_height_mm is not None

    def image_pixel_pitch_mm(self, image_height_px: float | None = None) -> float:
        """Size of one image pixel as viewed, mm."""
        if self.display_pixel_pitch_mm is not None:
            return float(self.display_pixel_pitch_mm)
        if image_height_px is None:
            raise InvalidParameterError(
                f"viewing condition {self.name!r} scales the picture to {self.picture_height_mm} mm high; "
                "pass image_height_px (the full image height in pixels)"
            )
        return float(self.picture_height_mm) / check_positive("image_height_px", image_height_px)

    def pixels_per_degree(self, image_height_px: float | None = None) -> float:
        """Image pixels per degree of visual angle on the line of sight.

        ``pi d / (180 p)``: one degree subtends ``d pi / 180`` mm at distance ``d`` (small
        angle, as in Burns' CPIQ ``csf1`` conversion ``fac = pi vd / (180 dx)``).
        """
        return math.pi * self.viewing_distance_mm / (180.0 * self.image_pixel_pitch_mm(image_height_px))


VIEWING_CONDITIONS: Registry[ViewingCondition] = Registry("viewing condition")


def register_viewing_condition(condition: ViewingCondition) -> ViewingCondition:
    """Add ``condition`` to the registry under its name (refuses duplicates)."""
    return VIEWING_CONDITIONS.register(condition.name)(condition)


def get_viewing_condition(name: str) -> ViewingCondition:
    """The registered viewing condition ``name`` (a wrong name lists the valid ones)."""
    return VIEWING_CONDITIONS.get(name)


def viewing_condition_names() -> list[str]:
    """Registered viewing-condition names."""
    return VIEWING_CONDITIONS.names()


def _tv_height_mm(diagonal_inch: float, aspect: float = 16.0 / 9.0) -> float:
    return diagonal_inch * _MM_PER_INCH / math.hypot(aspect, 1.0)


#: Default viewing condition (CPIQ's computer monitor at 100 %).
DEFAULT_VIEWING = "monitor_100pct"

for _vc in (
    ViewingCondition(
        "monitor_100pct", 600.0, display_pixel_pitch_mm=_MM_PER_INCH / 100.0,
        description="CPIQ default: 100 ppi monitor, image at 100 %, viewed from 60 cm (Baxter et al. 2012; "
        "Burns' csf1 defaults)",
    ),
    ViewingCondition(
        "monitor_24in_1080p", 600.0, display_pixel_pitch_mm=_tv_height_mm(24.0) / 1080.0,
        description="24-inch 1920 x 1080 monitor (0.277 mm pitch), image at 100 %, viewed from 60 cm",
    ),
    ViewingCondition(
        "uhd_tv_55in", 1.5 * _tv_height_mm(55.0), picture_height_mm=_tv_height_mm(55.0),
        description="55-inch 16:9 4K UHD TV, picture fills the screen height (685 mm), viewed from 1.5 picture "
        "heights (ITU-R BT.2246 design distance for 3840 x 2160)",
    ),
    ViewingCondition(
        "print_4x6in", 254.0, picture_height_mm=4.0 * _MM_PER_INCH,
        description="4 x 6 inch print (landscape, 101.6 mm high) at 25.4 cm, the conventional near reading distance",
    ),
    ViewingCondition(
        "print_8x10in", 254.0, picture_height_mm=8.0 * _MM_PER_INCH,
        description="8 x 10 inch print (landscape, 203.2 mm high) at 25.4 cm, the depth-of-field convention",
    ),
):
    register_viewing_condition(_vc)


def _resolve(viewing: str | ViewingCondition) -> ViewingCondition:
    if isinstance(viewing, ViewingCondition):
        return viewing
    return get_viewing_condition(viewing)


def cycles_per_degree(f_cpp, viewing: str | ViewingCondition = DEFAULT_VIEWING, *, image_height_px=None):
    """Image frequency (cycles/pixel) to frequency at the eye (cycles/degree).

    ``nu = f * pixels_per_degree`` with ``pixels_per_degree = pi d / (180 p)`` for viewing
    distance ``d`` and viewed pixel size ``p`` (see :class:`ViewingCondition`).
    """
    vc = _resolve(viewing)
    return np.multiply(f_cpp, vc.pixels_per_degree(image_height_px))


@dataclass(frozen=True)
class AcutanceResult:
    """CPIQ acutance of one SFR for one viewing condition.

    Attributes
    ----------
    acutance
        CSF-weighted mean SFR (1 = perfect; above 1 for a sharpened SFR above 1).
    viewing
        Name of the viewing condition.
    pixels_per_degree
        Image pixels per degree of visual angle.
    upper_frequency_cpp, upper_frequency_cpd
        Upper integration limit, cycles/pixel and cycles/degree.
    warnings
        Caveats (SFR shorter than the limit, SFR above 1, negative values...).
    """

    acutance: float
    viewing: str
    pixels_per_degree: float
    upper_frequency_cpp: float
    upper_frequency_cpd: float
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return {
            "acutance": float(self.acutance),
            "viewing": self.viewing,
            "pixels_per_degree": float(self.pixels_per_degree),
            "upper_frequency_cpp": float(self.upper_frequency_cpp),
            "upper_frequency_cpd": float(self.upper_frequency_cpd),
            "warnings": list(self.warnings),
        }


def _check_curve(frequencies_cpp, sfr) -> tuple[np.ndarray, np.ndarray]:
    f = np.asarray(frequencies_cpp, dtype=np.float64)
    s = np.asarray(sfr, dtype=np.float64)
    if f.ndim != 1 or s.shape != f.shape or f.size < 2:
        raise InvalidParameterError(
            f"frequencies_cpp and sfr must be 1-D arrays of the same length >= 2, got {f.shape} and {s.shape}"
        )
    if not (np.all(np.isfinite(f)) and np.all(np.isfinite(s))):
        raise InvalidParameterError("frequencies_cpp and sfr must be finite (no NaN or inf); check the SFR measurement")
    if f[0] < 0 or np.any(np.diff(f) <= 0):
        raise InvalidParameterError("frequencies_cpp must be >= 0 and strictly increasing (cycles/pixel)")
    return f, s


def acutance(
    frequencies_cpp,
    sfr,
    viewing: str | ViewingCondition = DEFAULT_VIEWING,
    *,
    image_height_px: float | None = None,
    max_frequency_cpp: float = 0.5,
) -> AcutanceResult:
    """CPIQ acutance of an SFR curve for a viewing condition.

    Parameters
    ----------
    frequencies_cpp
        Increasing frequencies of the SFR samples, cycles/pixel (>= 0).
    sfr
        SFR (MTF) at those frequencies, normalised to 1 at zero frequency.
    viewing
        A registered name (see :func:`viewing_condition_names`) or a :class:`ViewingCondition`.
    image_height_px
        Full image height in pixels; needed by conditions that scale the picture to a height.
    max_frequency_cpp
        Upper integration limit in cycles/pixel (default 0.5: the image's Nyquist frequency,
        beyond which a sampled SFR holds only aliased signal).

    Returns
    -------
    AcutanceResult

    Raises
    ------
    InvalidParameterError
        Malformed or non-finite curve, bad limit, missing ``image_height_px``.
    UnknownNameError
        Unknown viewing-condition name (the message lists the valid ones).

    Notes
    -----
    ``A = int_0^f_max SFR(f) CSF(k f) df / int_0^f_max CSF(k f) df`` with ``k`` the pixels
    per degree; this equals the integral over cycles/degree ``nu = k f`` up to ``k f_max``
    (the Jacobian ``k`` cancels) [1]_, [2]_. The SFR is interpolated linearly onto 4097
    points and both integrals use Simpson's rule. Both integrals stop at the same limit, so
    an SFR equal to 1 up to it scores exactly 1 whatever the enlargement; when the limit
    maps below 8 cy/deg (twice the CSF peak) a warning says the picture is enlarged beyond
    what its pixels resolve. An SFR ending below ``f_max`` is
    integrated up to its last sample only (with a warning); before its first sample it is
    held at its first value.

    References
    ----------
    .. [1] IEEE Std 1858-2016, "IEEE Standard for Camera Phone Image Quality", 5.4
       (acutance from the SFR and the CSF for a viewing condition).
    .. [2] D. Baxter, F. Cao, H. Eliasson, J. Phillips, "Development of the I3A CPIQ
       spatial metrics", Proc. SPIE 8293 (2012) 829302.
    """
    f, s = _check_curve(frequencies_cpp, sfr)
    vc = _resolve(viewing)
    f_max = check_positive("max_frequency_cpp", max_frequency_cpp)
    k = vc.pixels_per_degree(image_height_px)
    warnings: list[str] = []
    if f[-1] < f_max * (1.0 - 1e-9):
        warnings.append(
            f"the SFR stops at {f[-1]:.3g} cy/px, below the integration limit {f_max:.3g} cy/px: "
            "acutance is computed up to the last sample only"
        )
        f_max = float(f[-1])
    if f[0] > 0.02:
        warnings.append(f"the SFR starts at {f[0]:.3g} cy/px; its first value is held down to 0")
    if np.max(s) > 1.05:
        warnings.append("the SFR exceeds 1.05 (sharpening): acutance can exceed 1")
    if k * f_max < _MIN_UPPER_CPD:
        warnings.append(
            f"the integration limit is only {k * f_max:.3g} cy/deg (CSF peak at 4): the picture is enlarged beyond "
            "what its pixels resolve, so acutance compares against a truncated CSF; check image_height_px"
        )
    if np.min(s) < -0.05:
        warnings.append("the SFR has negative values (phase reversal or noise)")
    grid = np.linspace(0.0, f_max, _QUADRATURE_POINTS)
    weight = cpiq_csf(k * grid)
    num = integrate.simpson(np.interp(grid, f, s) * weight, x=grid)
    den = integrate.simpson(weight, x=grid)
    return AcutanceResult(
        acutance=float(num / den),
        viewing=vc.name,
        pixels_per_degree=float(k),
        upper_frequency_cpp=float(f_max),
        upper_frequency_cpd=float(k * f_max),
        warnings=tuple(warnings),
    )


def acutance_for_conditions(
    frequencies_cpp,
    sfr,
    viewings=None,
    *,
    image_height_px: float | None = None,
    max_frequency_cpp: float = 0.5,
) -> dict[str, AcutanceResult]:
    """Acutance for several viewing conditions (default: every registered one that applies).

    Conditions that need ``image_height_px`` are skipped when it is not given and
    ``viewings`` is None; named explicitly without it, they raise.
    """
    if viewings is None:
        names = [n for n in viewing_condition_names()
                 if image_height_px is not None or not get_viewing_condition(n).needs_image_height]
    else:
        names = list(viewings)
    check_finite("max_frequency_cpp", max_frequency_cpp)
    return {
        (v.name if isinstance(v, ViewingCondition) else v): acutance(
            frequencies_cpp, sfr, v, image_height_px=image_height_px, max_frequency_cpp=max_frequency_cpp
        )
        for v in names
    }
