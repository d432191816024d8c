"""The pooled training table of all locations and its split in time order.

Rows are (location, hour t) with a known target change y(t+h) - y(t). The split is one time cut for all
locations (the last ``test_fraction`` of rows by time are the test set, never shuffled), so that no
location's training rows come from a period that another, correlated, location is tested on. Training rows
whose target hour t+h reaches the test period are dropped (purged): their label would be a test observation.

The row budget keeps Train bounded as locations grow (Lambda: 3008 MB, 900 s): each location gives at most
``budget // locations`` of its newest hours (every location represented, the recent past preferred), and
only those hours become rows (their features computed from the history before them, as serving does).
Within the budget nothing is left out: at the three embedded stations (about 20,000 rows) it changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rps_core.errors import DatasetError
from rps_core.features import build_features, build_target
from rps_core.schema import Observations

TEST_FRACTION = 0.2
# Rows of the pooled table (training and test), shared by the locations; template TrainingRowBudget.
# `make bench` (train_scale, 2 quiet cores, default model): 300 and 1,000 locations, both capped at about
# 488,000 rows, took 144 s and 152 s with peaks of 1,077 and 1,456 MiB: about 180 s at Lambda's 1.7 vCPUs,
# well within its 900 s and 3,008 MB.
ROW_BUDGET = 500_000


@dataclass(frozen=True)
class Table:
    """Pooled rows: features ``x`` float32 [n, f], target change ``delta``, current value ``base``, hour ``t``
    (hours since the epoch) and ``location`` of each row, in time order."""

    x: np.ndarray
    delta: np.ndarray
    base: np.ndarray
    t: np.ndarray
    location: np.ndarray

    def __len__(self) -> int:
        return int(self.t.shape[0])

    def take(self, mask: np.ndarray) -> Table:
        return Table(self.x[mask], self.delta[mask], self.base[mask], self.t[mask], self.location[mask])


def rows_per_location(locations: int, budget: int = ROW_BUDGET) -> int:
    """The newest hours each location may give the table (at least one)."""
    return max(1, budget // max(1, locations))


def build_table(observations: Sequence[Observations], target: str, horizon: int, budget: int = ROW_BUDGET) -> Table:
    """Features and targets of every location's newest ``rows_per_location`` hours, rows with a known target
    only, sorted by (time, location)."""
    cap = rows_per_location(len(observations), budget)
    parts = []
    for obs in observations:
        last = min(cap, len(obs))
        if last == 0:
            continue
        x = build_features(obs, target, last=last)  # the kept hours alone, the same numbers bit for bit
        delta, base = (a[len(obs) - last :] for a in build_target(obs, target, horizon))
        keep = ~np.isnan(delta)
        t = obs.time[len(obs) - last :].astype("datetime64[h]").astype(np.int64)
        parts.append((x[keep], delta[keep], base[keep], t[keep], np.full(int(keep.sum()), obs.location)))
    if not parts or sum(len(p[3]) for p in parts) == 0:
        raise DatasetError("no rows with a known target: the dataset versions are empty or all gaps")
    x, delta, base, t, loc = (np.concatenate([p[i] for p in parts]) for i in range(5))
    order = np.lexsort((loc, t))
    return Table(x[order], delta[order], base[order], t[order], loc[order].astype(str))


def time_split(table: Table, horizon: int, test_fraction: float = TEST_FRACTION) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks (train, test): test = rows at or after the cut hour, train = rows whose t + h is before it."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction {test_fraction} must be in (0, 1)")
    n = len(table)
    cut = table.t[min(n - 1, int(np.floor(n * (1 - test_fraction))))]
    test = table.t >= cut
    train = table.t + horizon < cut
    if not train.any() or not test.any():
        raise DatasetError(f"{n} rows are too few to split into training and test sets")
    return train, test
