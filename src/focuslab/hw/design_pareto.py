"""The Pareto front: the non-dominated designs over objectives with directions.

Design a dominates design b when a is at least as good as b in every objective and strictly
better in one (Deb, *Multi-Objective Optimization using Evolutionary Algorithms*, Wiley 2001,
Def. 2.5); the Pareto front is the set of designs no other design dominates. A design with a
missing (NaN) objective value is never on the front and dominates nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from focuslab.errors import InvalidParameterError

#: Valid objective directions.
DIRECTIONS = ("maximize", "minimize")


def _signed(values, directions: Sequence[str]) -> np.ndarray:
    """Values as an ``(n, k)`` float array with every objective turned into 'smaller is better'."""
    v = np.asarray(values, dtype=float)
    if v.ndim != 2 or v.shape[1] != len(directions):
        raise InvalidParameterError(
            f"values must be (n designs, {len(directions)} objectives), got shape {v.shape}")
    for d in directions:
        if d not in DIRECTIONS:
            raise InvalidParameterError(f"objective direction must be maximize or minimize, got {d!r}")
    sign = np.array([-1.0 if d == "maximize" else 1.0 for d in directions])
    return v * sign


def dominates(a, b, directions: Sequence[str]) -> bool:
    """Whether design ``a`` dominates design ``b`` (both 1-D objective vectors)."""
    s = _signed(np.vstack([a, b]), directions)
    if not np.all(np.isfinite(s)):
        return False
    return bool(np.all(s[0] <= s[1]) and np.any(s[0] < s[1]))


def pareto_mask(values, directions: Sequence[str]) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``values`` ``(n, k)``.

    Equal designs do not dominate each other, so duplicates on the front all stay on it.
    O(n^2 k), fine for catalogs and optimizer histories (thousands of designs).
    """
    s = _signed(values, directions)
    n = s.shape[0]
    ok = np.all(np.isfinite(s), axis=1)
    mask = ok.copy()
    for i in range(n):
        if not ok[i]:
            continue
        others = s[ok]
        dom = np.all(others <= s[i], axis=1) & np.any(others < s[i], axis=1)
        if np.any(dom):
            mask[i] = False
    return mask


def front_of_records(records: Sequence[Mapping], objectives: Mapping[str, str]) -> np.ndarray:
    """Pareto mask of figure dicts (``records[i][name]``) over ``objectives`` ``{name: direction}``.

    Raises
    ------
    InvalidParameterError
        When an objective is not a figure of the records (the message lists the figures).
    """
    if not records:
        return np.zeros(0, dtype=bool)
    names = list(objectives)
    for name in names:
        if name not in records[0]:
            numeric = sorted(k for k, v in records[0].items() if isinstance(v, int | float) and not isinstance(v, bool))
            raise InvalidParameterError(f"objective {name!r} is not a design figure; figures: {', '.join(numeric)}")
    vals = [[_num(r.get(n)) for n in names] for r in records]
    return pareto_mask(vals, [objectives[n] for n in names])


def _num(v) -> float:
    if v is None or isinstance(v, bool):
        return math.nan
    return float(v)
