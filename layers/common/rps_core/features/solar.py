"""Where the sun is: solar elevation and clear-sky insolation at a place and hour, known in advance.

The sun drives most of a 6-hour temperature change. Hour of day and day of year only stand in for it, and
in UTC they mean a different local time at every longitude; the sun's height at the location's own
coordinates says the same thing for any place and season. The formulas are NOAA's (fractional year,
declination and equation of time as Fourier series), good to a fraction of a degree, ample for features.

"Insolation" here is the mean of max(0, sin elevation) over whole hours, sampled at their midpoints: the
top-of-atmosphere irradiance as a share of the solar constant, before clouds.
"""

from __future__ import annotations

import numpy as np

ELEVATION_OFFSETS = (0, 3, 6)  # sin(elevation) at t, t+3 h and t+6 h
# The mean insolation over whole hours (first, last) relative to the row's hour t.
NEXT_6H, LAST_6H, LAST_24H, DAY = (0, 5), (-6, -1), (-24, -1), (-12, 11)  # DAY: length and season, centred on t
NAMES = (
    *(f"sun_elevation_sin_{k}h" for k in ELEVATION_OFFSETS),
    "insolation_next_6h",  # the sunshine still to come before t+6
    "insolation_change_6h",  # next 6 h minus last 6 h: warming ahead against behind, one split for a tree
    "insolation_last_24h",
    "insolation_day",
)
WINDOWS = (NEXT_6H, LAST_6H, LAST_24H, DAY)
PAST_HOURS = -min(start for start, _ in WINDOWS)
FUTURE_HOURS = max(*ELEVATION_OFFSETS, *(stop + 1 for _, stop in WINDOWS))


def sin_elevation(hours: np.ndarray, latitude: float | np.ndarray, longitude: float | np.ndarray) -> np.ndarray:
    """sin of the solar elevation at ``hours`` (float hours since 1970-01-01T00:00 UTC)."""
    hours = np.asarray(hours, dtype=np.float64)
    whole_days = np.floor(hours / 24).astype("int64").astype("datetime64[D]")
    day_of_year = (whole_days - whole_days.astype("datetime64[Y]")).astype(np.float64)
    hour_utc = hours - np.floor(hours / 24) * 24
    g = 2 * np.pi / 365 * (day_of_year + (hour_utc - 12) / 24)  # the fractional year, radians
    # The harmonics of g from its sine and cosine (two trigonometric calls instead of seven).
    c1, s1 = np.cos(g), np.sin(g)
    c2, s2 = 2 * c1 * c1 - 1, 2 * s1 * c1
    c3, s3 = c1 * (2 * c2 - 1), s1 * (2 * c2 + 1)
    declination = (
        0.006918 - 0.399912 * c1 + 0.070257 * s1 - 0.006758 * c2 + 0.000907 * s2 - 0.002697 * c3 + 0.00148 * s3
    )
    equation_of_time = 229.18 * (0.000075 + 0.001868 * c1 - 0.032077 * s1 - 0.014615 * c2 - 0.040849 * s2)  # minutes
    solar_minutes = hour_utc * 60 + equation_of_time + 4 * longitude
    hour_angle = np.deg2rad(solar_minutes / 4 - 180)
    lat = np.deg2rad(latitude)
    return np.sin(lat) * np.sin(declination) + np.cos(lat) * np.cos(declination) * np.cos(hour_angle)


def solar_names() -> list[str]:
    return list(NAMES)


def solar_columns(hours: np.ndarray, latitude: float, longitude: float) -> list[np.ndarray]:
    """The columns of ``solar_names()`` for rows at ``hours`` (int64 hours since the epoch, consecutive).

    Each row's value depends only on its own hour, computed the same way whatever the span, so the rows of a
    short serving history equal those of the full training history bit for bit.
    """
    n = hours.shape[0]
    first = int(hours[0]) - PAST_HOURS if n else 0
    # Every whole hour from t0 - PAST_HOURS to t_last + FUTURE_HOURS, and its midpoint: one call (serving
    # pays numpy's per-call overhead, not the arithmetic).
    grid = np.arange(first, first + n + PAST_HOURS + FUTURE_HOURS, dtype=np.float64)
    at_hour, at_midpoint = sin_elevation(np.concatenate([grid, grid + 0.5]), latitude, longitude).reshape(2, -1)
    sun = np.maximum(at_midpoint, 0.0)

    def mean(window: tuple[int, int]) -> np.ndarray:
        start, stop = window
        # Row i's window is sun[offset + i : offset + i + width], a strided view (no copy, no running sums).
        offset, width = PAST_HOURS + start, stop - start + 1
        view = np.lib.stride_tricks.as_strided(sun[offset:], (n, width), (sun.strides[0],) * 2, writeable=False)
        return view.sum(axis=1) / width

    at = [at_hour[PAST_HOURS + k : PAST_HOURS + k + n] for k in ELEVATION_OFFSETS]
    next_6h = mean(NEXT_6H)
    return [*at, next_6h, next_6h - mean(LAST_6H), mean(LAST_24H), mean(DAY)]


def solar_rows(last_hour: np.ndarray, latitude: np.ndarray, longitude: np.ndarray) -> np.ndarray:
    """float64 [n, 7]: the ``solar_columns`` of one row per item (its hour, its place), the same numbers.

    All items in one pass: the grids of the items are the rows of one matrix, so serving pays numpy's
    per-call overhead once per request or batch, not once per item.
    """
    width = 1 + PAST_HOURS + FUTURE_HOURS
    grid = (np.asarray(last_hour, dtype=np.int64)[:, None] - PAST_HOURS + np.arange(width)).astype(np.float64)
    lat, lon = np.asarray(latitude, dtype=np.float64)[:, None], np.asarray(longitude, dtype=np.float64)[:, None]
    both = sin_elevation(np.concatenate([grid, grid + 0.5], axis=1), lat, lon)
    at_hour, sun = both[:, :width], np.maximum(both[:, width:], 0.0)

    def mean(window: tuple[int, int]) -> np.ndarray:
        start, stop = window
        offset = PAST_HOURS + start
        return sun[:, offset : offset + stop - start + 1].sum(axis=1) / (stop - start + 1)

    next_6h = mean(NEXT_6H)
    at = [at_hour[:, PAST_HOURS + k] for k in ELEVATION_OFFSETS]
    return np.stack([*at, next_6h, next_6h - mean(LAST_6H), mean(LAST_24H), mean(DAY)], axis=1)
