"""The ``focuslab`` command: argument parsing only; the work lives in importable functions.

User mistakes (``FocuslabError``) print one line on stderr and exit with code 2, never a
traceback.
"""

from __future__ import annotations

import sys

import typer

from focuslab import __version__
from focuslab.errors import FocuslabError

app = typer.Typer(
    name="focuslab",
    help="Autofocus and camera image-quality engineering: simulate, measure, benchmark.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"focuslab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """focuslab: physical camera simulation, ISO 12233 metrics, closed-loop autofocus."""


def _register_commands() -> None:
    from focuslab.cli import (
        acutance,
        bench,
        chart,
        data,
        demo,
        evaluate,
        export,
        hw,
        info,
        optics,
        render,
        sfr,
        sharpness,
        train,
    )

    render.register(app)
    demo.register(app)
    optics.register(app)
    info.register(app)
    acutance.register(app)
    chart.register(app)
    sfr.register(app)
    sharpness.register(app)
    bench.register(app)
    hw.register(app)
    train.register(app)
    export.register(app)
    evaluate.register(app)
    data.register(app)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``focuslab`` console script; returns the exit code."""
    _register_commands()
    try:
        app(args=argv, prog_name="focuslab")  # standalone: usage errors print and exit 2
    except FocuslabError as exc:
        print(f"focuslab: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
