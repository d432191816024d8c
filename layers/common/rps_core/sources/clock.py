"""The pipeline clock in ``DATA_BUCKET`` ``clock/state.json``: which window a run collects.

Replay and file sources run on a simulated clock: the first run backfills all history up to
``REPLAY_START`` (``window_start`` null) and each later run advances ``REPLAY_STEP_HOURS``. The live
source's "now" is the current UTC hour; its first run backfills with ``past_days``. The state is replaced
by a conditional PUT (If-None-Match on creation, If-Match on the ETag read), so of two concurrent runs
only one advances the clock; the other reuses the winner's window, which is harmless because raw objects
are written once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from rps_core.config import Settings
from rps_core.contract import CLOCK_KEY
from rps_core.errors import ConfigurationError, ConflictError
from rps_core.sources.base import Window, floor_hour, format_time
from rps_core.storage import s3_client
from rps_core.times import TIME_FORMAT, timestamp

_PRECONDITION = ("PreconditionFailed", "ConditionalRequestConflict", "412")


@dataclass(frozen=True)
class ClockState:
    now: datetime
    window_start: datetime | None
    etag: str
    run_id: str = ""

    @property
    def window(self) -> Window:
        return Window(self.window_start, self.now)


def read_clock(bucket: str, client: Any = None) -> ClockState | None:
    client = client or s3_client()
    try:
        resp = client.get_object(Bucket=bucket, Key=CLOCK_KEY)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise
    try:
        state = json.loads(resp["Body"].read())
        start = state.get("window_start")
        return ClockState(
            now=datetime.strptime(state["now"], TIME_FORMAT).replace(tzinfo=UTC),
            window_start=None if start is None else datetime.strptime(start, TIME_FORMAT).replace(tzinfo=UTC),
            etag=str(resp.get("ETag", "")),
            run_id=str(state.get("run_id") or ""),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        # Never guess a window from a damaged clock: a wrong one would skip or repeat data silently.
        raise ConfigurationError(
            f"s3://{bucket}/{CLOCK_KEY} is unreadable ({exc}); fix it or delete it to backfill again"
        ) from exc


def _next_end(settings: Settings, state: ClockState | None, requested: datetime | None) -> datetime:
    if requested is not None:
        return floor_hour(requested)
    if settings.source == "open-meteo":
        return floor_hour(datetime.now(UTC))
    if state is None:
        return floor_hour(settings.replay_start)
    return state.now + timedelta(hours=settings.replay_step_hours)


def advance_clock(
    bucket: str,
    settings: Settings,
    requested: datetime | None = None,
    run_id: str = "",
    client: Any = None,
    data_end: datetime | None = None,
) -> Window:
    """The window of this run, with the clock moved to its end (see the module doc).

    ``requested`` (an explicit ``now``, or a live schedule's event time) replaces the computed end. A
    requested end that is not after the clock replays ``(end - step, end]`` and leaves the clock alone.
    ``data_end`` (a replayed file's last hour): once the clock has reached it, a later window holds no data
    (the replay has ended), so it is returned without moving the clock, which stays where the data ends.
    """
    client = client or s3_client()
    state = read_clock(bucket, client)
    if state is not None and run_id and state.run_id == run_id:
        # EventBridge delivers at least once: the same scheduled event (same id) again gets the same window.
        return state.window
    end = _next_end(settings, state, requested)
    if state is not None and end <= state.now:
        if end == state.now:
            return state.window
        return Window(end - timedelta(hours=settings.replay_step_hours), end)
    if state is not None and data_end is not None and state.now >= data_end:
        return Window(state.now, end)  # past the replayed data: nothing to collect, the clock stays
    window = Window(None if state is None else state.now, end)
    body = json.dumps(
        {
            "now": format_time(end),
            "window_start": window.start_text,
            "updated_at": timestamp(),
            "run_id": run_id,
        }
    ).encode()
    condition = {"IfNoneMatch": "*"} if state is None else {"IfMatch": state.etag}
    try:
        client.put_object(Bucket=bucket, Key=CLOCK_KEY, Body=body, ContentType="application/json", **condition)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in _PRECONDITION:
            raise
        winner = read_clock(bucket, client)
        if winner is None:  # created then deleted between our two reads: nothing sane to reuse
            raise ConflictError("the clock changed during this run and is now missing") from exc
        return winner.window
    return window
