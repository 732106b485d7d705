"""Population anomaly detection: robust Mahalanobis (MinCovDet) and isolation forest scores.

Each unit's qualification results (:mod:`focuslab.hw.anomaly_features`) form a feature
vector. The scorers are trained on one simulated population assumed mostly good (its few
faulty units are not removed: both methods are robust to a small contamination) and scored
on a *held-out* population drawn with another seed, whose truth labels give the AUROC
(:func:`sklearn.metrics.roc_auc_score`) overall and per fault kind (good units vs units of
that kind).

* Features are centred on the training medians and scaled by 1.4826 MAD (robust z-scores;
  the standard deviation where the MAD is 0); missing values (a fit that could not be made)
  are set to the training median, i.e. z = 0, plus a flag feature counting them.
* Robust covariance: the minimum covariance determinant estimate (Rousseeuw 1984; FAST-MCD,
  Rousseeuw & Van Driessen, Technometrics 41 (1999) 212), ``sklearn.covariance.MinCovDet``;
  score = squared Mahalanobis distance to the robust centre.
* Isolation forest (Liu, Ting & Zhou, ICDM 2008), ``sklearn.ensemble.IsolationForest``;
  score = -score_samples (higher = more anomalous).
* "Why": the features of a unit with the largest |robust z|.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from focuslab.errors import InvalidParameterError
from focuslab.hw.anomaly_features import FEATURES, reference_chart, series_positions_um, unit_features
from focuslab.hw.module_model import ModuleDesign
from focuslab.hw.population import FAULT_KINDS, ModuleUnit, capture_unit, sample_population

METHODS = ("mcd", "iforest")
#: Seed offset of the held-out population.
HELD_OUT_SEED_OFFSET = 1000


@dataclass(frozen=True)
class Population:
    """Units and their feature matrix (rows in unit order, columns :data:`FEATURES`)."""

    units: tuple[ModuleUnit, ...]
    features: np.ndarray
    seconds: float

    @property
    def labels(self) -> np.ndarray:
        return np.array([u.faulty for u in self.units])


def _unit_row(args) -> np.ndarray:
    design, unit, chart, pos = args
    return unit_features(capture_unit(design, unit, pos), design=design, chart=chart, positions_um=pos)


def measure_population(design: ModuleDesign, units, *, chart=None, workers: int = 1) -> Population:
    """Capture and measure every unit (:func:`~focuslab.hw.population.capture_unit`).

    ``workers`` > 1 spreads the units over a process pool; every unit carries its own seed, so
    the features do not depend on the number of workers.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidParameterError(f"workers must be an integer >= 1, got {workers!r}")
    t0 = time.perf_counter()
    chart = reference_chart(design) if chart is None else chart
    pos = series_positions_um(design)
    jobs = [(design, u, chart, pos) for u in units]
    if workers == 1:
        rows = [_unit_row(j) for j in jobs]
    else:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers) as pool:
            rows = list(pool.map(_unit_row, jobs, chunksize=max(1, len(jobs) // (4 * workers))))
    return Population(tuple(units), np.vstack(rows), time.perf_counter() - t0)


@dataclass(frozen=True)
class RobustScaler:
    """Training medians and robust scales of each feature."""

    centre: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> RobustScaler:
        centre = np.nanmedian(x, axis=0)
        centre = np.where(np.isfinite(centre), centre, 0.0)
        mad = 1.4826 * np.nanmedian(np.abs(x - centre), axis=0)
        std = np.nanstd(x, axis=0)
        scale = np.where(np.isfinite(mad) & (mad > 1e-12), mad, np.where(np.isfinite(std) & (std > 1e-12), std, 1.0))
        return cls(centre, scale)

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Robust z-scores; missing values -> 0, plus a last column counting them."""
        z = (x - self.centre) / self.scale
        missing = ~np.isfinite(z)
        z = np.where(missing, 0.0, z)
        return np.column_stack([z, missing.sum(axis=1)])


@dataclass(frozen=True)
class AnomalyModel:
    """The fitted scaler and scorers."""

    scaler: RobustScaler
    mcd: object
    iforest: object

    def scores(self, x: np.ndarray) -> dict[str, np.ndarray]:
        z = self.scaler.transform(x)
        return {"mcd": self.mcd.mahalanobis(z), "iforest": -self.iforest.score_samples(z)}


def fit_anomaly_model(train: np.ndarray, *, seed: int = 0) -> AnomalyModel:
    """Fit the robust scaler, MinCovDet and IsolationForest on a (mostly good) population."""
    from sklearn.covariance import MinCovDet
    from sklearn.ensemble import IsolationForest

    x = np.asarray(train, float)
    if x.ndim != 2 or x.shape[0] < x.shape[1] + 2:
        raise InvalidParameterError(
            f"the training population needs more modules than features + 1 ({x.shape[1] + 2}), got {x.shape[0]}; "
            "use more --modules")
    scaler = RobustScaler.fit(x)
    z = scaler.transform(x)
    # a tiny seeded jitter keeps the covariance non-singular when a feature is constant (0 defects...)
    z = z + np.random.default_rng(seed).normal(0.0, 1e-6, z.shape)
    with warnings.catch_warnings():  # "not full rank" when a feature hardly varies; the MCD copes
        warnings.simplefilter("ignore", UserWarning)
        mcd = MinCovDet(random_state=seed).fit(z)
    forest = IsolationForest(n_estimators=200, random_state=seed).fit(z)
    return AnomalyModel(scaler, mcd, forest)


def top_reasons(model: AnomalyModel, x_row: np.ndarray, k: int = 3) -> list[tuple[str, float]]:
    """The ``k`` features with the largest |robust z| of one unit: (name, z)."""
    z = model.scaler.transform(x_row[None, :])[0, :-1]
    order = np.argsort(-np.abs(z))[:k]
    return [(FEATURES[i], float(z[i])) for i in order]


@dataclass(frozen=True)
class AnomalyResult:
    """Scores of the held-out population and their AUROCs."""

    train: Population
    test: Population
    scores: dict[str, np.ndarray]
    auroc: dict[str, float]
    auroc_by_fault: dict[str, dict[str, float]]
    top: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        def num(v):
            return None if v is None or not math.isfinite(v) else round(float(v), 6)

        return {
            "features": list(FEATURES),
            "train": {"modules": len(self.train.units), "faulty": int(self.train.labels.sum()),
                      "seconds": round(self.train.seconds, 2)},
            "test": {"modules": len(self.test.units), "faulty": int(self.test.labels.sum()),
                     "seconds": round(self.test.seconds, 2)},
            "auroc": {k: num(v) for k, v in self.auroc.items()},
            "auroc_by_fault": {m: {k: num(v) for k, v in d.items()} for m, d in self.auroc_by_fault.items()},
            "top": self.top,
            "modules": [{"index": u.index, "fault": u.fault, **{m: num(self.scores[m][i]) for m in METHODS}}
                        for i, u in enumerate(self.test.units)],
        }


def evaluate_anomalies(train: Population, test: Population, *, seed: int = 0, top_k: int = 10) -> AnomalyResult:
    """Fit on ``train``, score ``test``, AUROC overall and per fault kind (NaN without both classes)."""
    from sklearn.metrics import roc_auc_score

    model = fit_anomaly_model(train.features, seed=seed)
    scores = model.scores(test.features)
    y = test.labels
    faults = np.array([u.fault or "" for u in test.units])

    def auc(sel: np.ndarray, s: np.ndarray) -> float:
        return float(roc_auc_score(y[sel], s[sel])) if 0 < y[sel].sum() < sel.sum() else math.nan

    everyone = np.ones(len(y), bool)
    auroc = {m: auc(everyone, scores[m]) for m in METHODS}
    by_fault = {m: {k: auc((faults == k) | ~y, scores[m]) for k in FAULT_KINDS} for m in METHODS}
    order = np.argsort(-scores["mcd"])[:top_k]
    top = [{"index": test.units[i].index, "fault": test.units[i].fault, "mcd": float(scores["mcd"][i]),
            "iforest": float(scores["iforest"][i]),
            "why": [{"feature": f, "z": round(z, 2)} for f, z in top_reasons(model, test.features[i])]}
           for i in order]
    return AnomalyResult(train, test, scores, auroc, by_fault, top)


def run_anomaly_study(design: ModuleDesign, *, modules: int, faulty_fraction: float, seed: int,
                      train_modules: int | None = None, workers: int = 1) -> AnomalyResult:
    """Simulate a training population (``seed``) and a held-out one (``seed + 1000``), score, evaluate."""
    n_train = modules if train_modules is None else train_modules
    if n_train < len(FEATURES) + 3:
        raise InvalidParameterError(
            f"the training population needs at least {len(FEATURES) + 3} modules (features + 3), got {n_train}; "
            "use more --modules or --train-modules")
    chart = reference_chart(design)
    train_units = sample_population(design, n_train, faulty_fraction=faulty_fraction, seed=seed)
    test_units = sample_population(design, modules, faulty_fraction=faulty_fraction, seed=seed + HELD_OUT_SEED_OFFSET)
    train = measure_population(design, train_units, chart=chart, workers=workers)
    test = measure_population(design, test_units, chart=chart, workers=workers)
    return evaluate_anomalies(train, test, seed=seed)
