"""Validated request observations to a forecast's input (``rps_core.forecasts.ForecastInput``), with the checks
pydantic cannot express: times are real, on the hour, consecutive and in order, and the target's last
value is known. Both body forms (columns and rows) are read without building per-observation objects
beyond what the JSON parser made: one numpy conversion for the times and one for all the values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import chain
from typing import Any

import numpy as np
from rps_core.config import Location
from rps_core.forecasts import ForecastInput
from rps_core.quality import PHYSICAL_RANGES
from rps_core.schema import VARIABLES, Observations
from rps_core.times import format_times

from rps_serving.schemas import TIME_PATTERN, TIME_RE

Loc = tuple[str | int, ...]
# The columns form's element constraints (schemas._column documents them), checked per column here.
_LOW = np.array([[PHYSICAL_RANGES[name].low] for name in VARIABLES])
_HIGH = np.array([[PHYSICAL_RANGES[name].high] for name in VARIABLES])
_TIME_TEMPLATE = np.frombuffer(b"0000-00-00T00:00", dtype=np.uint8)
_DIGIT = np.equal(_TIME_TEMPLATE, ord("0"))  # where the pattern has a digit


class InputError(Exception):
    """A client error found after schema validation; rendered as a 422 in FastAPI's error shape."""

    def __init__(self, loc: Loc, msg: str, kind: str = "value_error") -> None:
        super().__init__(msg)
        self.errors = [{"loc": list(loc), "msg": msg, "type": kind}]


def _times(times: list[str], at: Any) -> np.ndarray:
    """datetime64[m] of validated ``YYYY-MM-DDTHH:MM`` strings; ``at(i, "time")`` locates item i."""
    try:
        parsed = np.array(times, dtype="datetime64[m]")
    except ValueError:
        for i, t in enumerate(times):  # slow path: name the first impossible date
            try:
                np.datetime64(t, "m")
            except ValueError:
                raise InputError(at(i, "time"), f"{t!r} is not a valid date and time") from None
        raise
    minutes = parsed.astype(np.int64)
    off_hour = np.flatnonzero(minutes % 60)
    if off_hour.size:
        i = int(off_hour[0])
        raise InputError(at(i, "time"), f"{times[i]!r} is not on the hour")
    gaps = np.flatnonzero(np.diff(minutes) != 60)
    if gaps.size:
        i = int(gaps[0]) + 1
        expected = str(parsed[i - 1] + np.timedelta64(60, "m"))
        raise InputError(
            at(i, "time"), f"expected {expected} after {times[i - 1]} (consecutive hours, oldest first), got {times[i]}"
        )
    return parsed


def _check_time_format(times: list[str], at: Any) -> None:
    """Every time matches schemas.TIME_PATTERN (YYYY-MM-DDTHH:MM), checked on the bytes of all at once."""
    if set(map(len, times)) == {len(_TIME_TEMPLATE)}:  # in C: a generator here costs 100 us per body
        joined = "".join(times)
        if joined.isascii():
            chars = np.frombuffer(joined.encode(), dtype=np.uint8).reshape(len(times), -1)
            digits = (chars >= ord("0")) & (chars <= ord("9"))
            bad = np.flatnonzero(np.where(_DIGIT, ~digits, chars != _TIME_TEMPLATE).any(axis=1))
            if not bad.size:
                return
    for i, t in enumerate(times):  # slow path: name the first that does not match
        if len(t) != len(_TIME_TEMPLATE) or not TIME_RE.match(t):
            raise InputError(at(i, "time"), f"String should match pattern '{TIME_PATTERN}'", "string_pattern_mismatch")


def _check_ranges(values: np.ndarray, at: Any) -> None:
    """Every value in its variable's physical range (NaN, a null, is in range: it is missing)."""
    low, high = values < _LOW, values > _HIGH
    if low.any() or high.any():
        row, i = np.argwhere(low | high)[0]
        name = VARIABLES[row]
        if low[row, i]:
            raise InputError(
                at(int(i), name),
                f"Input should be greater than or equal to {PHYSICAL_RANGES[name].low:g}",
                "greater_than_equal",
            )
        raise InputError(
            at(int(i), name), f"Input should be less than or equal to {PHYSICAL_RANGES[name].high:g}", "less_than_equal"
        )


def to_window(location: Location, observations: Any, target: str, loc: Loc = ("body", "observations")) -> ForecastInput:
    """``observations`` as validated by ``schemas.Observations`` (columns or rows), at the configured
    location; null readings become NaN."""
    if isinstance(observations, Mapping):
        times = observations["time"]
        # np.array turns None into NaN in a float64 array: no per-value Python work.
        values = np.array([observations[name] for name in VARIABLES], dtype=np.float64)

        def at(i: int, name: str) -> Loc:
            return (*loc, name, i)

        _check_time_format(times, at)
        _check_ranges(values, at)
    else:
        rows: Sequence[Any] = observations
        times = [r["time"] for r in rows]
        values = np.array([[r[name] for r in rows] for name in VARIABLES], dtype=np.float64)

        def at(i: int, name: str) -> Loc:
            return (*loc, i, name)

    parsed = _times(times, at)
    t = VARIABLES.index(target)
    if np.isnan(values[t, -1]):
        raise InputError(
            at(len(times) - 1, target),
            f"the last observation's {target} is null: the forecast is that value plus the predicted change",
        )
    last = parsed[-1].astype("datetime64[h]")
    return ForecastInput(location.name, location.latitude, location.longitude, values, last, times[-1])


def to_windows(
    places: Sequence[Location], observations: Sequence[Any], target: str, locs: Sequence[Loc]
) -> list[ForecastInput]:
    """``to_window`` of each item of a batch. When all are in the columns form, the checks and conversions
    run once over the whole batch (each costs per call about as much as per observation); any failure
    hands over to the item-by-item path, which names the first error exactly as for one request."""
    if len(observations) > 1 and all(isinstance(o, Mapping) for o in observations):
        windows = _columns_at_once(places, observations, target)
        if windows is not None:
            return windows
    return [to_window(p, o, target, loc) for p, o, loc in zip(places, observations, locs, strict=True)]


def _columns_at_once(places: Sequence[Location], columns: Sequence[Any], target: str) -> list[ForecastInput] | None:
    """The windows of valid columns-form items, all checked together; None when any check fails."""
    times = list(chain.from_iterable(c["time"] for c in columns))
    if set(map(len, times)) != {len(_TIME_TEMPLATE)}:
        return None
    joined = "".join(times)
    if not joined.isascii():
        return None
    chars = np.frombuffer(joined.encode(), dtype=np.uint8).reshape(len(times), -1)
    digits = (chars >= ord("0")) & (chars <= ord("9"))
    if np.where(_DIGIT, ~digits, chars != _TIME_TEMPLATE).any():
        return None
    values = np.array([[c[name] for name in VARIABLES] for c in columns], dtype=np.float64)
    if (values < _LOW).any() or (values > _HIGH).any() or np.isnan(values[:, VARIABLES.index(target), -1]).any():
        return None
    try:
        parsed = np.array(times, dtype="datetime64[m]").reshape(len(columns), -1)
    except ValueError:
        return None
    minutes = parsed.astype(np.int64)
    if (minutes % 60).any() or (np.diff(minutes, axis=1) != 60).any():
        return None
    last = parsed[:, -1].astype("datetime64[h]")
    return [
        ForecastInput(p.name, p.latitude, p.longitude, values[i], last[i], c["time"][-1])
        for i, (p, c) in enumerate(zip(places, columns, strict=True))
    ]


def to_observations(
    location: Location, observations: Any, target: str, loc: Loc = ("body", "observations")
) -> Observations:
    """As ``to_window``, as ``rps_core.schema.Observations`` (for callers that use the library's type)."""
    w = to_window(location, observations, target, loc)
    time = w.last_hour - np.arange(w.values.shape[1] - 1, -1, -1).astype("timedelta64[h]")
    values = {name: w.values[i] for i, name in enumerate(VARIABLES)}
    return Observations(location.name, time, values, location.latitude, location.longitude)


def observation_rows(obs: Observations) -> list[dict[str, Any]]:
    """The API's observation records of ``obs`` (NaN as null): the rows form. For clients that hold
    ``Observations`` (the benches, the tests)."""
    columns = observation_columns(obs)
    times = columns.pop("time")
    return [{"time": t, **{name: columns[name][i] for name in VARIABLES}} for i, t in enumerate(times)]


def observation_columns(obs: Observations) -> dict[str, list[Any]]:
    """The columns form of ``obs`` (NaN as null)."""
    columns: dict[str, list[Any]] = {"time": format_times(obs.time)}
    for name in VARIABLES:
        columns[name] = [None if np.isnan(v) else float(v) for v in obs.values[name]]
    return columns
