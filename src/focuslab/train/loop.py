"""``train(config)``: the training loop of the learned-AF networks.

Seeded end to end: the initial weights come from ``build_model(name, seed=seed)`` (or, to
fine-tune, from the ``init_weights`` file: same model and architecture, optimizer fresh); the data
order of epoch *e* is the seeded permutation of :func:`focuslab.train.distributed.epoch_order`
(with ``dp_family_share``, each step's batch is drawn within the family groups from
``default_rng([seed, step, rank, 1])``: :func:`focuslab.train.samples.share_batch_indices`);
the augmentation of step *k* draws from ``numpy.random.default_rng([seed, k, rank])``. So the
batch of a step is a pure function of (config, step), and a run killed and resumed from its
last checkpoint (:mod:`focuslab.train.checkpoint`) gives bit-identical weights to one that was
never interrupted (same machine, same thread count).

Optimizer AdamW (Loshchilov & Hutter, ICLR 2019) with a one-cycle (Smith & Topin, 2019) or
warm-up + cosine (Loshchilov & Hutter, ICLR 2017) schedule; gradient norm clipped to 5.
Mixed precision (bfloat16 autocast) on CUDA only. Held-out validation every ``val_every``
steps (default one epoch) and at the end, beside the "predict zero defocus" baseline. Files
in ``out``: ``log.csv`` (train and validation rows), ``checkpoint.pt``, ``final.pt`` (weights
in the format :func:`focuslab.models.load_model` reads), ``metrics.json``, ``config.yaml``.
"""

from __future__ import annotations

import csv
import io
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from focuslab.errors import InvalidParameterError, OutputError
from focuslab.files import ensure_dir, write_json_atomic, write_text_atomic
from focuslab.train import distributed
from focuslab.train.checkpoint import CHECKPOINT, load_checkpoint, save_checkpoint
from focuslab.train.config import TrainConfig
from focuslab.train.losses import batch_loss, forward_batch, regression_metrics
from focuslab.train.samples import SampleSet, family_share_groups, make_batch, share_batch_indices, split_train_val

LOG_COLUMNS = ["step", "epoch", "lr", "train_loss", "train_mae_dof", "val_nll", "val_mae_dof", "val_rmse_dof",
               "val_within_1dof", "val_near_mae_dof", "zero_nll", "zero_mae_dof", "wall_s"]  # fmt: skip


@dataclass(frozen=True)
class TrainResult:
    """What a run produced: the folder, the final weights, the held-out metrics (with the
    zero-defocus baseline), the log rows, the steps done and the wall time (all sessions)."""

    out_dir: Path
    weights_path: Path | None
    steps_done: int
    val_metrics: dict
    history: list = field(default_factory=list)
    wall_s: float = 0.0
    n_parameters: int = 0
    resumed_from_step: int | None = None


def _scheduler(opt: torch.optim.Optimizer, cfg: TrainConfig):
    if cfg.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=cfg.lr, total_steps=cfg.steps, pct_start=min(0.5, max(cfg.warmup_fraction, 2.0 / cfg.steps)),
            anneal_strategy="cos",
        )
    warm = max(1, round(cfg.warmup_fraction * cfg.steps))

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - warm) / max(1, cfg.steps - warm))))

    return torch.optim.lr_scheduler.LambdaLR(opt, factor)


def _to(inputs, extra, device):
    return tuple(t.to(device) for t in inputs), {k: v.to(device) for k, v in extra.items()}


def validate(model: torch.nn.Module, samples: SampleSet, cfg: TrainConfig, device=None, batch: int = 256) -> dict:
    """Held-out metrics of ``model`` on ``samples`` (eval mode, no augmentation)."""
    device = device or torch.device("cpu")
    was_training = model.training
    model.eval()
    mus, svs, ys = [], [], []
    with torch.no_grad():
        for i in range(0, len(samples), batch):
            inputs, extra = _to(*make_batch(samples, np.arange(i, min(i + batch, len(samples))),
                                            clip_dof=cfg.target_clip_dof), device)  # fmt: skip
            pred = forward_batch(model, samples.kind, inputs).float().cpu()
            mus.append(pred[..., 0].numpy().ravel())
            svs.append(pred[..., 1].numpy().ravel())
            ys.append(extra["target"].cpu().numpy().ravel())
    model.train(was_training)
    return regression_metrics(np.concatenate(mus), np.concatenate(svs), np.concatenate(ys))


def _write_log(out: Path, history: list[dict]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=LOG_COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for row in history:
        w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    write_text_atomic(out / "log.csv", buf.getvalue())


def _progress(enabled: bool, total: int, start: int):
    if not enabled:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    p = Progress(TextColumn("train"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                 TextColumn("{task.fields[info]}"), console=Console(stderr=True))  # fmt: skip
    p.start()
    p.add_task("train", total=total, completed=start, info="")
    return p


def _load_encoder(model: torch.nn.Module, path: Path) -> None:
    """Copy the ``encoder.*`` tensors of the weights in ``path`` (any model with the same per-frame DP
    encoder, e.g. ``dp-defocus`` into ``temporal``); the rest keeps its seeded init. One-line
    InputFileError when the file has no encoder or it does not fit."""
    from focuslab.errors import InputFileError
    from focuslab.models.registry import read_weights

    blob = read_weights(path)
    enc = {k[len("encoder."):]: v for k, v in blob["state_dict"].items() if k.startswith("encoder.")}
    if not enc or not hasattr(model, "encoder"):
        raise InputFileError(f"init_encoder {str(path)!r}: no DP encoder (encoder.*) to transfer into this model")
    try:
        model.encoder.load_state_dict(enc, strict=True)
    except RuntimeError:
        raise InputFileError(
            f"init_encoder {str(path)!r}: its encoder does not fit this model's; give the same arch/widths in overrides"
        ) from None


def _load_init(model: torch.nn.Module, name: str, path: Path) -> None:
    """Start from the weights in ``path`` (fine-tuning); one-line InputFileError when they are of
    another model or do not fit the architecture."""
    from focuslab.errors import InputFileError
    from focuslab.models.registry import read_weights

    blob = read_weights(path)
    if blob["metadata"].get("name", name) != name:
        raise InputFileError(f"init_weights {str(path)!r} holds model {blob['metadata'].get('name')!r}, not {name!r}")
    try:
        model.load_state_dict(blob["state_dict"], strict=True)
    except RuntimeError:
        raise InputFileError(f"init_weights {str(path)!r} does not fit the {name!r} architecture") from None


def train(
    config: TrainConfig, *, out: str | Path | None = None, resume: bool = False, progress: bool = False,
    stop_at_step: int | None = None,
) -> TrainResult:  # fmt: skip
    """Train ``config.model`` on ``config.data``; see the module docstring.

    Parameters
    ----------
    config
        The run's settings (:class:`~focuslab.train.config.TrainConfig`).
    out
        Output folder (default ``config.out``, else ``runs/<model>``).
    resume
        Continue from ``out/checkpoint.pt`` when it exists (same config required).
    progress
        Show a Rich progress bar on stderr.
    stop_at_step
        Stop after this many steps *without* writing a checkpoint there, as if the process
        were killed (for the resume test); ``None`` runs to ``config.steps``.

    Raises
    ------
    InputFileError
        Missing or broken dataset, corrupt checkpoint.
    InvalidParameterError
        Dataset of another kind than the model learns from, too few samples for a batch.
    OutputError
        ``out`` holds a checkpoint and ``resume`` is off, or the checkpoint's config differs.
    """
    from focuslab.models.registry import build_model, model_spec, n_parameters, save_weights

    cfg = config
    spec = model_spec(cfg.model)
    out_dir = Path(out or cfg.out or f"runs/{cfg.model}")
    dist = distributed.detect()
    train_set, val_set = split_train_val(cfg.data, cfg.val_data, cfg.val_shards,
                                         dp_families=None if cfg.dp_families is None else list(cfg.dp_families))
    if train_set.kind != spec.data_kind or val_set.kind != spec.data_kind:
        raise InvalidParameterError(
            f"model {cfg.model!r} learns from {spec.data_kind!r} datasets, {cfg.data} holds {train_set.kind!r}; "
            "generate one of the right kind"
        )
    share_groups = None if cfg.dp_family_share is None else family_share_groups(train_set, dict(cfg.dp_family_share))
    local_batch = cfg.batch_size // dist.world_size
    if local_batch < 1 or len(train_set) < cfg.batch_size:
        raise InvalidParameterError(
            f"batch_size {cfg.batch_size} needs at least that many training samples and one per rank; "
            f"the training set has {len(train_set)}"
        )
    steps_per_epoch = len(train_set) // dist.world_size // local_batch
    val_every = cfg.val_every or steps_per_epoch
    if dist.is_main:
        ensure_dir(out_dir)
    ckpt_path = out_dir / CHECKPOINT
    if ckpt_path.exists() and not resume:
        raise OutputError(f"{str(out_dir)!r} already holds a checkpoint; pass --resume to continue it or another --out")

    torch.set_num_threads(cfg.threads)
    device = distributed.setup(dist)
    crop = cfg.overrides.get("crop_px", train_set.crop_px)
    overrides = {**cfg.overrides, "crop_px": int(crop)}
    model = build_model(cfg.model, seed=cfg.seed, **overrides)
    if cfg.init_weights is not None:
        _load_init(model, cfg.model, Path(cfg.init_weights))
    if cfg.init_encoder is not None:
        _load_encoder(model, Path(cfg.init_encoder))
    model = model.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = _scheduler(opt, cfg)
    start, history, wall_prev, resumed_from = 0, [], 0.0, None
    if resume and ckpt_path.exists():
        state = load_checkpoint(ckpt_path)
        if state["config"] != cfg.to_dict() | {"out": state["config"].get("out")}:
            raise OutputError(f"{str(ckpt_path)!r} was made with another config; use another --out or the same config")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        torch.random.set_rng_state(state["torch_rng"])
        start, history, wall_prev = int(state["step"]), list(state["history"]), float(state["wall_s"])
        resumed_from = start
    net = distributed.wrap(model, dist, device)
    use_amp = cfg.amp and device.type == "cuda"
    last = min(cfg.steps, stop_at_step) if stop_at_step is not None else cfg.steps
    bar = _progress(progress and dist.is_main, cfg.steps, start)
    t0 = time.perf_counter()
    run_loss, run_mae, run_n, val_metrics = 0.0, 0.0, 0, {}
    order_epoch, order = -1, []
    net.train()
    try:
        for step in range(start, last):
            epoch, pos = divmod(step, steps_per_epoch)
            if epoch != order_epoch:
                order = distributed.epoch_order(len(train_set), dist, seed=cfg.seed, epoch=epoch)
                order_epoch = epoch
            if share_groups is None:
                idx = np.asarray(order[pos * local_batch : (pos + 1) * local_batch])
            else:
                pick = np.random.default_rng([cfg.seed, step, dist.rank, 1])
                idx = share_batch_indices(share_groups, local_batch, pick)
            rng = np.random.default_rng([cfg.seed, step, dist.rank]) if cfg.augment else None
            inputs, extra = _to(*make_batch(train_set, idx, rng=rng, clip_dof=cfg.target_clip_dof), device)
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=use_amp):
                pred = forward_batch(net, train_set.kind, inputs)
            loss = batch_loss(pred.float(), extra, train_set.kind, smooth_weight=cfg.smooth_weight, beta=cfg.nll_beta)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            run_loss += float(loss.detach())
            run_mae += float((pred[..., 0].detach().float() - extra["target"]).abs().mean())
            run_n += 1
            done = step + 1
            if not dist.is_main:
                continue
            wall = wall_prev + time.perf_counter() - t0
            if done % cfg.log_every == 0 or done == cfg.steps:
                history.append({"step": done, "epoch": epoch, "lr": float(sched.get_last_lr()[0]),
                                "train_loss": run_loss / run_n, "train_mae_dof": run_mae / run_n, "wall_s": wall})
                run_loss, run_mae, run_n = 0.0, 0.0, 0
            if done % val_every == 0 or done == cfg.steps:
                val_metrics = validate(model, val_set, cfg, device)
                history.append({"step": done, "epoch": epoch, "val_nll": val_metrics["nll"],
                                "val_mae_dof": val_metrics["mae_dof"], "val_rmse_dof": val_metrics["rmse_dof"],
                                "val_within_1dof": val_metrics["within_1dof"],
                                "val_near_mae_dof": val_metrics["near_mae_dof"], "zero_nll": val_metrics["zero_nll"],
                                "zero_mae_dof": val_metrics["zero_mae_dof"], "wall_s": wall})  # fmt: skip
            if bar is not None:
                bar.update(bar.task_ids[0], completed=done, info=f"loss {loss.item():.3f}")
            if done % cfg.checkpoint_every == 0 or done == cfg.steps:
                _write_log(out_dir, history)
                save_checkpoint(ckpt_path, {
                    "model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                    "step": done, "torch_rng": torch.random.get_rng_state(), "history": history, "wall_s": wall,
                    "config": cfg.to_dict() | {"out": str(out_dir)},
                })  # fmt: skip
    finally:
        if bar is not None:
            bar.stop()
        distributed.teardown(dist)
    wall = wall_prev + time.perf_counter() - t0
    if last < cfg.steps or not dist.is_main:
        return TrainResult(out_dir, None, last, val_metrics, history, wall, n_parameters(model), resumed_from)
    if not val_metrics:  # resumed after the last step: evaluate again
        val_metrics = validate(model, val_set, cfg, device)
    man = train_set.manifest
    meta = {
        "name": cfg.model, "overrides": overrides, "train_config": cfg.to_dict(), "steps": cfg.steps,
        "val_metrics": val_metrics, "wall_s": wall, "n_parameters": n_parameters(model),
        "data": {"kind": man["kind"], "seed": man.get("seed"), "num_samples": man["num_samples"],
                 "variants": man.get("variants"), "train_samples": len(train_set), "val_samples": len(val_set)},
        "torch": str(torch.__version__),
    }  # fmt: skip
    model.cpu()
    weights = save_weights(out_dir / "final.pt", model, meta)
    write_json_atomic(out_dir / "metrics.json", {k: v for k, v in meta.items() if k != "train_config"})
    import yaml

    write_text_atomic(out_dir / "config.yaml", yaml.safe_dump(cfg.to_dict(), sort_keys=False))
    _write_log(out_dir, history)
    return TrainResult(out_dir, weights, cfg.steps, val_metrics, history, wall, n_parameters(model), resumed_from)
