"""Training: the time-ordered split, the metrics, the model against persistence, reference statistics and the
champion evaluated on the challenger's test rows."""

from __future__ import annotations

import numpy as np
import pytest
from rps_core.errors import DatasetError
from rps_core.features import feature_names
from rps_core.training import build_table, evaluate, time_split, train_and_evaluate
from rps_core.training import model as estimator
from rps_core.training.reference import reference_stats
from rps_core.training.service import small_metrics
from rps_core.training.split import ROW_BUDGET, rows_per_location

from tests.unit.model_data import FAST_PARAMS, synthetic_observations, two_locations

TARGET = "temperature_2m"
# skl2onnx 1.20 passes booleans to protobuf 6 (a deprecation warning, an error only from protobuf 7).
pytestmark = pytest.mark.filterwarnings("ignore:Field onnx.AttributeProto:DeprecationWarning")


@pytest.fixture(scope="module")
def trained():
    return train_and_evaluate(two_locations(), TARGET, 6, params=FAST_PARAMS)


def test_split_is_in_time_order_with_the_last_fifth_as_test_and_a_purge_gap() -> None:
    table = build_table(two_locations(), TARGET, 6)
    train, test = time_split(table, 6)
    assert table.t[train].max() + 6 < table.t[test].min()  # no training label from the test period
    assert not (train & test).any()
    assert test.sum() / len(table) == pytest.approx(0.2, abs=0.01)
    # Both locations are cut at the same hour: no location trains on a period another is tested on.
    cuts = {loc: table.t[test & (table.location == loc)].min() for loc in np.unique(table.location)}
    assert len(set(cuts.values())) == 1


def test_rows_without_a_known_target_are_left_out() -> None:
    obs = synthetic_observations("X", 24 * 20)
    obs.values[TARGET][100:110] = np.nan
    table = build_table([obs], TARGET, 6)
    assert not np.isnan(table.delta).any()
    y = obs.values[TARGET]
    assert len(table) == int((~np.isnan(y[:-6]) & ~np.isnan(y[6:])).sum())


def test_the_row_budget_keeps_each_locations_newest_hours_with_the_same_numbers() -> None:
    locations = two_locations()
    full = build_table(locations, TARGET, 6)
    hours = min(len(obs) for obs in locations)
    # a budget above the rows changes nothing
    assert np.array_equal(build_table(locations, TARGET, 6, budget=10 * hours).x, full.x, equal_nan=True)
    # a tight one: each location gives its newest budget // 2 hours, rows identical to the full table's
    small = build_table(locations, TARGET, 6, budget=400)
    for obs in locations:
        mine = small.location == obs.location
        newest = obs.time[-200:].astype("datetime64[h]").astype(np.int64)
        assert 180 <= mine.sum() <= 200 and set(small.t[mine]) <= set(newest)
        same = (full.location == obs.location) & np.isin(full.t, small.t[mine])
        assert np.array_equal(small.x[mine], full.x[same], equal_nan=True)
        assert np.array_equal(small.delta[mine], full.delta[same])
    assert rows_per_location(3, 10) == 3 and rows_per_location(10_000, 1_000_000) == 100
    assert rows_per_location(20_000, 1_000) == 1  # every location is represented


def test_the_budget_and_the_rows_per_location_are_reported(trained) -> None:
    assert trained.split["row_budget"] == ROW_BUDGET
    assert trained.split["rows_per_location"] == ROW_BUDGET // 2


def test_empty_data_is_a_dataset_error() -> None:
    obs = synthetic_observations("X", 5)
    with pytest.raises(DatasetError):
        build_table([obs], TARGET, 6)


def test_metrics_definitions() -> None:
    delta = np.array([1.0, -2.0, 3.0, 0.0])
    pred = np.array([0.0, -2.0, 2.0, 1.0])
    base = np.array([10.0, 11.0, 12.0, 13.0])
    loc = np.array(["A", "A", "B", "B"])
    m = evaluate(delta, pred, base, loc)
    assert m["mae"] == pytest.approx(0.75)
    assert m["persistence_mae"] == pytest.approx(1.5)
    assert m["skill"] == pytest.approx(0.5)
    assert m["rmse"] == pytest.approx(np.sqrt(3 / 4))
    assert m["per_location"]["A"]["mae"] == pytest.approx(0.5)
    assert m["per_location"]["B"]["persistence_mae"] == pytest.approx(1.5)


def test_the_model_beats_persistence_everywhere(trained) -> None:
    assert trained.metrics["skill"] > 0.2
    assert set(trained.metrics["per_location"]) == {"WARM", "COLD"}
    for scores in trained.metrics["per_location"].values():
        assert scores["mae"] < scores["persistence_mae"]


def test_the_model_is_the_mean_of_boosters_that_differ_in_their_seed(trained) -> None:
    members = trained.model.estimators_
    assert len(members) == estimator.PARAMS["ensemble_size"] == trained.params["ensemble_size"] > 1
    assert [m.random_state for m in members] == list(range(len(members)))
    x = build_table(two_locations(seed=5), TARGET, 6).x[:50]
    np.testing.assert_allclose(trained.model.predict(x), np.mean([m.predict(x) for m in members], axis=0))
    with pytest.raises(ValueError, match="ensemble_size 0"):
        estimator.make_model(100, ensemble_size=0)


def test_onnx_export_matches_scikit_learn_on_rows_with_missing_values(trained) -> None:
    from rps_core.forecasts import OnnxModel

    table = build_table(two_locations(seed=5), TARGET, 6)
    assert np.isnan(table.x).any(axis=1).sum() > 50
    onnx = OnnxModel(trained.onnx).predict(table.x)
    np.testing.assert_allclose(onnx, trained.model.predict(table.x), atol=1e-4)
    assert trained.onnx_max_abs_diff <= 1e-4


def test_parity_check_fails_for_a_different_model(trained) -> None:
    from rps_core.errors import ModelError
    from rps_core.training.onnx_export import check_parity

    other = train_and_evaluate(two_locations(seed=9), TARGET, 6, params={**FAST_PARAMS, "max_iter": 5})
    table = build_table(two_locations(), TARGET, 6)
    with pytest.raises(ModelError, match="differs"):
        check_parity(trained.model, other.onnx, table.x[:200])


def test_reference_statistics_cover_every_feature(trained) -> None:
    assert list(trained.reference) == feature_names(TARGET)
    hour = trained.reference["hour_sin"]
    assert hour["min"] >= -1 and hour["max"] <= 1
    assert sum(hour["counts"]) == trained.split["train_rows"]
    assert len(hour["edges"]) == len(hour["counts"]) + 1
    assert hour["edges"] == sorted(hour["edges"])


def test_reference_of_constant_and_missing_features() -> None:
    x = np.column_stack([np.zeros(10), np.full(10, np.nan)]).astype(np.float32)
    ref = reference_stats(x, ["zero", "gone"])
    assert ref["zero"]["counts"] == [10]
    assert ref["gone"] == {"min": None, "max": None, "edges": [], "counts": []}


def test_same_data_gives_the_same_model(trained) -> None:
    again = train_and_evaluate(two_locations(), TARGET, 6, params=FAST_PARAMS, export=False)
    assert again.metrics == trained.metrics


def _point_metrics(metrics: dict) -> dict:
    def point(scores: dict) -> dict:
        return {k: v for k, v in scores.items() if not k.startswith(("coverage_", "width_"))}

    return {**point(metrics), "per_location": {k: point(v) for k, v in metrics["per_location"].items()}}


def test_champion_is_evaluated_on_the_challengers_test_rows(trained) -> None:
    doc = {"target": TARGET, "horizon_hours": 6, "features": trained.features}
    # GIVEN the challenger itself as the champion THEN both have the same metrics on the same rows
    result = train_and_evaluate(
        two_locations(), TARGET, 6, params=FAST_PARAMS, champion=trained.model, champion_doc=doc, export=False
    )
    # (the challenger's metrics also hold its intervals' coverage and width; the champion is measured on MAE)
    assert result.champion_metrics == _point_metrics(result.metrics)
    # A champion for another horizon cannot be compared
    other = train_and_evaluate(
        two_locations(),
        TARGET,
        6,
        params=FAST_PARAMS,
        export=False,
        champion=trained.model,
        champion_doc={**doc, "horizon_hours": 1},
    )
    assert other.champion_metrics is None and "1 h" in other.champion_note


def test_the_state_names_the_worst_locations_when_there_are_many() -> None:
    per_location = {f"L{i:03d}": {"mae": 1.0 + i / 100, "persistence_mae": 2.0, "skill": 0.5} for i in range(300)}
    small = small_metrics({"mae": 1.5, "per_location": per_location})
    assert list(small["per_location"]) == [f"L{i:03d}" for i in range(299, 289, -1)]
    summary = small["per_location_summary"]
    assert summary["locations"] == 300 and summary["mae"]["min"] == 1.0 and summary["mae"]["max"] == 3.99
    assert summary["mae"]["p50"] == pytest.approx(2.495)
    # a few locations are all named, without a summary
    few = small_metrics({"mae": 1.5, "per_location": dict(list(per_location.items())[:3])})
    assert set(few["per_location"]) == {"L000", "L001", "L002"} and "per_location_summary" not in few
