"""``focuslab train``: train a learned-AF network from a YAML config (argument parsing only;
the work is :func:`focuslab.train.train`)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add ``focuslab train`` to the root app."""

    @app.command("train")
    def train_command(
        config: Path = typer.Option(..., "--config", help="Training config YAML (configs/train/NAME.yaml)."),
        out: Path | None = typer.Option(None, "--out", help="Output folder (default: config out, else runs/MODEL)."),
        resume: bool = typer.Option(False, "--resume", help="Continue from OUT/checkpoint.pt (same config)."),
        steps: int | None = typer.Option(None, "--steps", help="Override the config's number of steps."),
        progress: bool = typer.Option(True, "--progress/--no-progress", help="Rich progress bar on stderr."),
    ) -> None:
        """Train a network (dp-defocus, two-frame, fusion, temporal); writes log.csv, checkpoint.pt,
        final.pt (weights for focuslab.models.load_model) and metrics.json to OUT."""
        from dataclasses import replace

        from focuslab.train import load_config, train

        cfg = load_config(config)
        if steps is not None:
            cfg = replace(cfg, steps=steps)
        result = train(cfg, out=out, resume=resume, progress=progress)
        m = result.val_metrics
        typer.echo(f"{cfg.model}: {result.steps_done} steps in {result.wall_s:.0f} s, {result.n_parameters} parameters")
        typer.echo(
            f"held-out ({m['n']} labels): MAE {m['mae_dof']:.3f} DoF (predict-zero {m['zero_mae_dof']:.3f}), "
            f"RMSE {m['rmse_dof']:.3f} ({m['zero_rmse_dof']:.3f}), within 1 DoF {m['within_1dof']:.1%} "
            f"({m['zero_within_1dof']:.1%}), NLL {m['nll']:.3f} ({m['zero_nll']:.3f})"
        )
        typer.echo(f"weights: {result.weights_path}")
