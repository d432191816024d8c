"""Prediction intervals (issue 16, item 2): calibrated on out-of-fold residuals of the training rows, their
coverage measured on the held-out rows (a broken calibration fails that measure), lower <= value <= upper in
every forecast, and the calibration carried by the stored artifacts to the forecasts without scikit-learn."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import numpy as np
import pytest
from rps_core.errors import ModelError
from rps_core.features import HISTORY_HOURS
from rps_core.forecasts import forecast_input, load_model, predict
from rps_core.forecasts.intervals import (
    INTERVAL_FIELDS,
    LEVELS,
    Intervals,
    calibrate,
    conformal_quantile,
    coverage,
    load_intervals,
    scale_feature,
)
from rps_core.registry.pointer import read_candidate
from rps_core.training import build_table, time_split, train_and_evaluate
from rps_core.training import model as estimator
from rps_core.training.artifacts import candidate_document, write_candidate

from tests.unit.model_data import FAST_PARAMS, synthetic_observations, two_locations

TARGET = "temperature_2m"
HORIZON = 6
BUCKET = "rps-intervals-test"
pytestmark = pytest.mark.filterwarnings("ignore:Field onnx.AttributeProto:DeprecationWarning")
# Bands for the synthetic held-out rows (about 380 per location: a binomial standard error of 2 points at 80%,
# 1.1 at 95%); the product's bands on the embedded year (78-82%, 93-97%) are measured by `rps evaluate`.
BANDS = {"0.8": (0.72, 0.88), "0.95": (0.90, 0.99)}


@pytest.fixture(scope="module")
def trained():
    observations = two_locations(hours=24 * 80)
    result = train_and_evaluate(observations, TARGET, HORIZON, params=FAST_PARAMS)
    table = build_table(observations, TARGET, HORIZON)
    _, test = time_split(table, HORIZON)
    return result, table, test


def pointer_of(result, version: str = "3") -> dict:
    return {
        "model_version": version,
        "model_id": "m3",
        "run_id": "run-m3",
        "model_uri": "s3://models/models/m3/model.onnx",
        "sklearn_uri": "s3://models/models/m3/model.joblib",
        "target": TARGET,
        "horizon_hours": HORIZON,
        "history_hours": HISTORY_HOURS,
        "features": result.features,
        "reference": {},
        "metrics": {},
        "dataset_version": "abc",
        "trained_at": "2013-03-01T00:00",
        "promoted_at": "2013-03-01T00:05",
        "intervals": result.intervals,
    }


def held_out_coverage(result, table, test, calibration) -> dict[str, dict[str, float]]:
    """Per location: the share of held-out rows inside each level's interval (the model never saw these rows,
    nor did the calibration)."""
    loaded = load_intervals(calibration, HORIZON, result.features)
    assert loaded is not None
    pred = estimator.predict(result.model, table.x[test])
    observed, location = table.delta[test], table.location[test]
    scale_values = table.x[test][:, loaded.column]
    out = {}
    for name in np.unique(location):
        at = location == name
        measured = coverage(observed[at], pred[at], loaded, scale_values[at])
        out[str(name)] = {"0.8": measured["coverage_80"], "0.95": measured["coverage_95"]}
    return out


def calibrated(coverages: dict[str, dict[str, float]]) -> bool:
    return all(BANDS[k][0] <= share <= BANDS[k][1] for by_level in coverages.values() for k, share in by_level.items())


# ---------------------------------------------------------------- the calibration and its coverage
def test_the_calibration_is_keyed_by_horizon_with_both_levels(trained) -> None:
    result, _, _ = trained
    entry = result.intervals["by_horizon"][str(HORIZON)]
    assert result.intervals["levels"] == list(LEVELS)
    assert entry["scale_feature"] == scale_feature(TARGET) and entry["scale_offset"] > 0
    assert 0 < entry["quantiles"]["0.8"] < entry["quantiles"]["0.95"]
    assert entry["n"] > 0.5 * result.split["train_rows"]  # out-of-fold: nearly every training row


def test_coverage_on_held_out_rows_is_calibrated_and_a_broken_calibration_fails(trained) -> None:
    result, table, test = trained
    good = held_out_coverage(result, table, test, result.intervals)
    assert calibrated(good), good
    # the training run measured the same numbers on the same rows
    for name, by_level in good.items():
        assert result.metrics["per_location"][name]["coverage_80"] == pytest.approx(by_level["0.8"], abs=1e-4)
    # GIVEN a calibration whose quantiles are scaled down (intervals a third narrower) THEN coverage fails
    broken = copy.deepcopy(result.intervals)
    quantiles = broken["by_horizon"][str(HORIZON)]["quantiles"]
    for key in quantiles:
        quantiles[key] *= 0.67
    assert not calibrated(held_out_coverage(result, table, test, broken))


def test_width_and_coverage_are_reported_per_location(trained) -> None:
    result, _, _ = trained
    for scores in [result.metrics, *result.metrics["per_location"].values()]:
        assert 0 < scores["width_80"] < scores["width_95"]
        assert 0 < scores["coverage_80"] < scores["coverage_95"] <= 1


def test_conformal_quantile_and_too_few_residuals() -> None:
    scores = np.arange(1, 11, dtype=float)  # 10 scores: rank ceil(11 * 0.8) = 9
    assert conformal_quantile(scores, 0.8) == 9.0
    assert conformal_quantile(scores, 0.95) == 10.0  # rank 11 > n: the largest
    assert calibrate(np.ones(5), np.ones(5), TARGET) is None


def test_training_without_intervals_has_no_calibration() -> None:
    result = train_and_evaluate(two_locations(), TARGET, HORIZON, params=FAST_PARAMS, export=False, intervals=False)
    assert result.intervals is None and "coverage_80" not in result.metrics


# ---------------------------------------------------------------- forecasts carry them
def test_every_forecast_has_lower_below_value_below_upper(trained) -> None:
    result, _, _ = trained
    model = load_model(pointer_of(result), result.onnx)
    inputs = []
    for seed in range(6):
        obs = synthetic_observations(f"S{seed}", 24 * 12, seed=seed + 10, offset=float(seed))
        for back in (0, 5, 30):
            inputs.append(forecast_input(obs, TARGET, str(obs.time[-1 - back].astype("datetime64[m]"))))
    forecasts = predict(model, inputs)
    assert len(forecasts) == 18
    for f in forecasts:
        assert f.lower_95 <= f.lower_80 <= f.value <= f.upper_80 <= f.upper_95
        assert f.lower_80 < f.upper_80
        doc = f.document()
        assert doc["lower_80"] <= doc["value"] <= doc["upper_80"]
    # the half widths are q * scale: a more variable week gets a wider interval
    widths = np.array([f.upper_80 - f.lower_80 for f in forecasts])
    assert widths.min() > 0


def test_a_model_without_calibration_forecasts_without_intervals(trained) -> None:
    result, _, _ = trained
    pointer = pointer_of(result)
    del pointer["intervals"]  # a champion trained before intervals existed
    model = load_model(pointer, result.onnx)
    obs = synthetic_observations("X", 24 * 12, seed=5)
    forecast = predict(model, [obs])[0]
    assert all(getattr(forecast, name) is None for name in INTERVAL_FIELDS)
    assert all(forecast.document()[name] is None for name in INTERVAL_FIELDS)


@pytest.mark.parametrize(
    "damage",
    [
        lambda c: c["by_horizon"]["6"].pop("quantiles"),
        lambda c: c["by_horizon"]["6"]["quantiles"].update({"0.8": -1.0}),
        lambda c: c["by_horizon"]["6"].update({"scale_feature": "no_such_feature"}),
        lambda c: c["by_horizon"]["6"].update({"scale_offset": "wide"}),
    ],
)
def test_a_damaged_calibration_is_a_model_error(trained, damage) -> None:
    result, _, _ = trained
    calibration = copy.deepcopy(result.intervals)
    damage(calibration)
    with pytest.raises(ModelError, match="calibration"):
        load_model({**pointer_of(result), "intervals": calibration}, result.onnx)


def test_another_horizons_calibration_is_not_applied(trained) -> None:
    result, _, _ = trained
    assert load_intervals(result.intervals, HORIZON + 1, result.features) is None


# ---------------------------------------------------------------- stored with the model's artifacts
def test_the_calibration_round_trips_through_the_stored_artifacts(s3, trained, tmp_path) -> None:
    from mlflow.models import Model
    from rps_core.registry.mlmodel import mlmodel_files

    result, _, _ = trained
    trained_at = datetime(2013, 3, 1, tzinfo=UTC)
    doc = candidate_document(result, BUCKET, "m3", {"WARM": "v1", "COLD": "v2"}, trained_at)
    key = write_candidate(BUCKET, result, doc, client=s3)
    stored = read_candidate(BUCKET, key, s3)
    assert stored["intervals"] == result.intervals
    # the champion pointer Register writes is the candidate plus the registry's fields
    pointer = {**stored, "model_version": "3", "run_id": "", "promoted_at": "2013-03-01T00:05:00Z"}
    model = load_model(pointer, result.onnx)
    assert model.intervals == load_intervals(result.intervals, HORIZON, result.features)
    assert isinstance(model.intervals, Intervals)
    obs = synthetic_observations("X", 24 * 12, seed=7)
    a, b = predict(model, [obs])[0], predict(load_model(pointer_of(result), result.onnx), [obs])[0]
    assert (a.lower_80, a.upper_95) == (b.lower_80, b.upper_95)
    # and MLflow's copy of the model's metadata carries it too
    (tmp_path / "MLmodel").write_bytes(mlmodel_files(stored)["MLmodel"])
    assert Model.load(str(tmp_path / "MLmodel")).metadata["intervals"] == result.intervals
