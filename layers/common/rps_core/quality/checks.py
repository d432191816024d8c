"""The gate's checks. Each takes the window's observations (rows in the order received) and returns a
``Check``: its name, whether it passed, a one-line detail and the numbers behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from rps_core.quality.rules import PHYSICAL_RANGES, Bound
from rps_core.schema import Observations
from rps_core.times import format_times, hours_of

MAX_LISTED = 50  # out-of-range values and gaps listed in a report; all are counted


@dataclass
class Check:
    name: str
    passed: bool
    detail: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "detail": self.detail, **self.data}


def _hours(value: np.datetime64) -> int:
    return int(value.astype("datetime64[h]").astype("int64"))


def check_min_rows(obs: Observations, min_rows: int) -> Check:
    rows = len(obs)
    return Check("min_rows", rows >= min_rows, f"{rows} rows in the window, minimum {min_rows}", {"rows": rows})


def check_time_index(obs: Observations, window_start: datetime | None, max_gap_hours: int) -> Check:
    """Strictly increasing hours (no duplicates, in order) and no run of missing hours longer than
    ``max_gap_hours``, counting the hours between the window's start and its first observation."""
    hours = obs.time.astype("int64")
    steps = np.diff(hours)
    duplicates = int(np.sum(steps == 0))
    backwards = int(np.sum(steps < 0))
    edges = hours
    if window_start is not None and len(hours):
        edges = np.concatenate([[hours_of(window_start)], hours])
    missing = np.diff(edges) - 1
    gap_at = np.flatnonzero(missing > 0)
    longest = int(missing.max()) if missing.size else 0
    gaps = [
        {"after": format_times(np.array([edges[i]], dtype="datetime64[h]"))[0], "missing_hours": int(missing[i])}
        for i in gap_at[:MAX_LISTED]
    ]
    problems = []
    if duplicates:
        problems.append(f"{duplicates} duplicate hours")
    if backwards:
        problems.append(f"{backwards} hours out of order")
    if longest > max_gap_hours:
        problems.append(f"a gap of {longest} missing hours (maximum {max_gap_hours})")
    detail = "; ".join(problems) or f"hourly, {gap_at.size} gaps, longest {longest} missing hours"
    data = {
        "duplicates": duplicates,
        "out_of_order": backwards,
        "gaps": int(gap_at.size),
        "longest_gap_hours": max(longest, 0),
        "gap_list": gaps,
    }
    return Check("time_index", not problems, detail, data)


def null_shares(obs: Observations) -> dict[str, float]:
    rows = max(len(obs), 1)
    return {name: float(np.isnan(col).sum()) / rows for name, col in obs.values.items()}


def check_nulls(obs: Observations, key: tuple[str, ...], threshold: float) -> Check:
    """Key columns fail above ``threshold``; the other columns are reported, not judged."""
    shares = null_shares(obs)
    failing = {k: shares[k] for k in key if shares.get(k, 1.0) > threshold}
    detail = (
        "; ".join(f"{k} {v:.1%} null (maximum {threshold:.1%})" for k, v in failing.items())
        or f"key columns {', '.join(key)} at most {max((shares.get(k, 0.0) for k in key), default=0.0):.1%} null"
    )
    return Check(
        "null_share",
        not failing,
        detail,
        {"threshold": threshold, "key_columns": list(key), "null_share": {k: round(v, 4) for k, v in shares.items()}},
    )


def out_of_range_mask(values: np.ndarray, bound: Bound) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return ~np.isnan(values) & ((values < bound.low) | (values > bound.high))


def check_physical_ranges(obs: Observations, key: tuple[str, ...], threshold: float) -> Check:
    """Any out-of-range value in a key column fails; in another column, a share above ``threshold``."""
    rows = max(len(obs), 1)
    listed: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    failing: list[str] = []
    for name, column in obs.values.items():
        bound = PHYSICAL_RANGES[name]
        bad = np.flatnonzero(out_of_range_mask(column, bound))
        counts[name] = int(bad.size)
        if not bad.size:
            continue
        is_key = name in key
        if is_key or bad.size / rows > threshold:
            failing.append(f"{name}: {bad.size} values outside {bound}" + (" (key column)" if is_key else ""))
        times = format_times(obs.time[bad[:MAX_LISTED]])
        listed += [
            {"column": name, "time": t, "value": float(column[i]), "low": bound.low, "high": bound.high, "key": is_key}
            for t, i in zip(times, bad[:MAX_LISTED], strict=True)
        ]
    total = sum(counts.values())
    detail = "; ".join(failing) or (
        f"{total} out-of-range values in non-key columns, masked by Transform" if total else "all values in range"
    )
    return Check(
        "physical_range",
        not failing,
        detail,
        {"out_of_range_count": counts, "out_of_range": listed, "threshold": threshold},
    )


def check_freshness(obs: Observations, now: datetime, freshness_hours: int) -> Check:
    """The newest observation is at most ``freshness_hours`` older than ``now`` (the simulated now in replay)."""
    if not len(obs):
        return Check("freshness", False, "no observations in the window", {"lag_hours": None})
    newest = obs.time.max()
    now_hours = hours_of(now)
    lag = now_hours - _hours(newest)
    newest_text = format_times(np.array([newest]))[0]
    passed = 0 <= lag <= freshness_hours
    detail = f"newest observation {newest_text}, {lag} h before now (maximum {freshness_hours} h)"
    if lag < 0:
        detail = f"newest observation {newest_text} is after now"
    return Check("freshness", passed, detail, {"lag_hours": lag, "newest": newest_text})
