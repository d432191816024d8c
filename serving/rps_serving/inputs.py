"""Validated request rows to ``rps_core.schema.Observations``, with the checks pydantic cannot express:
times are real, on the hour, consecutive and in order, and the target's last value is known."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from rps_core.config import Location
from rps_core.schema import VARIABLES, Observations, format_times

Loc = tuple[str | int, ...]


class InputError(Exception):
    """A client error found after schema validation; rendered as a 422 in FastAPI's error shape."""

    def __init__(self, loc: Loc, msg: str, kind: str = "value_error") -> None:
        super().__init__(msg)
        self.errors = [{"loc": list(loc), "msg": msg, "type": kind}]


def _times(times: list[str], loc: Loc) -> np.ndarray:
    try:
        parsed = np.array(times, dtype="datetime64[m]")
    except ValueError:
        for i, t in enumerate(times):  # slow path: name the first impossible date
            try:
                np.datetime64(t, "m")
            except ValueError:
                raise InputError((*loc, i, "time"), f"{t!r} is not a valid date and time") from None
        raise
    minutes = parsed.astype(np.int64)
    off_hour = np.flatnonzero(minutes % 60)
    if off_hour.size:
        i = int(off_hour[0])
        raise InputError((*loc, i, "time"), f"{times[i]!r} is not on the hour")
    gaps = np.flatnonzero(np.diff(minutes) != 60)
    if gaps.size:
        i = int(gaps[0]) + 1
        expected = str(parsed[i - 1] + np.timedelta64(60, "m"))
        raise InputError(
            (*loc, i, "time"),
            f"expected {expected} after {times[i - 1]} (consecutive hours, oldest first), got {times[i]}",
        )
    return parsed.astype("datetime64[h]")


def to_observations(
    location: Location, rows: Sequence[Any], target: str, loc: Loc = ("body", "observations")
) -> Observations:
    """``rows`` as validated by ``schemas.Observation``, at the configured location; null readings become NaN."""
    time = _times([r["time"] for r in rows], loc)
    values = {name: np.array([r[name] for r in rows], dtype=np.float64) for name in VARIABLES}
    if np.isnan(values[target][-1]):
        raise InputError(
            (*loc, len(rows) - 1, target),
            f"the last observation's {target} is null: the forecast is that value plus the predicted change",
        )
    return Observations(location.name, time, values, location.latitude, location.longitude)


def observation_rows(obs: Observations) -> list[dict[str, Any]]:
    """The API's observation records of ``obs`` (NaN as null): what ``to_observations`` reads back. For
    clients that hold ``Observations`` (the benches, the tests)."""
    columns = {name: [None if np.isnan(v) else float(v) for v in obs.values[name]] for name in VARIABLES}
    return [{"time": t, **{name: columns[name][i] for name in VARIABLES}} for i, t in enumerate(format_times(obs.time))]
