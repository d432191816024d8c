"""The Plan step: accept the scheduled event, move the clock, and name the window and the locations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from rps_core import storage
from rps_core.config import Settings, require
from rps_core.contract import RunPlan, Window, run_items_key
from rps_core.entry_events import PlanRequest, ScheduledEvent, parse_entry_event
from rps_core.errors import InvalidEventError, RpsError
from rps_core.sources.base import event_time
from rps_core.sources.clock import advance_clock, read_clock
from rps_core.sources.factory import source_from_settings
from rps_core.sources.replay import FileSource
from rps_core.times import floor_hour, format_time


def parse_plan_event(event: Any, settings: Settings) -> tuple[datetime | None, str]:
    """The requested end of the window (None: the clock decides) and a run id."""
    return _requested(parse_entry_event(event, PlanRequest, "plan"), settings)


def _requested(request: ScheduledEvent | PlanRequest, settings: Settings) -> tuple[datetime | None, str]:
    # A schedule's time is the live source's "now" (a replayed clock ignores it).
    if isinstance(request, ScheduledEvent):
        return (request.fired if settings.source == "open-meteo" else None), request.id
    requested = None if request.now is None else event_time(request.now, "now")
    return requested, request.run_id or uuid.uuid4().hex


def _backfill(request: ScheduledEvent | PlanRequest) -> Window | None:
    if isinstance(request, ScheduledEvent) or request.backfill is None:
        return None
    if request.now is not None:
        raise InvalidEventError('plan: "backfill" and "now" cannot be given together')
    spec = request.backfill
    return Window(
        floor_hour(event_time(spec.start, "backfill.start")), floor_hour(event_time(spec.end, "backfill.end"))
    )


def replay_data_end(settings: Settings) -> datetime | None:
    """The last hour of the replayed file for the configured locations (None for the live source)."""
    if settings.source == "open-meteo":
        return None
    try:
        source = source_from_settings(settings)
    except RpsError:  # a file Plan cannot read (Ingest will name it): no end known, the run goes on
        return None
    return source.data_end(settings.locations) if isinstance(source, FileSource) else None


def plan_run(event: Any, settings: Settings, client: Any = None) -> RunPlan:
    """The Plan step: the run's window (the clock moved once) and the locations.

    A backfill (``{"backfill": {"start", "end"}}``) names that range for every location and leaves the clock
    where it is: its end may not pass the clock's (the scheduled runs own the present). When a replayed
    file has nothing after the window's start, the plan says ``replay_ended`` and writes no items.
    """
    request = parse_entry_event(event, PlanRequest, "plan")  # the one parse of the event
    requested, run_id = _requested(request, settings)
    bucket = require(settings.data_bucket, "DATA_BUCKET")
    window = _backfill(request)
    if window is not None:
        clock = read_clock(bucket, client)
        if clock is not None and window.end > clock.now:
            raise InvalidEventError(
                f"plan: backfill end {window.end_text} is after the pipeline clock ({format_time(clock.now)}); "
                "the scheduled runs collect what comes after it"
            )
    ranged = window is not None
    items_key = run_items_key(run_id)  # a run id that cannot name a key is refused before the clock moves
    data_end = replay_data_end(settings)
    window = window or advance_clock(bucket, settings, requested, run_id, client, data_end=data_end)
    ended = not ranged and data_end is not None and window.start is not None and window.start >= data_end
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
        replay_ended=ended,
        data_end=None if data_end is None else format_time(data_end),
    )
    if ended:  # the state machine ends the run after Plan: no items for a Map that does not run
        return plan
    # The Map's items, for its ItemReader, location by location (a batch then runs a location's backfill months
    # one after another, in order); the same run (same window) writes the same items again.
    items = [item.to_dict() for name in settings.location_names for item in plan.items(name)]
    storage.put_json(bucket, items_key, items, client=client)
    return plan
