"""``focuslab sfr``: ISO 12233:2023 e-SFR of one slanted edge in an image file."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import typer

from focuslab.data.measure_input import load_measurement_image
from focuslab.errors import InvalidParameterError, OutputError
from focuslab.files import atomic_path
from focuslab.metrics.sfr import SfrResult, find_single_edge_roi, measure_sfr
from focuslab.units import cycles_per_pixel_to_lp_per_mm, cycles_per_pixel_to_lw_per_ph

FIGURES = ("mtf50_cpp", "mtf50p_cpp", "mtf10_cpp")


def parse_roi(text: str) -> tuple[int, int, int, int]:
    """``"X,Y,W,H"`` -> (x, y, w, h); one-line error otherwise."""
    parts = text.replace(" ", "").split(",")
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 4:
        raise InvalidParameterError(f"--roi must be X,Y,W,H (four integers, pixels), got {text!r}")
    return values  # type: ignore[return-value]


def report(result: SfrResult, *, pixel_pitch_um: float | None, picture_height_px: int, source: str) -> dict:
    """The JSON report: ``SfrResult.to_dict()`` plus lp/mm (with a pitch) and LW/PH figures."""
    out = {"image": source, **result.to_dict()}
    for name in FIGURES:
        value = getattr(result, name)
        stem = name.removesuffix("_cpp")
        out[f"{stem}_lw_ph"] = (float(cycles_per_pixel_to_lw_per_ph(value, picture_height_px))
                                if math.isfinite(value) else None)
        if pixel_pitch_um is not None:
            out[f"{stem}_lp_mm"] = (float(cycles_per_pixel_to_lp_per_mm(value, pixel_pitch_um))
                                    if math.isfinite(value) else None)
    if pixel_pitch_um is not None:
        out["pixel_pitch_um"] = pixel_pitch_um
    return out


def write_plot(result: SfrResult, path: Path, *, pixel_pitch_um: float | None, title: str) -> Path:
    """SFR curves of every channel with MTF50 marked, frequency in cy/px (or lp/mm with a pitch)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scale = 1.0 if pixel_pitch_um is None else float(cycles_per_pixel_to_lp_per_mm(1.0, pixel_pitch_um))
    unit = "cy/px" if pixel_pitch_um is None else "lp/mm"
    colours = {"R": "tab:red", "G": "tab:green", "B": "tab:blue", "luminance": "black"}
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    f = result.frequencies_cpp * scale
    for name, curve in result.channels.items():
        ax.plot(f, curve, color=colours.get(name, "grey"), lw=2.0 if name == result.channel else 1.0, label=name)
    if math.isfinite(result.mtf50_cpp):
        x = result.mtf50_cpp * scale
        ax.axvline(x, color="grey", ls="--", lw=0.8)
        ax.plot([x], [0.5], "o", color="black")
        ax.annotate(f"MTF50 {x:.3g} {unit}", (x, 0.5), xytext=(8, 8), textcoords="offset points")
    ax.axvline(0.5 * scale, color="grey", ls=":", lw=0.8)
    ax.text(0.5 * scale, 0.02, " Nyquist", fontsize=8)
    ax.set_xlim(0, min(1.0, result.frequencies_cpp[-1]) * scale)
    ax.set_ylim(0, max(1.05, float(max(c.max() for c in result.channels.values())) * 1.05))
    ax.set_xlabel(f"frequency along the edge normal, {unit}")
    ax.set_ylabel("SFR")
    ax.set_title(f"{title}: e-SFR, edge {result.angle_deg:.2f} deg {result.orientation}")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png")
    except OutputError:
        raise
    except OSError as exc:
        raise OutputError(
            f"cannot write the plot {str(path)!r} ({exc.strerror or exc}); choose another --plot path"
        ) from None
    finally:
        plt.close(fig)
    return path


def sfr_command(
    image: Path = typer.Argument(..., help="Image file (PNG/TIFF/JPEG 8/16-bit, or camera raw such as DNG)."),
    roi: str | None = typer.Option(None, "--roi", help="X,Y,W,H of the edge region, px (default: find the edge)."),
    channel: str = typer.Option("luminance", help="R, G, B or luminance (BT.709 weights 0.213/0.715/0.072)."),
    encoding: str = typer.Option("linear", help="How values are encoded: linear, srgb or gamma:G (e.g. gamma:2.2)."),
    raw_mode: str = typer.Option("demosaic", help="Raw files: demosaic, mosaic, cfa:R, cfa:G, cfa:G2 or cfa:B."),
    poly_order: int = typer.Option(5, help="Edge-fit polynomial order 1-5 (5: ISO 12233:2023, 1: sfrmat3)."),
    window: str = typer.Option("tukey", help="LSF window: tukey (ISO 12233:2023) or hamming (sfrmat3)."),
    lsf_window: str | None = typer.Option(
        None, help="Limit the LSF window: 'auto' (6 x the 10-90% rise) or a half-width in px (not ISO; less noise)."
    ),
    pixel_pitch_um: float | None = typer.Option(None, help="Pixel pitch, um: also report lp/mm."),
    as_json: bool = typer.Option(False, "--json", help="Print the full result as JSON on stdout."),
    plot: Path | None = typer.Option(None, "--plot", help="Write the SFR curves to this PNG."),
) -> None:
    """Measure the ISO 12233:2023 e-SFR (slanted edge) of one edge: SFR curve, MTF50, MTF50P, MTF10."""
    if pixel_pitch_um is not None and not (math.isfinite(pixel_pitch_um) and pixel_pitch_um > 0):
        raise InvalidParameterError(f"--pixel-pitch-um must be a number > 0, got {pixel_pitch_um!r}")
    loaded = load_measurement_image(image, raw_mode=raw_mode)
    data = loaded.data
    pitch = None if pixel_pitch_um is None else pixel_pitch_um * loaded.sample_pitch_factor
    lsf_window_px: str | float | None = lsf_window
    if lsf_window is not None and lsf_window != "auto":
        try:
            lsf_window_px = float(lsf_window)
        except ValueError:
            raise InvalidParameterError(f"--lsf-window must be 'auto' or a number of px, got {lsf_window!r}") from None
    box = parse_roi(roi) if roi is not None else find_single_edge_roi(data)
    result = measure_sfr(data, roi=box, channel=channel, encoding=encoding, poly_order=poly_order, window=window,
                         lsf_window_px=lsf_window_px)
    summary = report(result, pixel_pitch_um=pitch, picture_height_px=data.shape[0], source=str(image))
    if not loaded.linear and encoding == "linear":
        print(f"note: {image.name} is an encoded {loaded.bit_depth}-bit file measured as linear; "
              "pass --encoding srgb (or gamma:G) if it is not linear", file=sys.stderr)
    if plot is not None:
        write_plot(result, plot, pixel_pitch_um=pitch, title=image.name)
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    unit = "" if pitch is None else " lp/mm"
    lines = [f"{image.name}: ROI {box}, {result.orientation} edge at {result.angle_deg:+.2f} deg, "
             f"channel {result.channel}"]
    for name in FIGURES:
        v = getattr(result, name)
        key = name.removesuffix("_cpp") + "_lp_mm"
        extra = f" = {summary[key]:.1f}{unit}" if pitch is not None and math.isfinite(v) else ""
        lines.append(f"  {name.removesuffix('_cpp'):<7} {v:.4f} cy/px{extra}")
    lines.append(f"  SFR at Nyquist {result.sfr_nyquist:.3f}; 10-90% rise {result.rise_10_90_px:.2f} px; "
                 f"contrast {result.contrast:.2f} (Michelson); SNR {result.snr_db:.1f} dB")
    lines += [f"  warning: {w}" for w in result.warnings]
    print("\n".join(lines))


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("sfr")(sfr_command)
