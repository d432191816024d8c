"""``rps run``'s view of an execution: states as they enter and leave, Map iterations apart, and the
failing state's error and cause."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from rps_local.emulator.stepfunctions.executions import failure_of, follow_execution, short_cause

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _event(event_id, kind, seconds, previous=None, **details):
    return {
        "id": event_id,
        "previousEventId": previous or event_id - 1,
        "type": kind,
        "timestamp": T0 + timedelta(seconds=seconds),
        **details,
    }


def _entered(name):
    return {"stateEnteredEventDetails": {"name": name}}


def _exited(name):
    return {"stateExitedEventDetails": {"name": name}}


CAUSE = json.dumps({"errorType": "DataQualityError", "errorMessage": "JFK: 3 checks failed", "stackTrace": []})
HISTORY = [
    _event(1, "ExecutionStarted", 0),
    _event(2, "MapStateEntered", 0, **_entered("PerLocation")),
    _event(3, "MapIterationStarted", 0, 2, mapIterationStartedEventDetails={"name": "PerLocation", "index": 0}),
    _event(4, "MapIterationStarted", 0, 2, mapIterationStartedEventDetails={"name": "PerLocation", "index": 1}),
    _event(5, "TaskStateEntered", 1, 3, **_entered("Ingest")),
    _event(6, "TaskStateEntered", 1, 4, **_entered("Ingest")),
    _event(7, "TaskStateExited", 3, 6, **_exited("Ingest")),
    _event(8, "TaskStateExited", 4, 5, **_exited("Ingest")),
    _event(9, "TaskStateEntered", 4, 8, **_entered("QualityGate")),
    _event(
        10, "LambdaFunctionFailed", 5, 9, lambdaFunctionFailedEventDetails={"error": "DataQualityError", "cause": CAUSE}
    ),
    _event(11, "ExecutionFailed", 5, 10, executionFailedEventDetails={"error": "DataQualityError", "cause": CAUSE}),
]


class FakeClient:
    def describe_execution(self, arn):
        return {"status": "FAILED", "error": "DataQualityError", "cause": CAUSE}

    def history(self, arn):
        return HISTORY


def test_states_stream_with_durations_and_map_iterations():
    lines: list[str] = []
    report = follow_execution(FakeClient(), "arn", lines.append)
    assert lines[:3] == ["  → PerLocation", "  → Ingest [0]", "  → Ingest [1]"]
    assert "  ✓ Ingest [1] 2.00 s" in lines and "  ✓ Ingest [0] 3.00 s" in lines
    assert lines[-1] == "  ✗ [0] DataQualityError: JFK: 3 checks failed"
    assert report.status == "FAILED"
    assert (report.error, report.failed_state) == ("DataQualityError", "QualityGate")


def test_failure_of_names_the_last_state_entered():
    assert failure_of(HISTORY) == ("DataQualityError", CAUSE, "QualityGate")


def test_short_cause_keeps_the_message():
    assert short_cause(CAUSE) == "JFK: 3 checks failed"
    assert short_cause("plain text") == "plain text"
    assert short_cause("x" * 500, limit=10) == "x" * 9 + "…"


def test_states_after_a_map_belong_to_no_iteration():
    # GIVEN a Map whose last iteration ends, then the Map exits and the next state starts
    history = [
        _event(1, "ExecutionStarted", 0),
        _event(2, "MapStateEntered", 0, **_entered("PerLocation")),
        _event(3, "MapIterationStarted", 0, 2, mapIterationStartedEventDetails={"name": "PerLocation", "index": 1}),
        _event(4, "TaskStateEntered", 1, 3, **_entered("Transform")),
        _event(5, "TaskStateExited", 2, 4, **_exited("Transform")),
        _event(6, "MapIterationSucceeded", 2, 5, mapIterationSucceededEventDetails={"index": 1}),
        _event(7, "MapStateExited", 2, 6, **_exited("PerLocation")),
        _event(8, "TaskStateEntered", 2, 7, **_entered("Train")),
        _event(9, "TaskStateExited", 5, 8, **_exited("Train")),
        _event(10, "ExecutionSucceeded", 5, 9, executionSucceededEventDetails={"output": "{}"}),
    ]

    class Done(FakeClient):
        def describe_execution(self, arn):
            return {"status": "SUCCEEDED", "output": "{}"}

        def history(self, arn):
            return history

    # WHEN it is followed THEN the iteration's states carry [1] and the Map and Train carry none
    lines: list[str] = []
    follow_execution(Done(), "arn", lines.append)
    assert "  ✓ Transform [1] 1.00 s" in lines
    assert "  ✓ PerLocation 2.00 s" in lines
    assert "  → Train" in lines and "  ✓ Train 3.00 s" in lines
