"""Prediction intervals: split-conformal quantiles of scaled residuals, numpy only (serving and the Forecast
step apply them without scikit-learn).

The interval of a forecast at level ``a`` is ``value ± q_a * s``, where ``s`` is the row's scale, the target's
standard deviation over the last 72 h (a feature the model already reads) plus a constant: the median of that
standard deviation over the calibration rows. ``q_a`` is the conformal quantile (rank ``ceil((n + 1) a)`` of
``n``) of ``|residual| / s`` over residuals of models that never saw their rows (the Train step's out-of-fold
residuals, ``rps_core.training.train``). The scale lets one calibration serve every location and season: the
weather of a variable week gives wider intervals, of a settled one narrower, at any climate.

The calibration is a JSON document, keyed by horizon (``by_horizon["6"]``), stored in the model's pointer
(``intervals``) and in its MLflow metadata:
``{"method", "levels": [0.8, 0.95], "by_horizon": {"6": {"scale_feature", "scale_offset", "scale_fill",
"quantiles": {"0.8": q, "0.95": q}, "n"}}}``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rps_core.errors import ModelError

LEVELS = (0.8, 0.95)
METHOD = "split-conformal |residual| / (std_72h + median std_72h), out-of-fold residuals"
SCALE_SUFFIX = "_std_72h"
MIN_CALIBRATION_ROWS = 20  # fewer residuals give no interval rather than a meaningless one


def scale_feature(target: str) -> str:
    return target + SCALE_SUFFIX


def level_key(level: float) -> str:
    return f"{level:g}"


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    """The ``ceil((n + 1) * level)``-th smallest score (the largest when that rank passes ``n``)."""
    v = np.sort(scores[~np.isnan(scores)])
    if v.size == 0:
        raise ValueError("no scores to calibrate on")
    rank = math.ceil((v.size + 1) * level)
    return float(v[min(rank, v.size) - 1])


def percent(key: str) -> str:
    """``"0.8"`` -> ``"80"``: the level as the field names say it (``lower_80``, ``coverage_95``)."""
    return f"{round(float(key) * 100):d}"


# The bounds' names wherever a forecast carries them (forecast documents, the API, the drift monitor), in the
# order of LEVELS, lower then upper: lower_80, upper_80, lower_95, upper_95.
INTERVAL_FIELDS = tuple(f"{side}_{percent(level_key(a))}" for a in LEVELS for side in ("lower", "upper"))


def scale(values: np.ndarray, offset: float, fill: float) -> np.ndarray:
    """The rows' interval scale: the scale feature (``fill`` where missing) plus ``offset``."""
    v = np.asarray(values, dtype=np.float64)
    return np.where(np.isnan(v), fill, v) + offset


def calibrate(
    residuals: np.ndarray, scale_values: np.ndarray, target: str, levels: Sequence[float] = LEVELS
) -> dict[str, Any] | None:
    """One horizon's calibration from residuals (observed minus predicted change) of rows the predicting
    model never saw, and those rows' scale feature; None when there are too few residuals."""
    known = ~np.isnan(residuals)
    residuals, scale_values = residuals[known], np.asarray(scale_values, dtype=np.float64)[known]
    if residuals.size < MIN_CALIBRATION_ROWS:
        return None
    finite = scale_values[~np.isnan(scale_values)]
    fill = float(np.median(finite)) if finite.size else 0.0
    offset = max(fill, 1e-6)  # keeps the scale positive where the variable stood still for 72 h
    scores = np.abs(residuals) / scale(scale_values, offset, fill)
    return {
        "scale_feature": scale_feature(target),
        "scale_offset": round(offset, 6),
        "scale_fill": round(fill, 6),
        "quantiles": {level_key(a): round(conformal_quantile(scores, a), 6) for a in levels},
        "n": int(residuals.size),
    }


def calibration_document(by_horizon: dict[int, dict[str, Any] | None], levels: Sequence[float] = LEVELS) -> dict:
    """The document stored with the model: the calibrated horizons only (empty when none could be)."""
    return {
        "method": METHOD,
        "levels": [float(a) for a in levels],
        "by_horizon": {str(h): c for h, c in sorted(by_horizon.items()) if c is not None},
    }


@dataclass(frozen=True)
class Intervals:
    """A loaded calibration of one horizon: ``bounds(value, scale_values)`` gives each level's (lower, upper)."""

    horizon: int
    column: int  # the scale feature's column among the model's features
    offset: float
    fill: float
    quantiles: tuple[tuple[str, float], ...]  # (level key, q), in the order of the levels

    def half_widths(self, scale_values: np.ndarray) -> dict[str, np.ndarray]:
        s = scale(scale_values, self.offset, self.fill)
        return {key: q * s for key, q in self.quantiles}

    def bounds(self, value: np.ndarray, scale_values: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        return {key: (value - half, value + half) for key, half in self.half_widths(scale_values).items()}


def load_intervals(document: Any, horizon: int, features: Sequence[str]) -> Intervals | None:
    """The calibration of ``horizon`` for a model reading ``features``; None when the model has none (a
    model trained before intervals existed); ModelError when it is damaged."""
    if document is None:
        return None
    try:
        entry = (document.get("by_horizon") or {}).get(str(horizon))
        if entry is None:
            return None
        name = str(entry["scale_feature"])
        if name not in features:
            raise ModelError(f"interval calibration: the scale feature {name} is not among the model's features")
        quantiles = tuple((str(k), float(v)) for k, v in entry["quantiles"].items())
        offset, fill = float(entry["scale_offset"]), float(entry["scale_fill"])
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"interval calibration is damaged: {exc!r}") from exc
    numbers = [offset, fill, *(q for _, q in quantiles)]
    if not quantiles or not all(math.isfinite(x) and x >= 0 for x in numbers) or offset <= 0:
        raise ModelError(f"interval calibration has invalid numbers: {entry}")
    return Intervals(horizon, list(features).index(name), offset, fill, quantiles)


def coverage(
    observed: np.ndarray, value: np.ndarray, intervals: Intervals, scale_values: np.ndarray
) -> dict[str, float]:
    """``coverage_80``, ``width_80``, ... of the intervals around ``value`` on the ``observed`` values."""
    out: dict[str, float] = {}
    for key, (lo, hi) in intervals.bounds(value, scale_values).items():
        name = percent(key)
        out[f"coverage_{name}"] = float(np.mean((observed >= lo) & (observed <= hi))) if observed.size else float("nan")
        out[f"width_{name}"] = float(np.mean(hi - lo)) if observed.size else float("nan")
    return out
