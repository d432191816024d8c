"""Small synthetic observations for the model tests: a diurnal cycle whose amplitude follows a hidden
cloudiness that humidity reveals, weather noise, gaps, and two climates (so pooling is exercised)."""

from __future__ import annotations

from typing import Any

import numpy as np
from rps_core.schema import UNITS, Observations
from rps_core.times import format_times

FAST_PARAMS = {"max_iter": 30, "max_leaf_nodes": 15, "min_samples_leaf": 20}


def synthetic_observations(
    location: str, hours: int = 24 * 50, seed: int = 0, offset: float = 0.0, start: str = "2013-03-01T00"
) -> Observations:
    rng = np.random.default_rng(seed)
    t = np.arange(hours)
    cloud = np.clip(0.5 + np.cumsum(rng.normal(0, 0.05, hours)), 0, 1)
    diurnal = (1.5 + 6 * (1 - cloud)) * np.sin(2 * np.pi * (t - 9) / 24)
    weather = np.cumsum(rng.normal(0, 0.3, hours)) * 0.3
    temperature = 8 + offset + diurnal + weather + rng.normal(0, 0.2, hours)
    values = {
        "temperature_2m": temperature,
        "relative_humidity_2m": np.clip(40 + 50 * cloud + rng.normal(0, 3, hours), 0, 100),
        "dew_point_2m": temperature - 2 - 8 * (1 - cloud),
        "precipitation": np.where(rng.random(hours) < 0.05 * cloud, rng.exponential(1.0, hours), 0.0),
        "pressure_msl": 1013 + np.cumsum(rng.normal(0, 0.3, hours)) * 0.2,
        "wind_speed_10m": np.abs(rng.normal(12, 5, hours)),
        "wind_direction_10m": rng.uniform(0, 360, hours),
    }
    for name, column in values.items():
        column[rng.random(hours) < (0.08 if name == "pressure_msl" else 0.01)] = np.nan
    time = np.datetime64(start, "h") + t.astype("timedelta64[h]")
    return Observations(location, time, values, latitude=40.7, longitude=-74.0)


def two_locations(hours: int = 24 * 50, seed: int = 0) -> list[Observations]:
    return [
        synthetic_observations("WARM", hours, seed, offset=10.0),
        synthetic_observations("COLD", hours, seed + 1, offset=-5.0),
    ]


def payload_from_observations(obs: Observations, latitude: float, longitude: float) -> dict[str, Any]:
    """The Open-Meteo shape of ``obs`` (NaN becomes null)."""
    hourly: dict[str, list[Any]] = {"time": format_times(obs.time)}
    for name, column in obs.values.items():
        hourly[name] = [None if np.isnan(v) else round(float(v), 2) for v in column]
    return {
        "latitude": latitude,
        "longitude": longitude,
        "generationtime_ms": 0.0,
        "utc_offset_seconds": 0,
        "timezone": "GMT",
        "timezone_abbreviation": "GMT",
        "elevation": 0.0,
        "hourly_units": {"time": "iso8601", **{k: UNITS[k] for k in obs.values}},
        "hourly": hourly,
    }
