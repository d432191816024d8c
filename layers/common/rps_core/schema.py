"""The data contract: the Open-Meteo hourly payload and the in-memory ``Observations`` it parses into.

A raw payload (as the API answers and as it is stored in S3)::

    {"latitude": 40.64, "longitude": -73.78, "timezone": "GMT", ...,
     "hourly_units": {"time": "iso8601", "temperature_2m": "°C", ...},
     "hourly": {"time": ["2013-01-01T00:00", ...], "temperature_2m": [1.2, null, ...], ...}}
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from rps_core.errors import PayloadError
from rps_core.times import parse_times

# The hourly variables requested from Open-Meteo, in request order, with the units it answers in.
UNITS: dict[str, str] = {
    "temperature_2m": "°C",
    "relative_humidity_2m": "%",
    "dew_point_2m": "°C",
    "precipitation": "mm",
    "pressure_msl": "hPa",
    "wind_speed_10m": "km/h",
    "wind_direction_10m": "°",
}
VARIABLES: tuple[str, ...] = tuple(UNITS)


@dataclass(frozen=True)
class Observations:
    """Hourly observations of one location: ``time`` is datetime64[h] (UTC), ``values`` float64 with NaN
    for missing readings, one array per variable, all of the same length and in time order. ``latitude``
    and ``longitude`` (degrees) say where they were made: the features need them for the sun's position."""

    location: str
    time: np.ndarray
    values: dict[str, np.ndarray]
    latitude: float | None = None
    longitude: float | None = None

    def __len__(self) -> int:
        return int(self.time.shape[0])

    def slice(self, start: int, stop: int) -> Observations:
        return self.with_rows(self.time[start:stop], {k: v[start:stop] for k, v in self.values.items()})

    def with_rows(self, time: np.ndarray, values: dict[str, np.ndarray]) -> Observations:
        """The same location (name and coordinates) with other rows."""
        return replace(self, time=time, values=values)

    def at(self, latitude: float, longitude: float) -> Observations:
        return replace(self, latitude=float(latitude), longitude=float(longitude))


def observations_from_payload(payload: Any, location: str, variables: tuple[str, ...] = VARIABLES) -> Observations:
    """Parse a raw payload strictly: every variable present, values numbers or null, parallel arrays."""
    if not isinstance(payload, dict):
        raise PayloadError(f"payload: expected a JSON object, got {type(payload).__name__}")
    hourly = payload.get("hourly")
    if not isinstance(hourly, dict):
        raise PayloadError("payload: missing the 'hourly' object")
    times = hourly.get("time")
    if not isinstance(times, list):
        raise PayloadError("hourly.time: missing or not a list")
    time = parse_times(times)
    values: dict[str, np.ndarray] = {}
    for name in variables:
        column = hourly.get(name)
        if not isinstance(column, list):
            raise PayloadError(f"hourly.{name}: missing or not a list")
        if len(column) != len(times):
            raise PayloadError(f"hourly.{name}: {len(column)} values for {len(times)} times")
        for i, v in enumerate(column):
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
                raise PayloadError(f"hourly.{name}[{i}]: {v!r} is not a number or null")
        values[name] = np.array([np.nan if v is None else v for v in column], dtype="float64")
    return Observations(location, time, values, *_coordinates(payload))


def _coordinates(payload: dict[str, Any]) -> tuple[float | None, float | None]:
    """The payload's latitude and longitude when both are valid, else (None, None)."""
    lat, lon = payload.get("latitude"), payload.get("longitude")
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lat, lon))
    if numbers and -90 <= lat <= 90 and -180 <= lon <= 180:  # type: ignore[operator]
        return float(lat), float(lon)  # type: ignore[arg-type]
    return None, None
