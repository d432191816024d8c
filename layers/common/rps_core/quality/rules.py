"""What the gate holds each column to: physical ranges, and which columns are key.

Key columns are those the forecast cannot do without: the target (its own history is the strongest
feature, and a missing target removes training rows). For a key column, nulls above ``NULL_THRESHOLD``
and any out-of-range value fail the gate. The other variables are features: their nulls are reported and
kept as NaN (the model handles missing features); their out-of-range values are reported, counted and
masked to missing by Transform, and fail the gate only when they exceed ``NULL_THRESHOLD`` of the rows.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bound:
    low: float
    high: float

    def __str__(self) -> str:
        return f"[{self.low:g}, {self.high:g}]"


# Bounds in the API's units, at or just beyond the world records for an hourly station reading, so a
# value outside is a sensor or transmission fault, never weather (the 1048 mph = 1687 km/h wind is one).
PHYSICAL_RANGES: dict[str, Bound] = {
    "temperature_2m": Bound(-90.0, 60.0),  # °C: records -89.2 and 56.7
    "relative_humidity_2m": Bound(0.0, 100.0),  # %
    "dew_point_2m": Bound(-100.0, 36.0),  # °C: record dew point 35
    "precipitation": Bound(0.0, 400.0),  # mm in one hour: record about 305
    "pressure_msl": Bound(850.0, 1090.0),  # hPa: records 870 and 1084.8
    "wind_speed_10m": Bound(0.0, 410.0),  # km/h: record gust 408
    "wind_direction_10m": Bound(0.0, 360.0),  # °
}


def key_columns(target: str) -> tuple[str, ...]:
    """The columns whose nulls and out-of-range values fail the gate on their own."""
    return (target,)
