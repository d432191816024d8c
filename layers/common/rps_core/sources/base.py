"""What every source shares: the window it hands out, the raw payload it returns, and time helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from rps_core.config import Location, parse_time
from rps_core.errors import InvalidEventError

TIME_FORMAT = "%Y-%m-%dT%H:%M"
_EVENT_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def format_time(value: datetime) -> str:
    """The contract's time format, ``YYYY-MM-DDTHH:MM`` in UTC."""
    return value.astimezone(UTC).strftime(TIME_FORMAT)


def floor_hour(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def event_time(value: object, name: str) -> datetime:
    """A time from an event field; raises InvalidEventError naming the field."""
    # The contract's format (a longer ISO time, as in EventBridge's ``time``, is accepted too).
    if not isinstance(value, str) or not _EVENT_TIME.match(value):
        raise InvalidEventError(f"{name}: expected a time string YYYY-MM-DDTHH:MM, got {value!r}")
    try:
        return parse_time(value, name)
    except Exception as exc:  # ConfigurationError from parse_time: the event is what is wrong here
        raise InvalidEventError(str(exc)) from exc


@dataclass(frozen=True)
class Window:
    """The hours a run collects: ``(start, end]``; ``start`` None means all history up to ``end``."""

    start: datetime | None
    end: datetime

    def __post_init__(self) -> None:
        if self.start is not None and self.start >= self.end:
            raise InvalidEventError(
                f"window: start {format_time(self.start)} is not before end {format_time(self.end)}"
            )

    @property
    def start_text(self) -> str | None:
        return None if self.start is None else format_time(self.start)

    @property
    def end_text(self) -> str:
        return format_time(self.end)

    def contains(self, time_text: str) -> bool:
        """Whether a ``YYYY-MM-DDTHH:MM`` time lies in ``(start, end]`` (string order is time order)."""
        return (self.start is None or time_text > self.start_text) and time_text <= self.end_text  # type: ignore[operator]

    @classmethod
    def from_event(cls, event: dict) -> Window:
        start = event.get("window_start")
        end = event_time(event.get("window_end"), "window_end")
        return cls(None if start is None else event_time(start, "window_start"), end)


@dataclass(frozen=True)
class RawPayload:
    """A source's answer, exactly as received: the bytes are stored unchanged."""

    body: bytes
    source: str
    content_type: str = "application/json"
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.body, bytes):
            raise TypeError("RawPayload.body must be bytes")


class Source(Protocol):
    """A source of hourly observations in the Open-Meteo shape."""

    name: str

    def fetch(self, location: Location, window: Window) -> RawPayload:
        """The observations of ``location`` for ``window`` (a source may return more hours; the gate and
        Transform keep only those inside the window)."""
        ...


HOUR = timedelta(hours=1)
