"""Load data: many locations made deterministically from the three embedded stations, for scale tests and
the bench only, never for quality claims (there is no real data for thousands of places offline).

Location ``LOAD-00042`` is station ``42 % 3`` (JFK, LGA, EWR) moved a little (within 0.2°, so the replay
source, which serves the nearest station within 0.25°, still serves it) with its temperatures and dew
points shifted by a fixed offset of -1.5 to +1.5 °C: the same weather, not the same numbers.
"""

from __future__ import annotations

import math

from rps_core.config import Location, Settings
from rps_core.schema import Observations
from rps_core.training.evaluation import observations_from_file

PREFIX = "LOAD-"
SHIFTED = ("temperature_2m", "dew_point_2m")


def _offsets(i: int) -> tuple[float, float, float]:
    """(dlat, dlon, dT) of load location ``i``: spread on a golden-angle spiral, offset in 7 steps."""
    angle = i * math.pi * (3 - math.sqrt(5))
    radius = 0.2 * math.sqrt(((i // 3) % 97 + 0.5) / 97)
    return radius * math.sin(angle), radius * math.cos(angle), 0.5 * ((i // 3) % 7 - 3)


def load_locations(count: int, settings: Settings) -> list[Location]:
    stations = settings.locations
    out = []
    for i in range(count):
        station = stations[i % len(stations)]
        dlat, dlon, _ = _offsets(i)
        out.append(Location(f"{PREFIX}{i:05d}", round(station.latitude + dlat, 4), round(station.longitude + dlon, 4)))
    return out


def locations_csv(count: int, settings: Settings) -> str:
    """The ``LocationsKey`` CSV of ``count`` load locations."""
    rows = [f"{loc.name},{loc.latitude},{loc.longitude}" for loc in load_locations(count, settings)]
    return "name,latitude,longitude\n" + "\n".join(rows) + "\n"


def load_observations(count: int, settings: Settings) -> list[Observations]:
    """The cleaned hourly observations of ``count`` load locations (what Train loads from their datasets)."""
    stations = observations_from_file(None, settings)  # the embedded year, cleaned, on an hourly grid
    out = []
    for i, location in enumerate(load_locations(count, settings)):
        base = stations[i % len(stations)]
        shift = _offsets(i)[2]
        values = {k: (v + shift if k in SHIFTED else v.copy()) for k, v in base.values.items()}
        out.append(Observations(location.name, base.time.copy(), values, location.latitude, location.longitude))
    return out
