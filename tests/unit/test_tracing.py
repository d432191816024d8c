"""X-Ray annotations: each step's trace names the location, the run and the model it worked on."""

from __future__ import annotations

from rps_core.tracing import annotate, trace_annotations


class Recorder:
    def __init__(self) -> None:
        self.annotations: dict[str, object] = {}

    def put_annotation(self, key: str, value: object) -> None:
        self.annotations[key] = value


def test_a_map_item_names_its_location_and_run():
    event = {"location": "JFK", "run_id": "r1", "now": "2013-10-20T00:00", "window_start": None}
    assert trace_annotations(event) == {"location": "JFK", "run_id": "r1"}


def test_the_state_after_train_and_register_names_the_models():
    state = {"run_id": "r1", "training": {"model_id": "m-1"}, "registry": {"champion": {"version": "7"}}}
    assert trace_annotations(state) == {"run_id": "r1", "model_id": "m-1", "model_version": "7"}


def test_a_result_adds_to_its_event_and_nothing_odd_is_annotated():
    tracer = Recorder()
    annotate(tracer, {"run_id": "r1", "location": ""}, {"champion": {"version": 3}}, None, ["x"])
    assert tracer.annotations == {"run_id": "r1", "model_version": "3"}
    assert trace_annotations("not an event") == {}
