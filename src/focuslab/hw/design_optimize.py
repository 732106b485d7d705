"""Multi-objective optimization over continuous lens/sensor parameters (Optuna NSGA-II, seeded).

The catalog's ``optimize:`` section names a base lens and a base sensor, bounds for any of
:data:`PARAMETERS` and the objectives (figures of :func:`focuslab.hw.design_figures.optical_figures`
with directions). A trial's design is the base design scaled to the trial's parameters:

* **Lens.** Focal length f and f-number N replace the base's f0 and N0 (transmission and
  minimum focus distance kept). The lens form is scaled, so each Seidel coefficient
  W_klm (k = power of the field, l = power of the pupil radius) becomes
  W_klm (f / f0)^(1 - k) (N0 / N)^l: wavefront lengths scale with the lens size f, with the
  aperture radius as rho^l, and with the field angle of the fixed sensor's corner
  (tan theta proportional to 1 / f) as h^k (Hopkins, *Wave Theory of Aberrations*, 1950,
  ch. 4; W. J. Smith, *Modern Optical Engineering*, 4th ed., sec. 10.8 on aberration
  scaling). Zernike terms of radial order n scale as (f / f0) (N0 / N)^n.
* **Sensor.** Pixel pitch p replaces p0 at the same active area (optical format): the
  resolution becomes round(width / p) x round(height / p); full well and dark current scale
  with the pixel area (p / p0)^2; QE and read noise are kept; the conversion gain maps the
  new full well onto the ADC range.

The sampler is ``optuna.samplers.NSGAIISampler(seed=seed)`` (Deb et al., IEEE TEVC 6 (2002)
182-197); trials run one after another, so the same seed gives the same trials. A trial
whose design is impossible (a PSF beyond the wave model, a minimum focus inside the focal
length) is recorded as failed and left out of the front.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np

from focuslab.errors import FocuslabError, InvalidParameterError
from focuslab.hw.design_catalog import DesignCatalog, parse_objectives
from focuslab.hw.design_figures import FIGURE_NAMES, optical_figures
from focuslab.hw.design_pareto import pareto_mask
from focuslab.optics.lens import LensSpec
from focuslab.optics.psf_field import SeidelAberrations
from focuslab.optics.zernike import ZERNIKE_NAMES, noll_to_nm
from focuslab.sensor.spec import SensorSpec

#: Continuous design parameters the optimizer can vary.
PARAMETERS = ("focal_length_mm", "f_number", "pixel_pitch_um")

#: (field power k, pupil power l) of each Seidel coefficient.
_SEIDEL_POWERS = {"w040_um": (0, 4), "w131_um": (1, 3), "w222_um": (2, 2), "w220_um": (2, 2)}

_OPTIMIZE_FIELDS = ("lens", "sensor", "bounds", "objectives", "trials", "seed")


@dataclass(frozen=True)
class OptimizeSpec:
    """The parsed ``optimize:`` section."""

    lens: object  # LensCandidate
    sensor: object  # SensorCandidate
    bounds: dict
    objectives: dict
    trials: int = 40
    seed: int = 0


def parse_optimize(catalog: DesignCatalog, *, trials: int | None = None, seed: int | None = None) -> OptimizeSpec:
    """The catalog's optimizer set-up; ``trials``/``seed`` override the section's values."""
    where = f"{catalog.source}: optimize"
    sec = catalog.optimize
    if not sec:
        raise InvalidParameterError(f"{catalog.source} has no optimize: section; add one (see docs/hw_design.md) "
                                    "or run without --optimize")
    unknown = [k for k in sec if k not in _OPTIMIZE_FIELDS]
    if unknown:
        raise InvalidParameterError(f"{where}: unknown field {unknown[0]!r}; valid: {', '.join(_OPTIMIZE_FIELDS)}")
    lens = catalog.lens(sec.get("lens", catalog.lenses[0].name))
    sensor = catalog.sensor(sec.get("sensor", catalog.sensors[0].name))
    bounds = sec.get("bounds")
    if not isinstance(bounds, dict) or not bounds:
        raise InvalidParameterError(f"{where}: bounds must map parameters to [low, high]; parameters: "
                                    f"{', '.join(PARAMETERS)}")
    checked = {}
    for name, b in bounds.items():
        if name not in PARAMETERS:
            raise InvalidParameterError(f"{where}: unknown parameter {name!r}; parameters: {', '.join(PARAMETERS)}")
        ok = isinstance(b, list | tuple) and len(b) == 2 and all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in b)
        if not ok or not 0 < b[0] < b[1]:
            raise InvalidParameterError(f"{where}: bounds of {name} must be [low, high] with 0 < low < high, got {b!r}")
        checked[name] = (float(b[0]), float(b[1]))
    if "f_number" in checked and checked["f_number"][0] < 0.5:
        raise InvalidParameterError(f"{where}: f_number bounds start below 0.5, the limit of a lens in air")
    objectives = parse_objectives(sec.get("objectives", {"corner_mtf50_lw_ph": "maximize", "snr_10lux": "maximize"}),
                                  f"{where}: objectives")
    for name in objectives:
        if name not in FIGURE_NAMES:
            raise InvalidParameterError(f"{where}: objective {name!r} is not an analytic figure; "
                                        f"use one of {', '.join(FIGURE_NAMES)}")
    n = sec.get("trials", 40) if trials is None else trials
    sd = sec.get("seed", 0) if seed is None else seed
    for key, v, lo in (("trials", n, 1), ("seed", sd, 0)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise InvalidParameterError(f"{where}: {key} must be an integer >= {lo}, got {v!r}")
    return OptimizeSpec(lens, sensor, checked, objectives, n, sd)


def scaled_lens(lens: LensSpec, seidel: SeidelAberrations, zernike_um, *, focal_length_mm: float,
                f_number: float) -> tuple[LensSpec, SeidelAberrations, dict]:
    """The base lens scaled to ``focal_length_mm`` and ``f_number`` (module notes)."""
    fr = focal_length_mm / lens.focal_length_mm
    nr = lens.f_number / f_number
    new_seidel = SeidelAberrations(**{k: getattr(seidel, k) * fr ** (1 - p[0]) * nr ** p[1]
                                      for k, p in _SEIDEL_POWERS.items()})
    zern = {}
    for key, value in dict(zernike_um).items():
        j = ZERNIKE_NAMES[key] if isinstance(key, str) else int(key)
        zern[key] = value * fr * nr ** noll_to_nm(j)[0]
    spec = replace(lens, focal_length_mm=float(focal_length_mm), f_number=float(f_number),
                   name=f"{lens.name}@f{focal_length_mm:.3g}/N{f_number:.3g}")
    return spec, new_seidel, zern


def scaled_sensor(sensor: SensorSpec, *, pixel_pitch_um: float) -> SensorSpec:
    """The base sensor with pitch ``pixel_pitch_um`` on the same active area (module notes)."""
    w_mm, h_mm = sensor.size_mm
    area = (pixel_pitch_um / sensor.pixel_pitch_um) ** 2
    fw = sensor.full_well_e * area
    return replace(sensor, name=f"{sensor.name}@{pixel_pitch_um:.3g}um", pixel_pitch_um=float(pixel_pitch_um),
                   width_px=max(1, round(w_mm * 1000.0 / pixel_pitch_um)),
                   height_px=max(1, round(h_mm * 1000.0 / pixel_pitch_um)),
                   full_well_e=fw, dark_current_e_per_s=sensor.dark_current_e_per_s * area,
                   conversion_gain_dn_per_e=(sensor.white_level_dn - sensor.black_level_dn) / fw)


def design_evaluator(spec: OptimizeSpec, settings: dict) -> Callable[[dict], dict]:
    """``params -> figures`` of the scaled design (the analytic figures only; no AF)."""
    base_lens, base_sensor = spec.lens, spec.sensor

    def evaluate(params: Mapping[str, float]) -> dict:
        lens, seidel, zern = scaled_lens(
            base_lens.spec, base_lens.seidel, dict(base_lens.zernike_um),
            focal_length_mm=params.get("focal_length_mm", base_lens.spec.focal_length_mm),
            f_number=params.get("f_number", base_lens.spec.f_number))
        sensor = scaled_sensor(base_sensor.spec,
                               pixel_pitch_um=params.get("pixel_pitch_um", base_sensor.spec.pixel_pitch_um))
        return optical_figures(lens, seidel, zern, sensor, settings=settings)[0]

    return evaluate


def optimize_design(evaluate: Callable[[dict], dict], bounds: Mapping[str, tuple[float, float]],
                    objectives: Mapping[str, str], *, trials: int, seed: int = 0,
                    population_size: int | None = None) -> list[dict]:
    """Run NSGA-II over ``bounds`` and return every trial with its figures and front membership.

    Parameters
    ----------
    evaluate
        ``params -> figures``; a :class:`~focuslab.errors.FocuslabError` marks the trial failed.
    bounds
        ``{parameter: (low, high)}`` (uniform, continuous).
    objectives
        ``{figure: "maximize"|"minimize"}`` (one or more).
    trials, seed
        Number of trials (sequential) and sampler seed.
    population_size
        NSGA-II population; default ``clip(trials // 5, 4, 50)`` (about five generations).

    Returns
    -------
    list[dict]
        ``{"number", "params", "values" (objective -> value), "figures", "status": "ok"|"failed",
        "reason", "pareto": bool}`` in trial order.
    """
    import optuna

    names = list(objectives)
    pop = population_size or int(np.clip(trials // 5, 4, 50))
    records: list[dict] = []
    seen: dict[tuple, dict | str] = {}  # NSGA-II can breed a child equal to a parent: evaluate it once

    def objective(trial):
        params = {k: trial.suggest_float(k, lo, hi) for k, (lo, hi) in bounds.items()}
        rec = {"number": trial.number, "params": params, "status": "ok", "reason": "", "pareto": False}
        records.append(rec)
        key = tuple(sorted(params.items()))
        if key not in seen:
            try:
                seen[key] = evaluate(params)
            except FocuslabError as exc:
                seen[key] = str(exc)
        figs = seen[key]
        if isinstance(figs, str):
            rec.update(status="failed", reason=figs, figures={}, values={})
            raise optuna.TrialPruned()
        vals = [float(figs[n]) for n in names]
        rec.update(figures=figs, values=dict(zip(names, vals, strict=True)))
        if not all(math.isfinite(v) for v in vals):
            rec.update(status="failed", reason="a figure is not finite")
            raise optuna.TrialPruned()
        return vals

    old = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        sampler = optuna.samplers.NSGAIISampler(seed=int(seed), population_size=pop)
        study = optuna.create_study(directions=[objectives[n] for n in names], sampler=sampler)
        study.optimize(objective, n_trials=int(trials), n_jobs=1)
    finally:
        optuna.logging.set_verbosity(old)
    ok = [r for r in records if r["status"] == "ok"]
    if ok:
        mask = pareto_mask([[r["values"][n] for n in names] for r in ok], [objectives[n] for n in names])
        for r, m in zip(ok, mask, strict=True):
            r["pareto"] = bool(m)
    return records


def run_catalog_optimizer(catalog: DesignCatalog, *, trials: int | None = None, seed: int | None = None) -> dict:
    """Run the catalog's ``optimize:`` section; the results.json ``optimizer`` block.

    Returns
    -------
    dict
        ``lens``, ``sensor`` (base names), ``bounds``, ``objectives``, ``seed``, ``trials`` (the
        records of :func:`optimize_design`, figures included) and ``front`` (trial numbers).
    """
    spec = parse_optimize(catalog, trials=trials, seed=seed)
    records = optimize_design(design_evaluator(spec, catalog.settings), spec.bounds, spec.objectives,
                              trials=spec.trials, seed=spec.seed)
    return {"lens": spec.lens.name, "sensor": spec.sensor.name, "bounds": {k: list(v) for k, v in spec.bounds.items()},
            "objectives": spec.objectives, "seed": spec.seed, "trials": records,
            "front": [r["number"] for r in records if r["pareto"]]}
