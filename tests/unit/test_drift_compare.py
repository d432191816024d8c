"""Per-feature drift status and the drifted share, on synthetic weather of two seasons."""

import numpy as np
import pytest
from rps_core.drift.compare import compare_features
from rps_core.features import build_features, feature_names
from rps_core.features.solar import solar_names
from rps_core.schema import VARIABLES, Observations
from rps_core.training.reference import reference_stats

TARGET = "temperature_2m"


def season(mean: float, amplitude: float, humidity: float, hours: int = 24 * 60, seed: int = 0) -> Observations:
    """Hourly weather around ``mean`` °C with a diurnal cycle of ``amplitude`` and independent noise."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2013-01-01T00", "h")
    h = np.arange(hours)
    temp = mean + amplitude * np.sin(2 * np.pi * h / 24) + rng.normal(0, 1.0, hours)
    values = {
        "temperature_2m": temp,
        "relative_humidity_2m": np.clip(humidity + rng.normal(0, 8, hours), 5, 100),
        "dew_point_2m": temp - (100 - humidity) / 5 + rng.normal(0, 1, hours),
        "precipitation": np.where(rng.random(hours) < 0.1, rng.exponential(1.0, hours), 0.0),
        "pressure_msl": 1013 + rng.normal(0, 6, hours),
        "wind_speed_10m": np.abs(rng.normal(12, 5, hours)),
        "wind_direction_10m": rng.uniform(0, 360, hours),
    }
    assert set(values) == set(VARIABLES)
    return Observations("JFK", start + h, values, latitude=40.64, longitude=-73.78)


@pytest.fixture(scope="module")
def reference():
    x = build_features(season(0.0, 3.0, 70.0, seed=1), TARGET)
    return reference_stats(x, feature_names(TARGET))


def test_the_same_season_does_not_drift(reference):
    live = build_features(season(0.0, 3.0, 70.0, hours=720, seed=2), TARGET)
    summary = compare_features(reference, live, feature_names(TARGET))
    assert summary.share < 0.2, summary.drifted
    assert summary.counted and not summary.missing_reference


def test_another_season_drifts(reference):
    live = build_features(season(24.0, 8.0, 45.0, hours=720, seed=3), TARGET)
    summary = compare_features(reference, live, feature_names(TARGET))
    assert {"temperature_2m", "relative_humidity_2m", "dew_point_2m"} <= set(summary.drifted)
    assert summary.share > 0.3
    by_name = {f.name: f for f in summary.features}
    assert by_name["temperature_2m"].ks > 0.9  # the summer range lies above the whole winter reference
    assert by_name["temperature_2m"].live_mean > by_name["temperature_2m"].reference_mean + 20


def test_calendar_features_are_shown_but_not_counted(reference):
    live = build_features(season(0.0, 3.0, 70.0, hours=720, seed=2), TARGET)
    summary = compare_features(reference, live, feature_names(TARGET))
    statuses = {f.name: f.status for f in summary.features}
    assert statuses["doy_sin"] == statuses["doy_cos"] == "calendar"
    # the sun's position is the calendar at a place: known in advance, not a change in the world
    assert {statuses[name] for name in solar_names()} == {"calendar"}
    assert statuses["hour_sin"] != "calendar"
    assert "doy_sin" not in [f.name for f in summary.counted]


def test_thresholds_decide_the_status():
    ref = {"x": {"min": 0, "max": 2, "edges": [0.0, 1.0, 2.0], "counts": [50, 50]}}
    live = np.array([[0.5]] * 60 + [[1.5]] * 40)  # PSI = 0.1 ln 1.2 - 0.1 ln 0.8 = 0.0405
    assert compare_features(ref, live, ["x"]).features[0].psi == pytest.approx(0.0405, abs=1e-4)
    assert compare_features(ref, live, ["x"]).features[0].status == "ok"
    assert compare_features(ref, live, ["x"], psi_threshold=0.2, psi_warn=0.03).features[0].status == "warn"
    assert compare_features(ref, live, ["x"], psi_threshold=0.04).features[0].status == "drift"


def test_features_without_reference_or_rows_are_not_counted():
    ref = {
        "x": {"min": 0, "max": 2, "edges": [0.0, 1.0, 2.0], "counts": [50, 50]},
        "all_missing": {"min": None, "max": None, "edges": [], "counts": []},
    }
    live = np.column_stack([np.full(10, 5.0), np.zeros(10), np.zeros(10)])  # 10 rows: below MIN_ROWS
    summary = compare_features(ref, live, ["x", "all_missing", "new_feature"])
    assert summary.missing_reference == ["all_missing", "new_feature"]
    assert [f.status for f in summary.features] == ["no data"]
    assert summary.share == 0.0
    with pytest.raises(ValueError, match="does not match"):
        compare_features(ref, live, ["x"])
