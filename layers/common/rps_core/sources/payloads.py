"""Open-Meteo payload files: one payload object or the API's multi-location list, matched to locations by
coordinates, and cut to a window without touching the values."""

from __future__ import annotations

import bisect
import gzip
import json
import math
from pathlib import Path
from typing import Any

from rps_core.config import Location
from rps_core.errors import PayloadError, SourceError
from rps_core.sources.base import Window

# Open-Meteo snaps coordinates to its grid cell, so a payload's latitude/longitude differ slightly from
# the request; the nearest payload within this distance (degrees) is the location's.
MAX_DISTANCE_DEG = 0.25


def read_payload_file(path: str | Path) -> list[dict[str, Any]]:
    """The payloads of a ``.json`` or ``.json.gz`` file: one object or a list of objects."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{path}: cannot read the payload file ({exc.strerror})") from exc
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise PayloadError(f"{path}: not valid JSON ({exc})") from exc
    payloads = value if isinstance(value, list) else [value]
    for i, p in enumerate(payloads):
        if not isinstance(p, dict) or not isinstance(p.get("hourly"), dict):
            raise PayloadError(f"{path}: payload {i} is not an Open-Meteo object with 'hourly'")
    return payloads


def match_location(payloads: list[dict[str, Any]], location: Location) -> dict[str, Any]:
    """The payload nearest to ``location``; a single payload without coordinates matches any location."""
    if len(payloads) == 1 and "latitude" not in payloads[0]:
        return payloads[0]
    best, best_distance = None, math.inf
    for p in payloads:
        try:
            distance = math.hypot(float(p["latitude"]) - location.latitude, float(p["longitude"]) - location.longitude)
        except (KeyError, TypeError, ValueError):
            continue
        if distance < best_distance:
            best, best_distance = p, distance
    if best is None or best_distance > MAX_DISTANCE_DEG:
        raise SourceError(
            f"no payload within {MAX_DISTANCE_DEG}° of {location.name} ({location.latitude}, {location.longitude})"
        )
    return best


def slice_payload(payload: dict[str, Any], window: Window) -> dict[str, Any]:
    """A copy of ``payload`` holding only the hours in ``(window.start, window.end]``; values are copied
    as they are (times in the API's format sort as strings, and a payload's times are in order)."""
    hourly = payload["hourly"]
    times: list[str] = hourly.get("time", [])
    start = window.start_text
    lo = 0 if start is None else bisect.bisect_right(times, start)
    hi = bisect.bisect_right(times, window.end_text)
    sliced = {key: (column[lo:hi] if isinstance(column, list) else column) for key, column in hourly.items()}
    return {**payload, "hourly": sliced}
