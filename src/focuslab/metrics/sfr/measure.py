"""``measure_sfr``: ISO 12233:2023 e-SFR of one slanted edge (Burns' method, sfrmat5 defaults).

Steps (ISO 12233:2023 clause 6, e-SFR; Burns, PICS 2000; Burns & Williams, PICS 2002;
sfrmat5):

1. ROI, linearisation (encoding or OECF), colour records and luminance.
2. Orientation: a horizontal edge is transposed so the analysis always sees a near-vertical edge.
3. Per-row windowed derivative centroid, polynomial fit, window re-centred, second pass
   (:mod:`~focuslab.metrics.sfr.edge_fit`).
4. Rows truncated to a whole number of phase cycles, ``round(floor(rows |s|) / |s|)``.
5. Projection and 4x binning (:mod:`~focuslab.metrics.sfr.esf`).
6. LSF, window, DFT, derivative correction, frequency scaling (:mod:`~focuslab.metrics.sfr.spectrum`).
7. Figures (:mod:`~focuslab.metrics.sfr.figures`), errors and warnings
   (:mod:`~focuslab.metrics.sfr.quality`).
"""

from __future__ import annotations

import math

import numpy as np

from focuslab.errors import InvalidParameterError
from focuslab.metrics.sfr.edge_fit import fit_edge
from focuslab.metrics.sfr.esf import bin_esf
from focuslab.metrics.sfr.figures import mtf_figures, plateau_levels, rise_10_90
from focuslab.metrics.sfr.linearize import decode
from focuslab.metrics.sfr.quality import (
    MAX_FIT_RMS_PX,
    check_fit,
    check_one_edge,
    check_profile,
    clipping_warnings,
    geometry_warnings,
    measurement_warnings,
)
from focuslab.metrics.sfr.result import SfrResult
from focuslab.metrics.sfr.spectrum import frequencies_cpp, lsf_centre, lsf_from_esf, sfr_from_lsf
from focuslab.metrics.sfr.windows import check_window

#: Luminance weights for R, G, B (ITU-R BT.709, the sfrmat3/sfrmat5 default ``[0.213 0.715 0.072]``).
LUMINANCE_WEIGHTS = (0.213, 0.715, 0.072)
CHANNELS = ("R", "G", "B", "luminance")
MIN_ACROSS_PX = 16
MIN_ALONG_PX = 8


def _as_float(arr: np.ndarray, whole: np.ndarray) -> tuple[np.ndarray, float | None]:
    """``arr`` (the ROI) as float64 and the white level; floats are on a 0..1 scale when ``whole`` is."""
    if arr.dtype == np.uint8 or arr.dtype == np.uint16:
        full = float(np.iinfo(arr.dtype).max)
        return arr.astype(np.float64) / full, 1.0
    if arr.dtype.kind in "iu":
        return arr.astype(np.float64), None
    if arr.dtype.kind != "f":
        raise InvalidParameterError(f"image must hold numbers (float or integer), got dtype {arr.dtype}")
    a = arr.astype(np.float64)
    peak = float(np.max(np.where(np.isfinite(whole), whole, -np.inf))) if whole.size else -np.inf
    white = 1.0 if np.isfinite(peak) and peak <= 1.0 else None
    return a, white


def _check_roi(roi, height: int, width: int) -> tuple[int, int, int, int]:
    if roi is None:
        return 0, 0, width, height
    try:
        x, y, w, h = (int(v) for v in roi)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"roi must be four integers (x, y, w, h), got {roi!r}") from None
    if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > width or y + h > height:
        raise InvalidParameterError(
            f"roi (x={x}, y={y}, w={w}, h={h}) is not inside the {width}x{height} image; give x, y >= 0 and "
            f"x + w <= {width}, y + h <= {height}"
        )
    return x, y, w, h


def _channel_planes(crop: np.ndarray, weights) -> dict[str, np.ndarray]:
    if crop.ndim == 2:
        return {"luminance": crop}
    w = np.asarray(weights, dtype=np.float64)
    planes = {"R": crop[..., 0], "G": crop[..., 1], "B": crop[..., 2]}
    planes["luminance"] = w[0] * crop[..., 0] + w[1] * crop[..., 1] + w[2] * crop[..., 2]
    return planes


def _orientation(a: np.ndarray) -> str:
    k = max(2, min(a.shape) // 8)
    dx = abs(float(a[:, :k].mean() - a[:, -k:].mean()))
    dy = abs(float(a[:k, :].mean() - a[-k:, :].mean()))
    return "horizontal" if dy > dx else "vertical"


def measure_sfr(
    image: np.ndarray,
    *,
    roi: tuple[int, int, int, int] | None = None,
    channel: str = "luminance",
    encoding: str = "linear",
    oecf: np.ndarray | None = None,
    window: str = "tukey",
    poly_order: int = 5,
    tukey_alpha: float = 1.0,
    nbin: int = 4,
    bin_correction: bool = True,
    lsf_window_px: float | str | None = None,
    luminance_weights: tuple[float, float, float] = LUMINANCE_WEIGHTS,
) -> SfrResult:
    """Measure the ISO 12233:2023 e-SFR of the one slanted edge in ``roi``.

    Parameters
    ----------
    image
        ``H x W`` or ``H x W x 3`` (RGB) array, float or integer. ``uint8``/``uint16`` are
        divided by their full scale; floats are used as given. Not modified.
    roi
        (x, y, w, h) px; the whole image when None. The edge must cross the ROI from top to
        bottom (vertical edge) or from left to right (horizontal edge).
    channel
        Channel for the scalar figures: ``"luminance"`` (default; for RGB
        ``0.213 R + 0.715 G + 0.072 B``, ITU-R BT.709 as sfrmat3/5), ``"R"``, ``"G"``, ``"B"``.
    encoding
        How the values were encoded: ``"linear"`` (default), ``"srgb"``, ``"gamma:G"``
        (see :func:`~focuslab.metrics.sfr.linearize.decode`); encoded values must be scaled
        to full scale 1.0 (integers are).
    oecf
        Optional measured OECF table ``(n, 2)`` of (encoded, linear) pairs.
    window
        ``"tukey"`` (ISO 12233:2023 default) or ``"hamming"`` (ISO 12233:2014, sfrmat3).
    poly_order
        Order of the edge-fit polynomial, 1-5 (default 5 as sfrmat5; 1 = straight line,
        ISO 12233:2014 / sfrmat3).
    tukey_alpha
        Tukey window parameter in (0, 1] (1 = Hann, the sfrmat5 default).
    nbin
        Oversampling (binning) factor, 2-8 (ISO: 4).
    bin_correction
        Divide the SFR by the response of the ``1/nbin`` binning box, ``sinc(k/N)`` (not part
        of ISO 12233; it removes a low bias of up to 2 % below Nyquist). False reproduces
        sfrmat.
    lsf_window_px
        None (default, ISO 12233): the LSF window spans the whole record. A number: the
        window's half-width in px along the normal, a Tukey window flat over its inner half
        (not ISO; it cuts the noise that the record's far tails add, at the price of dropping
        LSF tails beyond it: veiling glare). ``"auto"``: ``max(4 px, 6 x the 10-90 % rise)``.
    luminance_weights
        R, G, B weights of the luminance record.

    Returns
    -------
    SfrResult

    Raises
    ------
    InvalidParameterError
        Bad ROI, NaN/inf values, flat ROI, no edge, two edges, an edge that does not cross
        the ROI, or a bad option.
    UnknownNameError
        Unknown window or channel name.

    Notes
    -----
    Frequencies: ``f_k = k nbin / (N cos(theta))`` cy/px along the edge normal, with
    ``theta = atan(s)`` and ``s`` the slope of the straight-line fit (ISO 12233:2023 frequency
    correction; sfrmat5 ``delfac``). SFR:
    ``|DFT(w . LSF)|(k) / |DFT(w . LSF)|(0) x D(k) [/ sinc(k/N)]`` with the derivative
    correction ``D(k) = (2 pi k / N) / sin(2 pi k / N)``.

    References
    ----------
    ISO 12233:2023, Photography - Electronic still picture imaging - Resolution and spatial
    frequency responses, clause 6 and Annex D.
    P. D. Burns, "Slanted-edge MTF for digital camera and scanner analysis", Proc. IS&T PICS
    2000, pp. 135-138.
    P. D. Burns, D. Williams, "Refined slanted-edge measurement for practical camera and
    scanner testing", Proc. IS&T PICS 2002, pp. 191-195.
    P. D. Burns, sfrmat5 (2023), the reference implementation for ISO 12233:2023.
    """
    check_window(window, float(tukey_alpha))
    if int(poly_order) != poly_order or not 1 <= int(poly_order) <= 5:
        raise InvalidParameterError(f"poly_order must be an integer 1-5 (ISO 12233:2023: 5), not {poly_order!r}")
    if int(nbin) != nbin or not 2 <= int(nbin) <= 8:
        raise InvalidParameterError(f"nbin must be an integer from 2 to 8 (ISO uses 4), got {nbin!r}")
    poly_order, nbin = int(poly_order), int(nbin)
    if lsf_window_px is not None and lsf_window_px != "auto":
        try:
            ok = float(lsf_window_px) > 0 and math.isfinite(float(lsf_window_px))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise InvalidParameterError(f"lsf_window_px must be None, 'auto' or a number > 0, not {lsf_window_px!r}")
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] != 3):
        raise InvalidParameterError(f"image must be H x W or H x W x 3 (RGB), got shape {arr.shape}")
    if channel not in CHANNELS:
        raise InvalidParameterError(f"unknown channel {channel!r}; valid: {', '.join(CHANNELS)}")
    if arr.ndim == 2 and channel != "luminance":
        raise InvalidParameterError(f"the image is grey: channel {channel!r} does not exist; use channel='luminance'")
    x0, y0, w, h = _check_roi(roi, arr.shape[0], arr.shape[1])
    crop, white = _as_float(arr[y0 : y0 + h, x0 : x0 + w], arr)  # convert the ROI only (charts: many ROIs)
    if not np.all(np.isfinite(crop)):
        raise InvalidParameterError("the ROI contains NaN or inf values; fix the image or choose another ROI")
    warnings = clipping_warnings(crop, white)
    planes = _channel_planes(decode(crop, encoding, oecf=oecf), luminance_weights)
    main = planes[channel]
    if float(np.ptp(main)) <= 1e-12 * max(1.0, float(np.max(np.abs(main)))):
        raise InvalidParameterError("the ROI is flat (no edge); choose an ROI containing one slanted edge")
    orientation = _orientation(main)
    oriented = {k: (p.T if orientation == "horizontal" else p) for k, p in planes.items()}
    a = oriented[channel]
    rows, cols = a.shape
    if cols < MIN_ACROSS_PX or rows < MIN_ALONG_PX:
        raise InvalidParameterError(
            f"the ROI is {cols} px across and {rows} px along the edge; give at least {MIN_ACROSS_PX} x {MIN_ALONG_PX}"
        )
    rising = check_one_edge(a)

    fit = fit_edge(a, rising=rising, poly_order=poly_order, window=window, alpha=tukey_alpha)
    edge_x = fit.x_at(np.arange(rows, dtype=np.float64))
    check_fit(fit.residual_rms_px, edge_x, cols)
    fits = {channel: fit}
    for name, plane in oriented.items():
        if name == channel:
            continue
        try:
            own = fit_edge(plane, rising=rising, poly_order=poly_order, window=window, alpha=tukey_alpha)
        except InvalidParameterError:
            own = None
        if own is None or not own.residual_rms_px <= MAX_FIT_RMS_PX:
            own = fit
            warnings.append(f"no clean edge in channel {name}: its SFR uses the {channel} edge fit")
        fits[name] = own
    slope = fit.linear_slope
    angle_deg = math.degrees(math.atan(slope))
    cos_angle = math.cos(math.atan(slope))
    cycles = rows * abs(slope)
    rows_used = min(max(round(math.floor(cycles) / abs(slope)), MIN_ALONG_PX), rows) if cycles >= 1.0 else rows
    warnings += geometry_warnings(angle_deg, rows, slope)

    n_esf = nbin * cols
    freq = frequencies_cpp(n_esf, nbin=nbin, cos_angle=cos_angle)
    n_out = round((n_esf // 2 + 1) / 2)
    curves: dict[str, np.ndarray] = {}
    spacing = cos_angle / nbin
    binned_all = {name: bin_esf(plane[:rows_used], fits[name], nbin=nbin) for name, plane in oriented.items()}
    lsfs = {name: lsf_from_esf(b.values, rising=rising) for name, b in binned_all.items()}
    main_binned, main_raw_lsf = binned_all[channel], lsfs[channel]
    main_esf = main_binned.values
    rise = rise_10_90(main_esf, rising=rising, centre=lsf_centre(main_raw_lsf), spacing_px=spacing)
    half_width = None
    if lsf_window_px == "auto":
        half_width = max(4.0, 6.0 * rise) / spacing if math.isfinite(rise) else None
    elif lsf_window_px is not None:
        half_width = float(lsf_window_px) / spacing
    for name, lsf in lsfs.items():
        sfr, windowed = sfr_from_lsf(lsf, window=window, alpha=tukey_alpha, bin_correction=bin_correction,
                                     half_width=half_width)
        curves[name] = sfr[:n_out]
        if name == channel:
            main_lsf = windowed
    freq = freq[:n_out]
    sfr = curves[channel]
    figs = mtf_figures(freq, sfr)
    dark, light = plateau_levels(main_esf, rising=rising)
    check_profile(main_esf, dark, light, rise, nbin=nbin, width_px=cols * cos_angle)
    step = light - dark
    contrast = step / (light + dark) if light + dark > 0 else float("nan")
    snr_db = 20.0 * math.log10(abs(step) / main_binned.noise_rms) if main_binned.noise_rms > 0 else float("inf")
    warnings += measurement_warnings(
        contrast=contrast, empty_bins=main_binned.empty_bins, n_bins=n_esf,
        margin_px=min(float(edge_x.min()), float(cols - 1 - edge_x.max())) * cos_angle, rise_px=rise,
        snr_db=snr_db, fit_rms_px=fit.residual_rms_px, figures=figs, max_frequency_cpp=float(freq[-1]),
    )

    y_mid = (rows - 1) / 2.0
    x_mid = float(fit.x_at(y_mid))
    centroid = (x0 + y_mid, y0 + x_mid) if orientation == "horizontal" else (x0 + x_mid, y0 + y_mid)
    return SfrResult(
        frequencies_cpp=freq, sfr=sfr, channel=channel, channels=curves,
        mtf50_cpp=figs["mtf50_cpp"], mtf50p_cpp=figs["mtf50p_cpp"], mtf10_cpp=figs["mtf10_cpp"],
        sfr_nyquist=figs["sfr_nyquist"], rise_10_90_px=rise, angle_deg=angle_deg, orientation=orientation,
        contrast=contrast, dark_level=dark, light_level=light, snr_db=snr_db,
        edge_centroid_xy=(float(centroid[0]), float(centroid[1])), roi=(x0, y0, w, h),
        esf=main_esf, lsf=main_lsf, esf_spacing_px=spacing, edge_fit_rms_px=fit.residual_rms_px,
        poly_order=poly_order, window=window, warnings=tuple(warnings),
    )
