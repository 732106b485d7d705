"""Texture MTF on a dead-leaves chart, with noise power subtracted (ISO 19567-2, IEEE 1858).

A dead-leaves chart is a scale-invariant random texture whose power spectral density (PSD)
is known. The camera's texture transfer is the square root of the PSD it delivers over the
PSD the chart holds, after the noise PSD (measured on a uniform grey patch of the same
capture) is taken out:

    MTF_tex(f) = sqrt( (PSD_image(f) - PSD_noise(f)) / PSD_chart(f) ),

all PSDs radially averaged over annuli of ``|f|``. The chart PSD comes either from the
digital reference of the chart (the file that was printed or displayed, registered to the
capture: ``reference=``) or from the analytic power-law model ``PSD_chart(f) = A f^-beta``
fitted at low frequencies, where the camera is assumed to pass the texture unchanged.

numpy/scipy only; the chart generator for tests is ``focuslab.scene.textures.dead_leaves``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from focuslab.errors import InvalidParameterError, check_positive
from focuslab.metrics.acutance import DEFAULT_VIEWING, ViewingCondition, acutance
from focuslab.metrics.noise import as_float_image, power_spectral_density, radial_average, remove_plane

#: Rec. ITU-R BT.709 luminance weights of linear RGB.
_LUMA_709 = np.array([0.2126, 0.7152, 0.0722])
#: Plausible exponent range of a dead-leaves chart PSD (Cao et al. 2010: close to 2).
_BETA_RANGE = (1.5, 2.5)


@dataclass(frozen=True)
class TextureMtfResult:
    """Texture MTF of a dead-leaves ROI.

    Attributes
    ----------
    frequencies_cpp
        Annulus centres (mean ``|f|``), cycles/pixel, up to ``max_frequency_cpp``.
    mtf
        Texture MTF at those frequencies (0 where the noise exceeds the image PSD).
    psd_image, psd_noise, psd_chart
        Radially averaged PSDs, (input units)^2 x pixel^2 (``psd_noise`` is 0 when no noise
        was given); ``psd_chart`` is scaled to the capture (see ``chart_model``).
    mtf50_cpp, mtf10_cpp
        First frequencies where the MTF falls to 0.5 and 0.1 (linear interpolation); NaN
        when it stays above.
    mtf50_lw_ph
        ``mtf50_cpp`` in line widths per picture height (``2 f H``) when ``image_height_px``
        was given, else NaN.
    chart_model
        ``"reference"`` (digital chart supplied) or ``"power_law"`` (fitted ``A f^-beta``).
    chart_exponent
        Fitted or given ``beta`` of the power law; NaN with a reference.
    acutance
        CPIQ texture acutance of the MTF for ``viewing`` (see :mod:`focuslab.metrics.acutance`).
    viewing
        Viewing condition of ``acutance``.
    warnings
        Caveats (no noise patch, noise above signal, implausible chart exponent...).
    """

    frequencies_cpp: np.ndarray
    mtf: np.ndarray
    psd_image: np.ndarray
    psd_noise: np.ndarray
    psd_chart: np.ndarray
    mtf50_cpp: float
    mtf10_cpp: float
    mtf50_lw_ph: float
    chart_model: str
    chart_exponent: float
    acutance: float
    viewing: str
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """JSON-ready dict (arrays as lists, NaN as None)."""

        def num(x: float):
            return float(x) if np.isfinite(x) else None

        return {
            "frequencies_cpp": self.frequencies_cpp.tolist(),
            "mtf": self.mtf.tolist(),
            "psd_image": self.psd_image.tolist(),
            "psd_noise": self.psd_noise.tolist(),
            "psd_chart": self.psd_chart.tolist(),
            "mtf50_cpp": num(self.mtf50_cpp),
            "mtf10_cpp": num(self.mtf10_cpp),
            "mtf50_lw_ph": num(self.mtf50_lw_ph),
            "chart_model": self.chart_model,
            "chart_exponent": num(self.chart_exponent),
            "acutance": num(self.acutance),
            "viewing": self.viewing,
            "warnings": list(self.warnings),
        }


def _luminance(arr: np.ndarray, name: str) -> np.ndarray:
    if arr.ndim == 2:
        return arr
    if arr.shape[2] == 1:
        return arr[..., 0]
    if arr.shape[2] == 3:
        return arr @ _LUMA_709
    raise InvalidParameterError(f"{name} must be H x W, H x W x 1 or H x W x 3 (linear RGB), got shape {arr.shape}")


def _radial_psd(patch, window: str, max_f: float, step, *, detrend: bool) -> tuple[np.ndarray, np.ndarray]:
    p = remove_plane(patch) if detrend else patch
    return radial_average(power_spectral_density(p, window=window), max_frequency_cpp=max_f, step_cpp=step)


def crossing_frequency(frequencies_cpp: np.ndarray, mtf: np.ndarray, level: float) -> float:
    """First frequency where ``mtf`` falls to ``level`` (linear interpolation); NaN if never."""
    below = np.nonzero(mtf <= level)[0]
    if below.size == 0:
        return float("nan")
    i = int(below[0])
    if i == 0:
        return float(frequencies_cpp[0])
    f0, f1, m0, m1 = frequencies_cpp[i - 1], frequencies_cpp[i], mtf[i - 1], mtf[i]
    return float(f0 + (m0 - level) * (f1 - f0) / (m0 - m1))


def _fit_power_law(f, psd, fit_range, beta):
    lo, hi = fit_range
    sel = (f >= lo) & (f <= hi) & (psd > 0)
    if np.count_nonzero(sel) < 3:
        raise InvalidParameterError(
            f"fewer than 3 frequencies in fit_range_cpp={fit_range} have image power above the noise power; "
            "use a larger or less noisy ROI, widen the range, or supply reference="
        )
    x, y = np.log(f[sel]), np.log(psd[sel])
    if beta is None:
        beta = -float(np.polyfit(x, y, 1)[0])
    # Amplitude as a plain mean of PSD * f^beta: unbiased for the exponentially distributed
    # periodogram, unlike a mean of logarithms.
    return float(np.mean(psd[sel] * f[sel] ** beta)), float(beta)


def texture_mtf(
    image,
    *,
    reference=None,
    noise_patch=None,
    chart_exponent: float | None = None,
    fit_range_cpp: tuple[float, float] = (0.01, 0.05),
    window: str = "hann",
    max_frequency_cpp: float = 0.5,
    bin_width_cpp: float | None = None,
    viewing: str | ViewingCondition = DEFAULT_VIEWING,
    image_height_px: float | None = None,
) -> TextureMtfResult:
    """Texture MTF of a captured dead-leaves ROI, noise power subtracted.

    Parameters
    ----------
    image
        The dead-leaves ROI of the capture, ``H x W`` or ``H x W x 3`` (linear RGB, reduced
        to BT.709 luminance), linear light, black level removed, at least 8 x 8 px.
    reference
        The digital chart registered to the ROI (same field of view, same pixel grid;
        any size, since PSDs are densities): its PSD is the chart PSD, scaled by
        ``(mean(image) / mean(reference))^2`` (exposure gain of a linear capture). None
        fits the power law instead.
    noise_patch
        A uniform grey patch of the same capture (same processing), 2-D or RGB. Its PSD
        (plane-detrended) is subtracted. None: no subtraction (the MTF is then biased high
        where noise power is comparable to texture power; a warning says so).
    chart_exponent
        Power-law model only: the chart's known exponent ``beta`` (``PSD ∝ f^-beta``);
        None fits it.
    fit_range_cpp
        Power-law model only: frequency range (cycles/pixel) of the fit, where the camera
        MTF must still be close to 1.
    window
        ``"hann"`` (default) or ``"none"``: window applied before every PSD.
    max_frequency_cpp
        Highest frequency reported (<= 0.5).
    bin_width_cpp
        Width of the frequency annuli, cycles/pixel (default ``1 / min(H, W)``, the DFT
        step). Wider annuli average more samples: a single chart realisation's PSD
        fluctuates by about ``1 / sqrt(samples per annulus)``, which the power-law model
        (unlike a reference chart) does not cancel.
    viewing, image_height_px
        Viewing condition (and full image height in pixels, for conditions scaled to a
        height, and for ``mtf50_lw_ph``) of the texture acutance in the result.

    Returns
    -------
    TextureMtfResult

    Raises
    ------
    InvalidParameterError
        Bad shapes, NaN/inf, too small ROI, bad window or frequency range, flat chart.

    Notes
    -----
    PSDs are periodograms ``|DFT(w (x - mean_w))|^2 / sum(w^2)`` (window ``w``), averaged
    over annuli ``1/min(H, W)`` wide; with a density normalisation they do not depend on
    the patch size, so a noise patch smaller than the ROI is interpolated onto the ROI's
    frequencies. ``MTF_tex = sqrt(max(PSD_image - PSD_noise, 0) / PSD_chart)`` [1]_, [2]_;
    noise power subtraction as in McElvain et al. [3]_. With the power-law model, ``A``
    (and ``beta`` if not given) come from a least-squares line through
    ``log(PSD_image - PSD_noise)`` versus ``log f`` on ``fit_range_cpp``, which assumes
    ``MTF = 1`` there: a strongly blurred capture (MTF < 0.95 at 0.05 cy/px) is then
    under-corrected, and a reference chart is the accurate choice.

    References
    ----------
    .. [1] F. Cao, F. Guichard, H. Hornung, "Dead leaves model for measuring texture quality
       on a digital camera", Proc. SPIE 7537 (2010) 75370E.
    .. [2] ISO 19567-2:2019, "Photography - Digital cameras - Texture reproduction
       measurements - Part 2: Measurements using a texture chart"; IEEE Std 1858-2016,
       clause on texture blur.
    .. [3] J. McElvain, S. P. Campbell, J. Miller, E. W. Jin, "Texture-based measurement of
       spatial frequency response using the dead leaves target: extensions, and application
       to real camera systems", Proc. SPIE 7537 (2010) 75370D.
    """
    img = _luminance(as_float_image(image, "image"), "image")
    dtype = np.float32 if np.asarray(image).dtype == np.float32 else np.float64
    max_f = check_positive("max_frequency_cpp", max_frequency_cpp)
    if max_f > 0.5:
        raise InvalidParameterError(f"max_frequency_cpp must be <= 0.5 (Nyquist), got {max_frequency_cpp!r}")
    if window not in ("hann", "none"):
        raise InvalidParameterError(f"window must be 'hann' or 'none', got {window!r}")
    warnings: list[str] = []
    if bin_width_cpp is not None:
        check_positive("bin_width_cpp", bin_width_cpp)
    step = bin_width_cpp
    f, psd_img = _radial_psd(img, window, max_f, step, detrend=False)

    if noise_patch is not None:
        npatch = _luminance(as_float_image(noise_patch, "noise_patch"), "noise_patch")
        fn, psd_n = _radial_psd(npatch, window, max_f, step, detrend=True)
        psd_noise = np.interp(f, fn, psd_n)
        if min(npatch.shape) < min(img.shape) / 4:
            warnings.append("the noise patch is much smaller than the ROI: its PSD is coarse and interpolated")
    else:
        psd_noise = np.zeros_like(psd_img)
        warnings.append("no noise patch: noise power is not subtracted, so the MTF is biased high where noise matters")
    signal = psd_img - psd_noise

    if reference is not None:
        ref = _luminance(as_float_image(reference, "reference"), "reference")
        fr, psd_r = _radial_psd(ref, window, max_f, step, detrend=False)
        mean_ref = float(ref.mean())
        if mean_ref <= 0 or float(img.mean()) <= 0:
            raise InvalidParameterError("image and reference must have positive means (linear light, black removed)")
        gain = float(img.mean()) / mean_ref
        psd_chart = gain**2 * np.interp(f, fr, psd_r)
        model, beta = "reference", float("nan")
    else:
        lo, hi = (float(v) for v in fit_range_cpp)
        if not 0 < lo < hi <= max_f:
            raise InvalidParameterError(f"fit_range_cpp must satisfy 0 < low < high <= {max_f}, got {fit_range_cpp!r}")
        if chart_exponent is not None:
            check_positive("chart_exponent", chart_exponent)
        amp, beta = _fit_power_law(f, signal, (lo, hi), chart_exponent)
        psd_chart = amp * f**-beta
        model = "power_law"
        if chart_exponent is None and not _BETA_RANGE[0] <= beta <= _BETA_RANGE[1]:
            warnings.append(
                f"fitted chart exponent {beta:.2f} is outside {_BETA_RANGE}: is the ROI a dead-leaves chart? "
                "supply reference= or chart_exponent="
            )
    if not np.all(psd_chart > 0):
        raise InvalidParameterError("the chart PSD is zero at some frequency: the reference is flat; check the ROI")

    negative = signal <= 0
    if np.any(negative):
        warnings.append(
            f"noise power exceeds the image power from {f[np.argmax(negative)]:.3g} cy/px: the MTF is set to 0 there"
        )
    mtf = np.sqrt(np.maximum(signal, 0.0) / psd_chart)
    low = mtf[f <= 0.02]
    if model == "reference" and low.size and abs(float(np.mean(low)) - 1.0) > 0.1:
        warnings.append(
            f"texture MTF at low frequency is {float(np.mean(low)):.2f}, not ~1: is the reference registered "
            "to the ROI and the capture linear?"
        )
    # Below the power-law fit range the model is extrapolated: MTF crossings are searched above it.
    f_start = float(fit_range_cpp[0]) if model == "power_law" else 0.0
    mtf50 = crossing_frequency(f[f >= f_start], mtf[f >= f_start], 0.5)
    acu = acutance(f, mtf, viewing, image_height_px=image_height_px, max_frequency_cpp=float(f[-1]))
    return TextureMtfResult(
        frequencies_cpp=f.astype(dtype),
        mtf=mtf.astype(dtype),
        psd_image=psd_img.astype(dtype),
        psd_noise=psd_noise.astype(dtype),
        psd_chart=psd_chart.astype(dtype),
        mtf50_cpp=mtf50,
        mtf10_cpp=crossing_frequency(f[f >= f_start], mtf[f >= f_start], 0.1),
        mtf50_lw_ph=2.0 * mtf50 * float(image_height_px) if image_height_px is not None else float("nan"),
        chart_model=model,
        chart_exponent=beta,
        acutance=acu.acutance,
        viewing=acu.viewing,
        warnings=tuple(warnings + list(acu.warnings)),
    )
