"""``focuslab hw``: camera-hardware commands (EMVA 1288 characterization, defect pixels,
module qualification, population anomalies, design exploration).

Each command lives in its own ``cli/hw_*.py`` module with a ``register(hw_app)`` function;
this module only builds the ``hw`` group and registers the modules listed below.
"""

from __future__ import annotations

import importlib

import typer

# the hw command modules, in the order ``focuslab hw --help`` lists them
_COMMAND_MODULES: list[str] = [
    "hw_qualify",
    "hw_anomalies",
    "hw_defects",
    "hw_characterize",
    "hw_design",
]


def register(app: typer.Typer) -> None:
    """Add the ``hw`` command group to the root ``focuslab`` app."""
    hw_app = typer.Typer(
        name="hw",
        help="Camera hardware: EMVA 1288 sensor characterization, defect pixels, module qualification, "
        "population anomalies, lens/sensor design exploration.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    for name in _COMMAND_MODULES:
        importlib.import_module(f"focuslab.cli.{name}").register(hw_app)
    app.add_typer(hw_app, name="hw")
