"""Forecast metrics on the test rows: the model against persistence (tomorrow = now, a change of zero)."""

from __future__ import annotations

from typing import Any

import numpy as np


def _scores(delta: np.ndarray, pred: np.ndarray, base: np.ndarray) -> dict[str, float]:
    err = pred - delta
    mae = float(np.mean(np.abs(err)))
    persistence = float(np.mean(np.abs(delta)))
    level = base + delta  # the observed value at t + h
    ss_tot = float(np.sum((level - level.mean()) ** 2))
    return {
        "mae": mae,
        "rmse": float(np.sqrt(np.mean(err**2))),
        # R² of the forecast value y(t+h) (what users see) and of the change (what the model adds).
        "r2": 1.0 - float(np.sum(err**2)) / ss_tot if ss_tot > 0 else float("nan"),
        "r2_change": 1.0 - float(np.sum(err**2)) / float(np.sum((delta - delta.mean()) ** 2) or np.nan),
        "persistence_mae": persistence,
        "skill": 1.0 - mae / persistence if persistence > 0 else float("nan"),
        "n": int(delta.shape[0]),
    }


def evaluate(delta: np.ndarray, pred: np.ndarray, base: np.ndarray, location: np.ndarray) -> dict[str, Any]:
    """Overall scores plus ``per_location``: {name: scores}."""
    result: dict[str, Any] = _scores(delta, pred, base)
    result["per_location"] = {
        str(name): _scores(delta[location == name], pred[location == name], base[location == name])
        for name in np.unique(location)
    }
    return result


def rounded(metrics: dict[str, Any], digits: int = 4) -> dict[str, Any]:
    """The same metrics with floats rounded, for JSON documents and logs (NaN becomes None)."""

    def fix(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: fix(x) for k, x in v.items()}
        if isinstance(v, float):
            return None if np.isnan(v) else round(v, digits)
        return v

    return fix(metrics)
