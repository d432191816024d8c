"""The Plan step: accept the scheduled event, move the clock, and name the window and the locations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from rps_core import storage
from rps_core.config import Settings, require
from rps_core.contract import RunPlan, Window, floor_hour, format_time, run_items_key
from rps_core.errors import InvalidEventError
from rps_core.sources.base import event_time
from rps_core.sources.clock import advance_clock, read_clock

SCHEDULE_SOURCES = ("aws.events", "aws.scheduler")
# Keys a manual or monitor-started execution may carry ({}, {"now": TIME} and {"backfill": {...}} are the
# documented shapes).
MANUAL_KEYS = frozenset({"now", "reason", "run_id", "backfill"})


def parse_plan_event(event: Any, settings: Settings) -> tuple[datetime | None, str]:
    """The requested end of the window (None: the clock decides) and a run id.

    An EventBridge rule and an EventBridge Scheduler event both carry ``detail-type: Scheduled Event``;
    their ``time`` is the live source's "now" (a replayed clock ignores it).
    """
    if not isinstance(event, dict):
        raise InvalidEventError(f"plan: expected a JSON object, got {type(event).__name__}")
    if "detail-type" in event:
        if event["detail-type"] != "Scheduled Event" or event.get("source") not in SCHEDULE_SOURCES:
            raise InvalidEventError(
                f"plan: unsupported event {event.get('source')!r}/{event['detail-type']!r}; "
                "expected a Scheduled Event from aws.events or aws.scheduler"
            )
        fired = event_time(event.get("time"), "time")
        run_id = str(event.get("id") or uuid.uuid4().hex)
        return (fired if settings.source == "open-meteo" else None), run_id
    unknown = set(event) - MANUAL_KEYS
    if unknown:
        raise InvalidEventError(
            f'plan: unknown keys {sorted(unknown)}; expected {{}}, {{"now": TIME}} or '
            '{"backfill": {"start": TIME, "end": TIME}}'
        )
    requested = None if event.get("now") is None else event_time(event["now"], "now")
    run_id = event.get("run_id") or uuid.uuid4().hex
    if not isinstance(run_id, str):
        raise InvalidEventError("plan: run_id must be a string")
    return requested, run_id


def parse_backfill(event: Any) -> Window | None:
    """The past range of ``{"backfill": {"start": TIME, "end": TIME}}`` (None for any other event)."""
    if not isinstance(event, dict) or "backfill" not in event:
        return None
    spec = event["backfill"]
    if not isinstance(spec, dict) or set(spec) != {"start", "end"}:
        raise InvalidEventError('plan: "backfill" must be {"start": TIME, "end": TIME}')
    if "now" in event:
        raise InvalidEventError('plan: "backfill" and "now" cannot be given together')
    return Window(
        floor_hour(event_time(spec["start"], "backfill.start")), floor_hour(event_time(spec["end"], "backfill.end"))
    )


def plan_run(event: Any, settings: Settings, client: Any = None) -> RunPlan:
    """The Plan step: the run's window (the clock moved once) and the locations.

    A backfill (``{"backfill": {"start", "end"}}``) names that range for every location and leaves the clock
    where it is: its end may not pass the clock's (the scheduled runs own the present).
    """
    requested, run_id = parse_plan_event(event, settings)
    bucket = require(settings.data_bucket, "DATA_BUCKET")
    window = parse_backfill(event)
    if window is not None:
        clock = read_clock(bucket, client)
        if clock is not None and window.end > clock.now:
            raise InvalidEventError(
                f"plan: backfill end {window.end_text} is after the pipeline clock ({format_time(clock.now)}); "
                "the scheduled runs collect what comes after it"
            )
    ranged = window is not None
    items_key = run_items_key(run_id)  # a run id that cannot name a key is refused before the clock moves
    window = window or advance_clock(bucket, settings, requested, run_id, client)
    plan = RunPlan(
        run_id=run_id,
        now=window.end_text,
        window_start=window.start_text,
        window_end=window.end_text,
        location_count=len(settings.locations),
        items_key=items_key,
        batch_size=settings.map_batch_size,
        max_concurrency=settings.map_max_concurrency,
        tolerated_failure_percentage=settings.tolerated_failure_percentage,
        source=settings.source,
        backfill=window.start is None,
        ranged=ranged,
    )
    # The Map's items, for its ItemReader; the same run (same window) writes the same items again.
    storage.put_json(bucket, items_key, [plan.item(name).to_dict() for name in settings.location_names], client=client)
    return plan
