"""The complete hourly grid a dataset version holds, and the merge of a new window into the history."""

from __future__ import annotations

import numpy as np

from rps_core.errors import DatasetError
from rps_core.schema import Observations


def to_hourly_grid(obs: Observations) -> Observations:
    """One row per hour from the first to the last observation, NaN where an hour or a value is missing."""
    if not len(obs):
        return obs
    hours = obs.time.astype("datetime64[h]").astype("int64")
    if np.any(np.diff(hours) <= 0):
        raise DatasetError(f"{obs.location}: times are not strictly increasing (the gate should have failed)")
    first = int(hours[0])
    positions = hours - first
    size = int(positions[-1]) + 1
    values = {}
    for name, column in obs.values.items():
        full = np.full(size, np.nan)
        full[positions] = column
        values[name] = full
    time = (np.arange(size, dtype="int64") + first).astype("datetime64[h]")
    return obs.with_rows(time, values)


def merge(previous: Observations | None, new: Observations) -> Observations:
    """History and a new window on one grid: the window's values win where present, the history stands
    elsewhere (so a re-run of a window reproduces the same version)."""
    new = to_hourly_grid(new)
    if previous is None or not len(previous):
        return new
    if not len(new):
        return previous
    if set(previous.values) != set(new.values):
        raise DatasetError(f"{new.location}: the new window's variables differ from the dataset's")
    prev_hours = previous.time.astype("int64")
    new_hours = new.time.astype("int64")
    first = int(min(prev_hours[0], new_hours[0]))
    size = int(max(prev_hours[-1], new_hours[-1])) - first + 1
    values = {}
    for name in previous.values:
        full = np.full(size, np.nan)
        full[prev_hours - first] = previous.values[name]
        column = new.values[name]
        present = ~np.isnan(column)
        full[(new_hours - first)[present]] = column[present]
        values[name] = full
    time = (np.arange(size, dtype="int64") + first).astype("datetime64[h]")
    return new.with_rows(time, values)
