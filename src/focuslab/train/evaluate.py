"""``focuslab evaluate``: Learning-to-Autofocus offline metrics of the learned networks on simulated stacks.

For each of ``scenes`` simulated 49-slice dual-pixel focal stacks (:mod:`.evaluate_stacks`),
every method predicts the in-focus slice, scored by :func:`~.evaluate_metrics.slice_metrics`
(MAE, RMSE in slices, fractions within 0/1/2/4 slices; Herrmann et al., CVPR 2020, sec. 6):

* ``dp-defocus single-slice``: from each slice alone, the network's defocus d (DoF) moves the
  focus by ``d * diopters_per_dof``; the nearest slice is the prediction (every slice of every
  stack is one prediction, as LtA's single-slice task). d is calibrated for the camera and
  region size first (:mod:`focuslab.models.dp_calibration`: a dead-leaves chart swept at 7
  distances, seeds apart from the stacks'), as a camera ships its PDAF calibrated; the
  ``dp-defocus uncalibrated single-slice`` row gives the raw network;
* ``dp-defocus full-stack``: the network on every slice (calibrated), the subject's focus
  pooled by inverse variance over the slices (one prediction per stack);
* ``two-frame two-slice``: from slice k and slice k + 4 (k - 4 in the stack's near half: a
  move toward the middle), the defocus at the second slice (one prediction per k);
* ``focus-measure full-stack``: the classical reference, argmax over the stack of the
  Tenengrad focus value of the AF region (:func:`focuslab.af.af_signals.focus_value`);
* ``no-move single-slice``: the trivial baseline, each slice predicts itself.

The AF region is the closed-loop benchmark's (:data:`focuslab.bench.suites.DEFAULT_ROI_PX`,
128 px: the network's 64-px crops tiled 2 x 2 and pooled by inverse variance, as the policies
read it). LtA's networks see the whole frame; a 64-px region (``--crop-px 64``) is one crop.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from focuslab.errors import InvalidParameterError
from focuslab.train.evaluate_metrics import defocus_to_slice, slice_metrics
from focuslab.train.evaluate_stacks import LTA_SLICES, EvalStack, eval_stack

#: Networks with an offline (focal-stack) evaluation.
OFFLINE_MODELS = ("dp-defocus", "two-frame")

#: Slice offset of the second frame of the two-slice task.
TWO_SLICE_OFFSET = 4


def single_slice_predictions(model, stack: EvalStack) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(predicted slice, defocus_dof, sigma_dof)`` of the DP network from each slice alone."""
    from focuslab.models.predict import dp_defocus

    preds, ds, ss = [], [], []
    for k in range(len(stack.codes)):
        d, s = dp_defocus(model, stack.left[k], stack.right[k])
        ds.append(d)
        ss.append(s)
        preds.append(defocus_to_slice(stack.diopters, k, d, stack.diopters_per_dof[k]))
    return np.array(preds), np.array(ds), np.array(ss)


def calibrated_predictions(stack: EvalStack, defocus_dof, sigma_dof, calibration) -> tuple[np.ndarray, ...]:
    """``(predicted slice, defocus_dof, sigma_dof)`` after a defocus calibration
    (:class:`~focuslab.models.dp_calibration.DefocusCalibration`)."""
    pairs = [calibration.apply(d, s) for d, s in zip(defocus_dof, sigma_dof, strict=True)]
    d = np.array([p[0] for p in pairs])
    s = np.array([p[1] for p in pairs])
    preds = [defocus_to_slice(stack.diopters, k, d[k], stack.diopters_per_dof[k]) for k in range(len(d))]
    return np.array(preds), d, s


def pooled_stack_prediction(stack: EvalStack, defocus_dof: np.ndarray, sigma_dof: np.ndarray) -> float:
    """The stack's slice from every slice's prediction: inverse-variance mean of the implied subject focus.

    Slice k implies the subject's focus ``D_k + d_k * diopters_per_dof_k`` with 1-sigma
    ``s_k * diopters_per_dof_k``; the weighted mean ``sum(w D) / sum(w)``, ``w = 1 / sigma^2``,
    is converted to a slice index.
    """
    dpt = stack.diopters + defocus_dof * stack.diopters_per_dof
    sig = np.maximum(sigma_dof * stack.diopters_per_dof, 1e-6)
    w = 1.0 / sig**2
    target = float(np.sum(w * dpt) / np.sum(w))
    return (target - float(stack.diopters[0])) / stack.slice_step_diopters


def two_slice_predictions(model, stack: EvalStack, offset: int = TWO_SLICE_OFFSET) -> tuple[np.ndarray, np.ndarray]:
    """``(predicted slice, true slice)`` of the two-frame network for every first slice k (see the module notes)."""
    from focuslab.models.predict import two_frame_defocus

    n = len(stack.codes)
    preds = []
    for k in range(n):
        j = k + offset if k < n // 2 else k - offset
        d1, _ = two_frame_defocus(model, stack.images[k], stack.images[j], int(stack.codes[k]), int(stack.codes[j]),
                                  float(stack.codes_per_dof[k]))
        preds.append(defocus_to_slice(stack.diopters, j, d1, stack.diopters_per_dof[j]))
    return np.array(preds), np.full(n, stack.true_slice)


def focus_measure_prediction(stack: EvalStack, method: str = "TENG") -> int:
    """Slice with the largest focus value of the AF region (the classical full-stack reference)."""
    from focuslab.af.af_signals import focus_value

    cfa = "RGGB"  # the centre crop has an even origin: the stream's Bayer phase
    values = [focus_value(img, cfa=cfa, method=method).value for img in stack.images]
    return int(np.argmax(values))


def evaluate_offline(
    models: Sequence[str] = OFFLINE_MODELS,
    *,
    scenes: int = 8,
    seed: int = 0,
    camera: str = "phone_main",
    slices: int = LTA_SLICES,
    crop_px: int = 128,
    near_m: float | None = None,
    weights: dict[str, str | os.PathLike] | None = None,
    calibrate: bool = True,
    far_weights: str | os.PathLike | None = "auto",
    progress: Callable[[int, int, str], None] | None = None,
) -> dict:
    """Render ``scenes`` stacks and score every method on them (see the module notes).

    Parameters
    ----------
    models
        Networks to evaluate (:data:`OFFLINE_MODELS`); the focus-measure and no-move
        baselines always run.
    scenes, seed
        Number of stacks and the seed of their draws (same seed, same stacks).
    camera, slices, crop_px
        Camera preset (dual pixel), slices per stack, AF-region side (stream pixels).
    near_m
        Focus distance of the nearest slice (default: the lens' minimum focus distance).
    weights
        Weights file, or shipped-weights keyword (``"general"``, ``"pixel4"``:
        :func:`focuslab.models.registry.resolve_weights`), per network name; default: the
        shipped general weights.
    calibrate
        Calibrate ``dp-defocus`` for the camera and region first (module notes); the raw
        network is scored too, as ``dp-defocus uncalibrated single-slice``.
    far_weights
        ``dp-defocus`` weights that read the crops the first reads beyond 6 DoF
        (:func:`focuslab.models.dp_cascade.dp_reader`): ``"auto"`` (default), when the first
        network is the shipped general one, the camera's per-sensor weights (phone_main: the Pixel
        4 ones), or with ``calibrate`` the Pixel 4 ones on any dual-pixel camera (the calibration
        is fitted to the pair); ``None`` / ``"none"``: the one network; a family keyword or a
        weights file.
    progress
        ``progress(done, total, label)`` after each stack.

    Returns
    -------
    dict
        ``{"settings", "methods": {name: {"task", "metrics", ...}}, "scenes": [...]}``.

    Raises
    ------
    InvalidParameterError
        Bad counts or a network without an offline task.
    InputFileError
        Missing weights.
    """
    from focuslab.models import load_model

    if isinstance(scenes, bool) or not isinstance(scenes, int) or scenes < 1:
        raise InvalidParameterError(f"scenes must be an integer >= 1, got {scenes!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidParameterError(f"seed must be a non-negative integer, got {seed!r}")
    models = list(dict.fromkeys(models))
    bad = [m for m in models if m not in OFFLINE_MODELS]
    if bad:
        raise InvalidParameterError(
            f"no offline focal-stack task for {', '.join(bad)}; choose from {', '.join(OFFLINE_MODELS)} "
            "(fusion and temporal are measured in the closed loop: --closed-loop)")
    from focuslab.camera import get_camera
    from focuslab.models.registry import resolve_weights, weights_path
    from focuslab.train.evaluate_stacks import slice_diopters

    slice_diopters(get_camera(camera), slices, near_m=near_m)  # checks slices, near_m and the camera first
    weights = {k: resolve_weights(k, v) for k, v in dict(weights or {}).items()}
    nets = {m: load_model(m, weights.get(m)) for m in models}
    reader_label = ""
    if "dp-defocus" in nets:
        from focuslab.models.dp_cascade import dp_reader

        nets["dp-defocus"], reader_label = dp_reader(nets["dp-defocus"], camera, far_weights, calibrated=calibrate)
    rows: dict[str, dict[str, list]] = {}
    cal = None
    if "dp-defocus" in nets and calibrate:
        from focuslab.models.dp_calibration import calibrate_dp_network

        name = Path(weights.get("dp-defocus") or weights_path("dp-defocus")).name
        cal = calibrate_dp_network(nets["dp-defocus"], camera, roi_px=crop_px, slices=slices,
                                   weights=f"{name} ({reader_label})" if reader_label else name)

    def add(name: str, pred, true) -> None:
        r = rows.setdefault(name, {"pred": [], "true": []})
        r["pred"] += list(np.atleast_1d(pred).astype(float))
        r["true"] += list(np.atleast_1d(true).astype(float))

    per_scene = []
    for i in range(scenes):
        st = eval_stack(i, camera=camera, slices=slices, crop_px=crop_px, seed=seed, near_m=near_m)
        n = len(st.codes)
        info = {"index": i, "texture": st.texture, "subject_distance_m": st.subject_distance_m,
                "illuminance_lux": st.illuminance_lux, "true_slice": st.true_slice}
        fm = focus_measure_prediction(st)
        add("focus-measure full-stack", fm, st.true_slice)
        add("no-move single-slice", np.arange(n), np.full(n, st.true_slice))
        info["focus_measure_slice"] = fm
        if "dp-defocus" in nets:
            pred, d, s = single_slice_predictions(nets["dp-defocus"], st)
            if cal is not None:
                add("dp-defocus uncalibrated single-slice", pred, np.full(n, st.true_slice))
                info.update(dp_raw_defocus_dof=[float(v) for v in d], dp_raw_single_slice=[float(v) for v in pred])
                pred, d, s = calibrated_predictions(st, d, s, cal)
            add("dp-defocus single-slice", pred, np.full(n, st.true_slice))
            pooled = pooled_stack_prediction(st, d, s)
            add("dp-defocus full-stack", pooled, st.true_slice)
            info.update(dp_single_slice=[float(v) for v in pred], dp_defocus_dof=[float(v) for v in d],
                        dp_sigma_dof=[float(v) for v in s], true_defocus_dof=[float(v) for v in st.defocus_dof],
                        dp_full_stack=float(pooled))
        if "two-frame" in nets:
            pred, true = two_slice_predictions(nets["two-frame"], st)
            add("two-frame two-slice", pred, true)
            info["two_slice"] = [float(v) for v in pred]
        per_scene.append(info)
        if progress:
            progress(i + 1, scenes, f"scene {i}: {st.texture}")
    tasks = {"single-slice": "one slice", "full-stack": "the whole stack", "two-slice": "two slices"}
    methods = {}
    for name, r in rows.items():
        task = name.rsplit(" ", 1)[1]
        methods[name] = {"task": task, "input": tasks[task], "metrics": slice_metrics(r["pred"], r["true"],
                                                                                        slices=slices)}
    settings = {"scenes": scenes, "seed": seed, "camera": camera, "slices": slices, "crop_px": crop_px,
                "near_m": near_m, "models": models, "weights": {k: str(v) for k, v in weights.items() if k in nets},
                "calibrate": bool(calibrate), "dp_reader": reader_label or "one network"}
    out = {"settings": settings, "methods": methods, "scenes": per_scene}
    if cal is not None:
        out["calibration"] = cal.to_dict()
    return out


def write_evaluation(out_dir: str | os.PathLike, results: dict, *, command: str | None = None) -> dict[str, Path]:
    """Write ``evaluate.json`` and ``report.html`` (the metrics table, predicted vs true slices) into ``out_dir``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from focuslab.files import ensure_dir, write_json_atomic
    from focuslab.html_report import Section, write_report

    out = ensure_dir(out_dir)
    paths = {"json": write_json_atomic(out / "evaluate.json", {**results, "command": command})}
    s = results["settings"]
    head = Section("Learning-to-Autofocus metrics (slice units)")
    near = "the minimum focus distance" if s.get("near_m") is None else f"{s['near_m']} m"
    head.text(f"{s['scenes']} simulated {s['slices']}-slice dual-pixel focal stacks, evenly spaced in diopters "
              f"from infinity to {near}, camera {s['camera']}, {s['crop_px']}-px AF region, "
              f"seed {s['seed']}. Errors are |predicted - true| in slices (Herrmann et al., CVPR 2020).")
    if "dp_reader" in s:
        head.text(f"dp-defocus reader: {s['dp_reader']} (focuslab.models.dp_cascade; --far-weights).")
    rows = []
    for name, m in results["methods"].items():
        mm = m["metrics"]
        rows.append([name, m["input"], mm["n"], mm["mae"], mm["rmse"], mm["within_0"], mm["within_1"],
                     mm["within_2"], mm["within_4"]])
    head.table(["method", "input", "n", "MAE", "RMSE", "= 0", "<= 1", "<= 2", "<= 4"], rows)
    sections = [head]
    scenes = [sc for sc in results["scenes"] if "dp_single_slice" in sc]
    if scenes:
        fig, ax = plt.subplots(figsize=(6.5, 4.5))
        for sc in scenes:
            ax.plot(np.arange(len(sc["dp_single_slice"])), np.clip(sc["dp_single_slice"], 0, s["slices"] - 1),
                    ".-", lw=0.8, ms=3, label=f"{sc['index']}: {sc['texture']} (true {sc['true_slice']})")
            ax.axhline(sc["true_slice"], color=ax.lines[-1].get_color(), lw=0.6, ls=":")
        ax.set_xlabel("input slice")
        ax.set_ylabel("predicted in-focus slice")
        ax.legend(fontsize=6, loc="best")
        sec = Section("dp-defocus from a single slice")
        sec.figure(fig, "Predicted in-focus slice from each input slice (dotted: the true slice of each stack).")
        sections.append(sec)
    cal = results.get("calibration")
    if cal:
        fig, ax = plt.subplots(figsize=(5.5, 4.5))
        k = np.asarray(cal["knots_dof"], dtype=float)
        ax.plot(k, k, color="0.6", lw=0.8, ls="--", label="identity")
        ax.plot(k, cal["values_dof"], "o-", ms=3, label="calibration (chart sweep)")
        for sc in scenes:
            if "dp_raw_defocus_dof" in sc:
                ax.plot(sc["dp_raw_defocus_dof"], sc["true_defocus_dof"], ".", ms=2, color="C1", alpha=0.4)
        ax.set_xlabel("network defocus, DoF")
        ax.set_ylabel("true defocus, DoF")
        ax.legend(fontsize=7)
        res = "n/a" if cal.get("residual_dof") is None else f"{cal['residual_dof']:.2f} DoF"
        sec = Section("Defocus calibration of dp-defocus")
        sec.text(f"Fitted on a dead-leaves chart swept through the lens range on {cal['camera']} "
                 f"({cal['used']} of {cal['points']} points kept, median residual {res}); "
                 "dots: the evaluation stacks' raw predictions against the truth (focuslab.models.dp_calibration).")
        sec.figure(fig, "Network defocus to true defocus.")
        sections.append(sec)
    paths["report"] = write_report(out / "report.html", "focuslab evaluate", sections, command=command)
    return paths


def format_table(results: dict) -> list[str]:
    """The metrics as aligned text lines (the CLI's output)."""
    w = max([28] + [len(name) for name in results["methods"]])
    lines = [f"{'method':{w}s} {'n':>5s} {'MAE':>6s} {'RMSE':>6s} {'=0':>6s} {'<=1':>6s} {'<=2':>6s} {'<=4':>6s}"]
    for name, m in results["methods"].items():
        mm = m["metrics"]
        lines.append(f"{name:{w}s} {mm['n']:5d} {mm['mae']:6.2f} {mm['rmse']:6.2f} {mm['within_0']:6.1%} "
                     f"{mm['within_1']:6.1%} {mm['within_2']:6.1%} {mm['within_4']:6.1%}")
    return lines


__all__ = ["evaluate_offline", "format_table", "write_evaluation"]
