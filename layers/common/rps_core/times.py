"""Time in the product, in one place: every time is UTC, on the hour where it names an hour.

- ``TIME_FORMAT`` (``YYYY-MM-DDTHH:MM``) is the contract's: events, S3 keys, the API's payloads, forecasts.
  String order is time order.
- ``STAMP_FORMAT`` (``YYYY-MM-DDTHH:MM:SSZ``) says when something was written (``collected-at``,
  ``created_at``, ``trained_at``...): ``timestamp()``.
- Hours as numpy ``datetime64[h]`` (arrays of observation times): ``parse_times``/``format_times`` for
  lists, ``parse_hour``/``format_hour`` for one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import numpy as np

from rps_core.errors import ConfigurationError, InvalidEventError, PayloadError

__all__ = [
    "STAMP_FORMAT",
    "TIME_FORMAT",
    "event_time",
    "floor_hour",
    "format_hour",
    "format_time",
    "format_times",
    "hours_of",
    "parse_hour",
    "parse_time",
    "parse_times",
    "timestamp",
]

TIME_FORMAT = "%Y-%m-%dT%H:%M"
STAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_TIME_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")
_EVENT_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")  # a longer ISO time (EventBridge's) too


# ---------------------------------------------------------------- datetimes


def format_time(value: datetime) -> str:
    """The contract's time format, ``YYYY-MM-DDTHH:MM`` in UTC."""
    return value.astimezone(UTC).strftime(TIME_FORMAT)


def timestamp(value: datetime | None = None) -> str:
    """When something was written, ``YYYY-MM-DDTHH:MM:SSZ`` (now by default)."""
    return (value or datetime.now(UTC)).astimezone(UTC).strftime(STAMP_FORMAT)


def floor_hour(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def parse_time(text: str, name: str = "time") -> datetime:
    """An ISO 8601 time; naive times are UTC (Open-Meteo answers in GMT). ConfigurationError names ``name``."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigurationError(f"{name}: not an ISO 8601 time: {text!r}") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def event_time(value: object, name: str) -> datetime:
    """A time from an event field; raises InvalidEventError naming the field."""
    if not isinstance(value, str) or not _EVENT_TIME.match(value):
        raise InvalidEventError(f"{name}: expected a time string YYYY-MM-DDTHH:MM, got {value!r}")
    try:
        return parse_time(value, name)
    except ConfigurationError as exc:  # the event is what is wrong here
        raise InvalidEventError(str(exc)) from exc


def hours_of(value: datetime) -> int:
    """Hours since the epoch of an aware (or UTC-naive) datetime."""
    naive = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return int(np.datetime64(naive, "h").astype("int64"))


# ---------------------------------------------------------------- numpy hours


def parse_times(times: list[Any]) -> np.ndarray:
    """``YYYY-MM-DDTHH:MM`` strings (GMT) to datetime64[h]; raises PayloadError naming the first bad one."""
    for i, t in enumerate(times):
        if not isinstance(t, str) or not _TIME_TEXT.match(t):
            raise PayloadError(f"hourly.time[{i}]: {t!r} is not in the format YYYY-MM-DDTHH:MM")
    try:
        parsed = np.array(times, dtype="datetime64[m]")
    except ValueError as exc:
        raise PayloadError(f"hourly.time: {exc}") from exc
    if np.any(parsed.astype("int64") % 60):
        raise PayloadError("hourly.time: times must be on the hour")
    return parsed.astype("datetime64[h]")


def format_times(time: np.ndarray) -> list[str]:
    return [str(t)[:16] for t in time.astype("datetime64[m]")]


def parse_hour(text: str) -> np.datetime64:
    """The hour of a time text (its first 16 characters: ``YYYY-MM-DDTHH:MM``)."""
    return np.datetime64(text[:16], "h")


def format_hour(value: np.datetime64 | int) -> str:
    """``YYYY-MM-DDTHH:MM`` of a datetime64 (or of hours since the epoch)."""
    hour = np.datetime64(int(value), "h") if isinstance(value, int | np.integer) else value
    return str(hour.astype("datetime64[m]"))[:16]
