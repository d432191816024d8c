"""Calibration of the prediction intervals on residuals the predicting model never saw: out-of-fold residuals
of the training period (``rps_core.forecasts.intervals`` holds the method and applies it).

The training rows are cut in time into ``OOF_FOLDS`` blocks; for each block one booster (the ensemble's
parameters, one seed) is fitted on the other blocks, less the rows whose label hour reaches into the block
(purge) and the ``horizon`` hours after it (embargo: their inputs are the block's labels), and predicts the
block. The exported model (the mean of 4 boosters on all training rows) never predicts a calibration row,
and the test 20% is used by neither: it measures the coverage. One booster per fold costs about
``OOF_FOLDS * 3/4`` boosters, below the ensemble's four: Train stays within twice its time without
intervals, and one booster's residuals are a little wider than the ensemble's (a conservative side).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rps_core.errors import DatasetError
from rps_core.forecasts.intervals import calibrate, scale_feature
from rps_core.training import model as estimator
from rps_core.training.split import Table

OOF_FOLDS = 4
MIN_FIT_ROWS = 50


def out_of_fold(
    table: Table,
    train: np.ndarray,
    horizon: int,
    fill: Any,
    params: dict[str, Any] | None = None,
    folds: int = OOF_FOLDS,
) -> np.ndarray:
    """Predicted changes of the training rows by models that did not see them (NaN elsewhere, and in a
    block whose fold had too few rows to fit). ``fill(x)`` prepares a fit's features (all-missing columns)."""
    pred = np.full(len(table), np.nan)
    t = table.t[train]
    if t.size == 0:
        return pred
    edges = np.quantile(t, np.linspace(0.0, 1.0, folds + 1))
    seed = (params or {}).get("random_state", estimator.PARAMS["random_state"])
    for k in range(folds):
        lo, hi = edges[k], edges[k + 1]
        block = train & (table.t >= lo) & ((table.t <= hi) if k == folds - 1 else (table.t < hi))
        rows = train & ((table.t + horizon < lo) | (table.t >= hi + horizon))
        if not block.any() or int(rows.sum()) < MIN_FIT_ROWS:
            continue
        overrides = {**(params or {}), "ensemble_size": 1, "random_state": None if seed is None else seed + 100 + k}
        try:
            model = estimator.fit(fill(table.x[rows]), table.delta[rows], **overrides)
        except (DatasetError, ValueError):  # a fold of a short history: no residuals from it
            continue
        pred[block] = estimator.predict(model, table.x[block])
    return pred


def calibrate_intervals(
    table: Table,
    train: np.ndarray,
    target: str,
    horizon: int,
    names: list[str],
    fill: Any,
    params: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """This horizon's calibration (``rps_core.forecasts.intervals.calibrate``), None when too few residuals."""
    pred = out_of_fold(table, train, horizon, fill, params)
    scale_values = table.x[:, names.index(scale_feature(target))]
    known = ~np.isnan(pred)
    return calibrate(table.delta[known] - pred[known], scale_values[known], target)
