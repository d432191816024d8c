"""Train the challenger on the pooled history and evaluate it, persistence and the champion on the same rows."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rps_core.errors import DatasetError, ModelError
from rps_core.features import HISTORY_HOURS, feature_columns, feature_names
from rps_core.forecasts.intervals import calibration_document, coverage, load_intervals
from rps_core.schema import Observations
from rps_core.times import format_hour
from rps_core.training import model as estimator
from rps_core.training.calibration import calibrate_intervals
from rps_core.training.metrics import evaluate, rounded
from rps_core.training.onnx_export import check_parity, parity_rows, to_onnx
from rps_core.training.reference import reference_stats
from rps_core.training.split import ROW_BUDGET, TEST_FRACTION, Table, build_table, rows_per_location, time_split


@dataclass
class TrainingResult:
    """What a training run produced: the fitted model, its ONNX export and what it was measured on."""

    model: Any
    onnx: bytes
    target: str
    horizon: int
    features: list[str]
    metrics: dict[str, Any]
    reference: dict[str, dict[str, Any]]
    split: dict[str, Any]
    params: dict[str, Any]
    onnx_max_abs_diff: float
    seconds: float
    champion_metrics: dict[str, Any] | None = None
    champion_note: str = ""
    # The interval calibration (``rps_core.forecasts.intervals``), keyed by horizon; stored in the pointer.
    intervals: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def history_hours(self) -> int:
        return HISTORY_HOURS


def champion_predictions(champion: Any, champion_features: Sequence[str], target: str, x: np.ndarray) -> np.ndarray:
    """The champion's predictions of the change on ``x`` (``build_features`` rows): its own columns, in its order."""
    return estimator.predict(champion, x[:, feature_columns(target, champion_features)])


def evaluate_champion(
    champion: Any, champion_doc: dict[str, Any], table: Table, test: np.ndarray, target: str, horizon: int
) -> tuple[dict[str, Any] | None, str]:
    """Metrics of the champion on the challenger's test rows, or None and why it cannot be compared."""
    if champion_doc.get("target") != target or int(champion_doc.get("horizon_hours", -1)) != horizon:
        return None, f"the champion forecasts {champion_doc.get('target')} at {champion_doc.get('horizon_hours')} h"
    try:
        pred = champion_predictions(champion, champion_doc.get("features") or [], target, table.x[test])
    except (ModelError, ValueError) as exc:
        return None, f"the champion cannot be evaluated on these features: {exc}"
    return rounded(evaluate(table.delta[test], pred, table.base[test], table.location[test])), ""


EXAMPLE_ROWS = 3


def example_rows(x: np.ndarray) -> list[list[float | None]]:
    """A few feature rows for the MLflow model's input example (complete rows first; JSON null for NaN)."""
    complete = x[~np.isnan(x).any(axis=1)]
    rows = (complete if len(complete) >= EXAMPLE_ROWS else x)[:EXAMPLE_ROWS]
    return [[None if v != v else round(float(v), 6) for v in row] for row in rows]


def fill_missing_columns(x: np.ndarray, names: list[str], target: str) -> np.ndarray:
    """``x`` with every all-missing column made constant, so the model ignores it.

    HistGradientBoosting cannot bin a column with no value (a bare ValueError). A target feature with no
    value means the history is too short: a named DatasetError. Another variable with no value means the
    stations do not report it (no pressure sensor, say): the model learns without it, and the column
    stays in the feature list so serving's inputs do not change shape.
    """
    empty = [j for j, column in enumerate(x.T) if np.isnan(column).all()]
    short = [names[j] for j in empty if names[j].startswith(target)]
    if short:
        raise DatasetError(
            f"the history is too short: {len(short)} features ({', '.join(short[:4])}) have no value in the "
            f"{len(x)} training rows; a row's features need up to {HISTORY_HOURS} hours before it"
        )
    if not empty:
        return x
    filled = x.copy()
    filled[:, empty] = 0.0
    return filled


def add_coverage(
    metrics: dict[str, Any],
    calibration: dict[str, Any],
    horizon: int,
    names: list[str],
    table: Table,
    test: np.ndarray,
    pred: np.ndarray,
) -> None:
    """The intervals' coverage and mean width on the test rows, into ``metrics`` (overall and per location)."""
    loaded = load_intervals(calibration, horizon, names)
    if loaded is None:
        return
    observed, scale_values, location = table.delta[test], table.x[test][:, loaded.column], table.location[test]
    metrics.update(coverage(observed, pred, loaded, scale_values))
    for name, scores in metrics["per_location"].items():
        at = location == name
        scores.update(coverage(observed[at], pred[at], loaded, scale_values[at]))


def train_and_evaluate(
    observations: Sequence[Observations],
    target: str,
    horizon: int,
    *,
    champion: Any = None,
    champion_doc: dict[str, Any] | None = None,
    test_fraction: float = TEST_FRACTION,
    params: dict[str, Any] | None = None,
    export: bool = True,
    row_budget: int | None = None,
    intervals: bool = True,
) -> TrainingResult:
    """Fit on the first 80% by time, measure on the last 20%; the returned model is the measured one.

    ``row_budget`` (default ROW_BUDGET) bounds the pooled table: each location gives its newest hours.
    ``intervals``: calibrate the 80% and 95% intervals on out-of-fold residuals of the training rows
    (``rps_core.training.calibration``) and measure their coverage and width on the test rows (the metrics'
    ``coverage_80``, ``width_80``, ``coverage_95``, ``width_95``, overall and per location).
    """
    start = time.perf_counter()
    row_budget = row_budget or ROW_BUDGET
    names = feature_names(target)
    table = build_table(observations, target, horizon, row_budget)
    train, test = time_split(table, horizon, test_fraction)
    x_train = fill_missing_columns(table.x[train], names, target)
    model = estimator.fit(x_train, table.delta[train], **(params or {}))
    pred = estimator.predict(model, table.x[test])
    metrics = evaluate(table.delta[test], pred, table.base[test], table.location[test])
    calibration, calibration_seconds = None, 0.0
    if intervals:
        started = time.perf_counter()
        fill = lambda x: fill_missing_columns(x, names, target)  # noqa: E731
        by_horizon = {horizon: calibrate_intervals(table, train, target, horizon, names, fill, params)}
        calibration = calibration_document(by_horizon)
        calibration_seconds = round(time.perf_counter() - started, 3)
        add_coverage(metrics, calibration, horizon, names, table, test, pred)
    metrics = rounded(metrics)
    onnx, diff = b"", 0.0
    if export:
        onnx = to_onnx(model, len(names))
        diff = check_parity(model, onnx, parity_rows(table.x[test]))
    champion_metrics, note = (None, "no champion")
    if champion is not None and champion_doc is not None:
        champion_metrics, note = evaluate_champion(champion, champion_doc, table, test, target, horizon)
    split = {
        "train_rows": int(train.sum()),
        "test_rows": int(test.sum()),
        "train_start": format_hour(table.t[train].min()),
        "train_end": format_hour(table.t[train].max()),
        "test_start": format_hour(table.t[test].min()),
        "test_end": format_hour(table.t[test].max()),
        "test_fraction": test_fraction,
        "row_budget": row_budget,
        "rows_per_location": rows_per_location(len(observations), row_budget),
        "calibration_seconds": calibration_seconds,
    }
    return TrainingResult(
        model=model,
        onnx=onnx,
        target=target,
        horizon=horizon,
        features=names,
        metrics=metrics,
        reference=reference_stats(table.x[train], names),
        split=split,
        params=estimator.resolve(int(train.sum()), **(params or {})),
        onnx_max_abs_diff=diff,
        seconds=round(time.perf_counter() - start, 3),
        champion_metrics=champion_metrics,
        champion_note=note,
        intervals=calibration,
        extra={"input_example": example_rows(table.x[test])},
    )
