"""HTML report of an EMVA 1288 characterization with the standard's plots (R4.0 Sec. 10).

Photon transfer, SNR (measured, model and ideal), linearity and linearity error, DSNU and PRNU
horizontal/vertical spectrograms, dark current (dark mean and variance against exposure time),
one curve per CFA channel; self-contained HTML through :mod:`focuslab.html_report`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from focuslab.html_report import Section, write_report
from focuslab.hw.emva import EmvaResult

_COLOURS = {"mono": "black", "R": "tab:red", "Gr": "tab:green", "Gb": "olive", "B": "tab:blue"}
_ROWS = [
    ("system_gain_dn_per_e", "System gain K (DN/e-)"),
    ("inverse_gain_e_per_dn", "1/K (e-/DN)"),
    ("quantum_efficiency", "Quantum efficiency"),
    ("temporal_dark_noise_e", "Temporal dark noise (e-)"),
    ("temporal_dark_noise_dn", "Temporal dark noise (DN)"),
    ("saturation_capacity_e", "Saturation capacity (e-)"),
    ("full_well_e", "Clipping level of the mean signal (e-)"),
    ("snr_max_db", "SNR max (dB)"),
    ("snr_max_bits", "SNR max (bit)"),
    ("sensitivity_threshold_e", "Absolute sensitivity threshold (e-)"),
    ("sensitivity_threshold_photons", "Absolute sensitivity threshold (photons)"),
    ("dynamic_range_db", "Dynamic range (dB)"),
    ("dynamic_range_bits", "Dynamic range (bit)"),
    ("linearity_error_min_percent", "Linearity error min (%)"),
    ("linearity_error_max_percent", "Linearity error max (%)"),
    ("dark_current_mean_e_per_s", "Dark current from mean (e-/s)"),
    ("dark_current_var_e_per_s", "Dark current from variance (e-/s)"),
    ("dsnu_e", "DSNU1288 (e-)"),
    ("dsnu_column_e", "DSNU column (e-)"),
    ("dsnu_row_e", "DSNU row (e-)"),
    ("prnu_percent", "PRNU1288 (%)"),
    ("prnu_column_percent", "PRNU column (%)"),
    ("prnu_row_percent", "PRNU row (%)"),
]


def summary_rows(result: EmvaResult) -> list[list[object]]:
    """Rows ``[label, value per channel...]`` of the summary table ("-" where not measured)."""
    sums = [ch.summary() for ch in result.channels.values()]
    rows = []
    for key, label in _ROWS:
        vals = [s.get(key) for s in sums]
        rows.append([label] + ["-" if v is None or not math.isfinite(v) else float(v) for v in vals])
    return rows


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _photon_transfer(result: EmvaResult):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for name, ch in result.channels.items():
        t, c = ch.temporal, ch.temporal.curves
        x, y = c.mean_dn - c.mean_dark_dn, c.var_dn2 - c.var_dark_dn2
        col = _COLOURS.get(name)
        ax.plot(x, y, "o", ms=3, color=col, label=f"{name}: K = {t.system_gain_dn_per_e:.4g} DN/e-")
        xf = x[t.gain_fit_indices]
        ax.plot([0, xf.max()], [0, t.system_gain_dn_per_e * xf.max()], "-", color=col, lw=1)
        ax.plot(x[t.saturation_index], y[t.saturation_index], "s", mfc="none", ms=9, color=col)
    ax.set_xlabel("mu_y - mu_y.dark (DN)")
    ax.set_ylabel("sigma_y^2 - sigma_y.dark^2 (DN^2)")
    ax.set_title("Photon transfer (fit 0-70 % of saturation; square: saturation)")
    ax.legend(fontsize=8)
    return fig


def _snr(result: EmvaResult):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for name, ch in result.channels.items():
        t = ch.temporal
        sig = t.signal_e()
        ok = (sig > 0) & (np.arange(len(sig)) <= t.saturation_index)
        col = _COLOURS.get(name)
        ax.loglog(sig[ok], t.snr_measured()[ok], "o", ms=3, color=col, label=f"{name} measured")
        s = np.logspace(math.log10(max(t.sensitivity_threshold_e * 0.5, 0.1)), math.log10(t.saturation_capacity_e), 100)
        ax.loglog(s, t.snr_theory(s), "-", lw=1, color=col, label=f"{name} model")
    s = np.logspace(-1, math.log10(max(ch.temporal.saturation_capacity_e for ch in result.channels.values())), 50)
    ax.loglog(s, np.sqrt(s), "k:", lw=1, label="ideal sqrt(mu_e)")
    ax.axhline(1.0, color="grey", lw=0.5)
    ax.set_xlabel("signal mu_e = eta mu_p (e-)")
    ax.set_ylabel("SNR")
    ax.set_title("Signal-to-noise ratio")
    ax.legend(fontsize=7, ncol=2)
    return fig


def _linearity(result: EmvaResult):
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8))
    for name, ch in result.channels.items():
        t, c = ch.temporal, ch.temporal.curves
        x = c.photons if t.linearity_x == "photons" else c.exposure_s
        y = c.mean_dn - c.mean_dark_dn
        col = _COLOURS.get(name)
        a1.plot(x, y, "o", ms=3, color=col, label=name)
        if math.isfinite(t.linearity_slope):
            a1.plot(x, t.linearity_slope * x + t.linearity_offset_dn, "-", lw=1, color=col)
            li = t.linearity_fit_indices
            fit = t.linearity_slope * x[li] + t.linearity_offset_dn
            a2.plot(x[li], 100.0 * (y[li] - fit) / fit, "o-", ms=3, lw=1, color=col, label=name)
    xl = "mu_p (photons)" if next(iter(result.channels.values())).temporal.linearity_x == "photons" else "exposure (s)"
    a1.set_xlabel(xl)
    a1.set_ylabel("mu_y - mu_y.dark (DN)")
    a1.set_title("Linearity")
    a2.set_xlabel(xl)
    a2.set_ylabel("deviation (%)")
    a2.set_title("Linearity error (5-95 % of saturation)")
    a1.legend(fontsize=8)
    return fig


def _spectrograms(result: EmvaResult, which: str):
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    unit = "e-" if which == "dsnu" else "%"
    key = "dsnu_e" if which == "dsnu" else "prnu_percent"
    for ax, direction in zip(axes, ("horizontal", "vertical"), strict=True):
        for name, ch in result.channels.items():
            s = ch.spatial
            f, amp = s.spectrograms[f"{which}_{direction}_{'e' if which == 'dsnu' else 'percent'}"]
            col = _COLOURS.get(name)
            ax.semilogy(f[1:], np.maximum(amp[1:], 1e-6), lw=0.8, color=col, label=name)
            ax.axhline(getattr(s, key), color=col, ls="--", lw=0.8)
            ax.axhline(s.spectrogram_noise_floor[key], color=col, ls=":", lw=0.8)
        ax.set_xlabel("frequency (cycles/pixel of the channel)")
        ax.set_ylabel(f"standard deviation ({unit})")
        ax.set_title(f"{which.upper()} {direction} spectrogram")
    axes[0].legend(fontsize=8)
    return fig


def _dark_current(result: EmvaResult):
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8))
    for name, ch in result.channels.items():
        c = ch.temporal.curves
        t, m, v = c.exposure_s, c.mean_dark_dn, c.var_dark_dn2
        col = _COLOURS.get(name)
        a1.plot(t, m, "o", ms=3, color=col, label=name)
        a2.plot(t, v, "o", ms=3, color=col, label=name)
        if len(np.unique(t)) > 2:
            a1.plot(t, np.polyval(np.polyfit(t, m, 1), t), "-", lw=1, color=col)
            a2.plot(t, np.polyval(np.polyfit(t, v, 1), t), "-", lw=1, color=col)
    a1.set_xlabel("exposure (s)")
    a1.set_ylabel("mu_y.dark (DN)")
    a1.set_title("Dark signal")
    a2.set_xlabel("exposure (s)")
    a2.set_ylabel("sigma_y.dark^2 (DN^2)")
    a2.set_title("Dark temporal variance")
    a1.legend(fontsize=8)
    return fig


def write_emva_report(result: EmvaResult, path: str | os.PathLike, *, source: str = "",
                      command: str | None = None) -> Path:
    """Write the HTML report of ``result`` to ``path`` (atomically)."""
    names = list(result.channels)
    intro = Section("Summary")
    intro.text(f"EMVA 1288 Release 4.0 evaluation of {source or 'a frame series'}: {result.n_frames} frames of "
               f"{result.shape_px[1]} x {result.shape_px[0]} pixels, CFA {result.cfa}, white level "
               f"{result.white_level_dn} DN; channels {', '.join(names)}.")
    intro.table(["figure", *names], summary_rows(result))
    for note in result.notes:
        intro.text(f"Note: {note}")
    secs = [intro]
    secs.append(Section("Photon transfer and SNR (Sec. 6.6, 2.4)")
                .figure(_photon_transfer(result), "Photon transfer: the slope is the system gain K.")
                .figure(_snr(result), "SNR against signal, with the linear model and the ideal (shot-noise) SNR."))
    secs.append(Section("Linearity (Sec. 6.7)").figure(_linearity(result), "Mean signal and its relative deviation "
                                                                           "from the fitted line."))
    first = next(iter(result.channels.values())).temporal
    secs.append(Section("Dark current (Sec. 7)").figure(
        _dark_current(result), f"Dark mean and variance against exposure time; dark current "
        f"{first.dark_current_mean_e_per_s:.4g} e-/s (mean), {first.dark_current_var_e_per_s:.4g} e-/s (variance)"
        f" in {names[0]}."))
    if all(ch.spatial is not None for ch in result.channels.values()):
        secs.append(Section("Spatial nonuniformity (Sec. 8)")
                    .figure(_spectrograms(result, "dsnu"), "DSNU spectrograms; dashed: DSNU1288, dotted: temporal "
                                                           "noise left in the average.")
                    .figure(_spectrograms(result, "prnu"), "PRNU spectrograms; dashed: PRNU1288, dotted: temporal "
                                                           "noise left in the average."))
    return write_report(path, "EMVA 1288 sensor characterization", secs, command=command)

