"""The step contract as types: every sample event parses, serialises back unchanged, and a bad field is
an InvalidEventError naming the step and the field."""

from __future__ import annotations

import pytest
from rps_core.contract import (
    DatasetRef,
    IngestResult,
    LocationWindow,
    QuarantineRequest,
    RunPlan,
    TrainRequest,
    dataset_prefix,
    forecast_key,
    raw_key,
    run_items_key,
)
from rps_core.errors import InvalidEventError

from tests.support import load_event


def test_the_sample_events_round_trip():
    ingest = load_event("ingest.json")
    assert LocationWindow.from_event(ingest).to_dict() == ingest
    gate = load_event("quality_gate.json")
    assert IngestResult.from_event(gate, "quality_gate").to_dict() == {k: gate[k] for k in IngestResult.field_names()}
    train = TrainRequest.from_event(load_event("train.json"))
    assert [d.to_dict() for d in train.datasets] == load_event("train.json")["datasets"]
    assert train.versions == {d.location: d.dataset_version for d in train.datasets}


def test_the_plan_makes_the_maps_items():
    key = run_items_key("r1")
    plan = RunPlan("r1", "2013-10-20T00:00", None, "2013-10-20T00:00", 2, key, 25, 10, 10.0, "replay", True)
    item = plan.item("LGA")
    assert item == LocationWindow("LGA", "r1", "2013-10-20T00:00", None, "2013-10-20T00:00")
    assert plan.to_dict()["items_key"] == "runs/run=r1/items.json" and plan.to_dict()["location_count"] == 2


@pytest.mark.parametrize("run_id", ["", "a/b", "../x", "x" * 129, "a b"])
def test_a_run_id_that_cannot_name_a_key_is_refused(run_id):
    with pytest.raises(InvalidEventError, match="run_id"):
        run_items_key(run_id)


def test_fields_beyond_a_type_are_ignored_and_times_normalised():
    event = {**load_event("ingest.json"), "extra": 1, "now": "2013-10-20T00:00:00Z"}
    parsed = LocationWindow.from_event(event)
    assert parsed.now == "2013-10-20T00:00" and "extra" not in parsed.to_dict()


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"location": ""}, "location"),
        ({"location": 7}, "location"),
        ({"window_end": "tomorrow"}, "window_end"),
        ({"window_start": "2013-10-21T00:00"}, "window: start"),
        ({"now": None}, "now"),
        ({"rows": -1}, "rows"),
        ({"rows": True}, "rows"),
        ({"created": "yes"}, "created"),
        ({"raw_key": None}, "raw_key"),
    ],
)
def test_a_bad_field_is_named(change, named):
    event = {**load_event("quality_gate.json"), **change}
    with pytest.raises(InvalidEventError, match=named):
        IngestResult.from_event(event, "quality_gate")


def test_missing_fields_and_non_objects_are_named():
    with pytest.raises(InvalidEventError, match="ingest: missing run_id"):
        LocationWindow.from_event({"location": "JFK", "now": "x", "window_start": None, "window_end": "y"})
    with pytest.raises(InvalidEventError, match="transform: expected a JSON object, got list"):
        IngestResult.from_event([], "transform")
    with pytest.raises(InvalidEventError, match="'error' must be the Catch result"):
        QuarantineRequest.from_event({**load_event("quality_gate.json"), "error": "boom"}, "quarantine")


def test_train_requests_are_checked():
    with pytest.raises(InvalidEventError, match="non-empty list"):
        TrainRequest.from_event({"datasets": []})
    with pytest.raises(InvalidEventError, match=r"datasets\[1\]"):
        TrainRequest.from_event({"datasets": [{"location": "A", "dataset_version": "v"}, {"location": "B"}]})
    twice = {"location": "A", "dataset_version": "v"}
    with pytest.raises(InvalidEventError, match="twice"):
        TrainRequest.from_event({"datasets": [twice, twice]})
    assert DatasetRef.from_event(twice).rows == 0


def test_keys_are_built_in_one_place():
    assert raw_key("JFK", "2013-10-20T00:00") == "raw/location=JFK/end=2013-10-20T00:00.json"
    assert dataset_prefix("JFK", "abc") == "datasets/location=JFK/version=abc/"
    assert forecast_key("JFK", "2013-10-20T00:00") == "forecasts/location=JFK/issued=2013-10-20T00:00.json"
