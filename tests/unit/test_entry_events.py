"""Plan's and Drift's incoming events parsed with Powertools' parser models (rps_core.entry_events): the
schedules' shapes (EventBridge rule, EventBridge Scheduler, and Powertools' own Scheduler test event),
the manual ones, and a named error for each bad field."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from rps_core.entry_events import DriftRequest, PlanRequest, ScheduledEvent, parse_entry_event
from rps_core.errors import InvalidEventError

from tests.support import ROOT, load_event


@pytest.mark.parametrize(
    "name", ["plan.json", "plan_rule.json", "drift.json", "reference/eventBridgeSchedulerEvent.json"]
)
def test_schedules_parse_as_scheduled_events(name: str) -> None:
    event = load_event(name)
    parsed = parse_entry_event(event, PlanRequest, "plan")
    assert isinstance(parsed, ScheduledEvent)
    assert parsed.id == event["id"] and parsed.source in ("aws.events", "aws.scheduler")
    assert parsed.fired == datetime.fromisoformat(event["time"]).astimezone(UTC)


def test_the_reference_scheduler_event_is_the_projects_copy() -> None:
    # events/reference/ is the project's copy of the shared reference shapes (users do not have shared/)
    shared = ROOT.parent / "shared" / "reference-events" / "eventBridgeSchedulerEvent.json"
    if shared.exists():
        assert load_event("reference/eventBridgeSchedulerEvent.json") == json.loads(shared.read_text())


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("plan_now.json", PlanRequest(now="2013-10-20T00:00")),
        ("plan_backfill.json", PlanRequest(backfill={"start": "2013-03-01T00:00", "end": "2013-04-01T00:00"})),
    ],
)
def test_manual_plan_events_parse(name: str, expected: PlanRequest) -> None:
    assert parse_entry_event(load_event(name), PlanRequest, "plan") == expected


def test_an_empty_event_is_a_request_with_nothing_set() -> None:
    assert parse_entry_event({}, PlanRequest, "plan") == PlanRequest()
    assert parse_entry_event({}, DriftRequest, "drift") == DriftRequest()
    assert parse_entry_event(load_event("drift_now.json"), DriftRequest, "drift").window_hours == 720


@pytest.mark.parametrize(
    ("event", "model", "message"),
    [
        ([], PlanRequest, "plan: expected a JSON object, got list"),
        ({"when": "x", "now": "2013-10-20T00:00"}, PlanRequest, r"plan: unknown keys \['when'\]"),
        ({"now": 5}, PlanRequest, r"plan: now: Input should be a valid string \(got 5\)"),
        ({"backfill": {"start": "2013-03-01T00:00"}}, PlanRequest, "plan: backfill.end: Field required"),
        ({"backfill": {"start": "a", "end": "b", "step": 1}}, PlanRequest, r"unknown keys \['backfill.step'\]"),
        ({"run_id": 7}, PlanRequest, "run_id: Input should be a valid string"),
        ({"window_hours": 2}, DriftRequest, "drift: window_hours: Input should be greater than or equal to 24"),
        ({"window_hours": "48"}, DriftRequest, "window_hours: Input should be a valid integer"),
    ],
)
def test_a_bad_manual_event_names_its_fields(event: object, model: type, message: str) -> None:
    with pytest.raises(InvalidEventError, match=message):
        parse_entry_event(event, model, "plan" if model is PlanRequest else "drift")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"source": "aws.sqs"}, "source: Input should be 'aws.events' or 'aws.scheduler'"),
        ({"detail-type": "Object Created"}, "detail-type: Input should be 'Scheduled Event'"),
        ({"time": "yesterday"}, "time: Input should be a valid datetime"),
        ({"id": None}, "id: Input should be a valid string"),
    ],
)
def test_a_bad_scheduled_event_names_its_fields(change: dict[str, object], message: str) -> None:
    event = {**load_event("plan_rule.json"), **change}
    with pytest.raises(InvalidEventError, match=message) as caught:
        parse_entry_event(event, PlanRequest, "plan")
    assert "expected a Scheduled Event from aws.events or aws.scheduler" in str(caught.value)
