"""What every source shares: the window it hands out, the raw payload it returns, and time helpers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from rps_core.config import Location

# The time type and format live in the contract; sources use them through here too.
from rps_core.contract import Window
from rps_core.times import TIME_FORMAT, event_time, floor_hour, format_time

__all__ = ["HOUR", "TIME_FORMAT", "RawPayload", "Source", "Window", "event_time", "floor_hour", "format_time"]


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
