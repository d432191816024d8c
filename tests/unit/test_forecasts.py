"""Forecasts: the ONNX runtime wrapper and the forecast at "now" from the last HISTORY_HOURS observations, as
the Forecast step makes them (serving's requests take the same path: test_serving_model)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from rps_core.errors import DatasetError, ModelError
from rps_core.features import HISTORY_HOURS, RowFeatures, build_features, feature_columns, feature_names
from rps_core.forecasts import ForecastInput, OnnxModel, forecast_input, forecast_key, load_model, predict
from rps_core.schema import VARIABLES
from rps_core.training import train_and_evaluate

from tests.unit.model_data import FAST_PARAMS, synthetic_observations, two_locations

TARGET = "temperature_2m"
pytestmark = pytest.mark.filterwarnings("ignore:Field onnx.AttributeProto:DeprecationWarning")


@pytest.fixture(scope="module")
def champion():
    result = train_and_evaluate(two_locations(), TARGET, 6, params=FAST_PARAMS)
    pointer = {
        "model_version": "7",
        "model_id": "m7",
        "run_id": "run-m7",
        "model_uri": "s3://models/models/m7/model.onnx",
        "sklearn_uri": "s3://models/models/m7/model.joblib",
        "target": TARGET,
        "horizon_hours": 6,
        "history_hours": HISTORY_HOURS,
        "features": result.features,
        "reference": {},
        "metrics": {},
        "dataset_version": "abc",
        "trained_at": "2013-03-01T00:00",
        "promoted_at": "2013-03-01T00:05",
    }
    return result, load_model(pointer, result.onnx), pointer


def forecast_from_observations(model, obs, issued_at):
    return predict(model, [forecast_input(obs, TARGET, issued_at)])[0]


def test_forecast_is_the_last_value_plus_the_predicted_change(champion) -> None:
    result, model, _ = champion
    obs = synthetic_observations("X", 24 * 20, seed=3)
    obs.values[TARGET][-3:] = np.nan  # the newest hours lack the target: forecast from the last known one
    issued = str(obs.time[-1].astype("datetime64[m]"))
    forecast = forecast_from_observations(model, obs, issued)
    last = len(obs) - 4
    expected = obs.values[TARGET][last] + result.model.predict(build_features(obs, TARGET)[last : last + 1])[0]
    assert forecast.value == pytest.approx(expected, abs=1e-3)
    assert forecast.base_time == str(obs.time[last].astype("datetime64[m]"))
    assert forecast.target_time == str((obs.time[last] + np.timedelta64(6, "h")).astype("datetime64[m]"))
    assert forecast.issued_at == issued and forecast.model_version == "7"


def test_forecast_uses_only_data_up_to_issue_time(champion) -> None:
    _, model, _ = champion
    obs = synthetic_observations("X", 24 * 20, seed=4)
    at = str(obs.time[300].astype("datetime64[m]"))
    head = obs.slice(0, 301)
    assert forecast_from_observations(model, obs, at) == forecast_from_observations(model, head, at)


def test_many_locations_are_forecast_in_one_model_call_with_the_same_numbers(champion) -> None:
    _, model, _ = champion
    places = [synthetic_observations(f"P{i}", 24 * 10, seed=10 + i) for i in range(25)]
    at = str(places[0].time[-1].astype("datetime64[m]"))
    calls: list[int] = []
    real_predict = model.onnx.predict

    class Counting:
        def predict(self, x):
            calls.append(len(x))
            return real_predict(x)

    counting = dataclasses.replace(model, onnx=Counting())
    together = predict(counting, [forecast_input(obs, TARGET, at) for obs in places])
    assert calls == [25]
    alone = [forecast_from_observations(model, obs, at) for obs in places]
    assert [f.value for f in together] == pytest.approx([f.value for f in alone], abs=1e-3)
    assert [f.location for f in together] == [f"P{i}" for i in range(25)]
    assert predict(counting, []) == [] and calls == [25]


def test_a_history_shorter_than_history_hours_has_the_training_features(champion) -> None:
    """GIVEN a location with fewer than HISTORY_HOURS observations WHEN it is forecast THEN its row is
    build_features' last row of that short history, bit for bit (the window is NaN before it)."""
    _, model, _ = champion
    rows = RowFeatures(TARGET)
    for n in (1, 5, 48, HISTORY_HOURS - 1, HISTORY_HOURS):
        obs = synthetic_observations("X", n, seed=n)
        window = ForecastInput.of(obs)
        assert window.values.shape == (len(VARIABLES), HISTORY_HOURS)
        row = rows.rows(window.values[None], np.array([window.last_hour.astype(np.int64)]),
                        np.array([window.latitude]), np.array([window.longitude]))  # fmt: skip
        np.testing.assert_array_equal(row, build_features(obs, TARGET, last=1))
    short = synthetic_observations("X", 30, seed=2)
    [forecast] = predict(model, [short])
    expected = short.values[TARGET][-1] + model.onnx.predict(build_features(short, TARGET, last=1))[0]
    assert forecast.value == expected and forecast.issued_at == forecast.base_time


def test_no_target_before_issue_time_is_a_dataset_error(champion) -> None:
    _, model, _ = champion
    obs = synthetic_observations("X", 48)
    with pytest.raises(DatasetError, match="no temperature_2m"):
        forecast_from_observations(model, obs, "2000-01-01T00:00")


def test_columns_follow_the_model_and_unknown_features_fail() -> None:
    names = feature_names(TARGET)
    assert feature_columns(TARGET, [names[3], names[0]]) == [3, 0]
    with pytest.raises(ModelError, match="cloud_cover"):
        feature_columns(TARGET, ["cloud_cover"])


def test_onnx_model_checks_shape_and_file() -> None:
    with pytest.raises(ModelError):
        OnnxModel(b"not an onnx file")


def test_onnx_model_rejects_wrong_width(champion) -> None:
    model = champion[1].onnx
    with pytest.raises(ModelError, match="expects"):
        model.predict(np.zeros((1, 3), dtype=np.float32))
    assert model.predict(np.full((2, len(feature_names(TARGET))), np.nan, dtype=np.float32)).shape == (2,)


def test_history_hours_is_enough_for_one_prediction() -> None:
    obs = synthetic_observations("X", HISTORY_HOURS, seed=1)
    obs.values[TARGET][[0, -1]] = [5.0, 6.5]
    row = build_features(obs, TARGET)[-1]
    assert row[feature_names(TARGET).index(f"{TARGET}_change_168h")] == pytest.approx(1.5)


def test_forecast_key() -> None:
    assert forecast_key("JFK", "2013-10-20T00:00") == "forecasts/location=JFK/issued=2013-10-20T00:00.json"
