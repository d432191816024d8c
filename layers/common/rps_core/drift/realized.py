"""Realized error: the pipeline's batch forecasts joined with the observations that arrived later.

Forecasts live at ``forecasts/location={L}/issued={YYYY-MM-DDTHH:MM}.json`` in DATA_BUCKET, each holding
``{location, issued_at, target_time, value, model_version}`` and, since issue 16, the 80%/95% interval
bounds ``lower_80, upper_80, lower_95, upper_95`` (one object, a list of them, or ``{"forecasts": [...]}``).
A forecast counts once its ``target_time`` has been observed; its interval counts when it has one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rps_core.contract import forecast_prefix
from rps_core.errors import PayloadError
from rps_core.forecasts.intervals import INTERVAL_FIELDS
from rps_core.schema import Observations
from rps_core.times import format_hour, parse_hour

# The longest horizon the settings allow: a forecast issued this long before the window can still land in it.
MAX_LEAD_HOURS = 72


@dataclass(frozen=True)
class Forecast:
    location: str
    issued_at: str
    target_time: str
    value: float
    model_version: str
    # The interval (lower_80, upper_80, lower_95, upper_95); None for a forecast stored without one.
    bounds: tuple[float, float, float, float] | None = None


@dataclass(frozen=True)
class RealizedPair:
    target_time: str
    forecast: float
    actual: float
    model_version: str
    bounds: tuple[float, float, float, float] | None = None

    @property
    def error(self) -> float:
        return abs(self.forecast - self.actual)

    def inside(self, level: int) -> bool:
        """Whether the observation fell inside the forecast's ``level`` (80 or 95) interval (needs bounds)."""
        assert self.bounds is not None
        lower, upper = self.bounds[0:2] if level == 80 else self.bounds[2:4]
        return lower <= self.actual <= upper


@dataclass(frozen=True)
class RealizedCoverage:
    """The share of observed target times inside the forecasts' 80% and 95% intervals over the last
    ``window_hours`` of target times (forecasts with an interval only)."""

    location: str
    window_hours: int
    count: int
    coverage_80: float
    coverage_95: float

    def to_dict(self) -> dict[str, Any]:
        def number(x: float) -> float | None:
            return None if math.isnan(x) else round(x, 4)

        return {
            "location": self.location,
            "window_hours": self.window_hours,
            "count": self.count,
            "coverage_80": number(self.coverage_80),
            "coverage_95": number(self.coverage_95),
        }


def realized_coverage(realized: RealizedError, window_hours: int) -> RealizedCoverage:
    """Coverage of the pairs of ``realized`` whose target time is in the last ``window_hours`` of its window."""
    since = parse_hour(realized.window_end) - np.timedelta64(window_hours, "h")
    pairs = [p for p in realized.pairs if p.bounds is not None and parse_hour(p.target_time) > since]
    share = {level: float(np.mean([p.inside(level) for p in pairs])) if pairs else float("nan") for level in (80, 95)}
    return RealizedCoverage(realized.location, window_hours, len(pairs), share[80], share[95])


@dataclass(frozen=True)
class RealizedError:
    """MAE over the forecasts whose target time is in (window_start, window_end] and was observed."""

    location: str
    window_start: str
    window_end: str
    pairs: list[RealizedPair] = field(default_factory=list)
    pending: int = 0  # forecasts in the window whose target has no observation (yet)

    @property
    def count(self) -> int:
        return len(self.pairs)

    @property
    def mae(self) -> float:
        return float(np.mean([p.error for p in self.pairs])) if self.pairs else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "mae": None if math.isnan(self.mae) else self.mae,
            "count": self.count,
            "pending": self.pending,
            "pairs": [
                {
                    "target_time": p.target_time,
                    "forecast": p.forecast,
                    "actual": p.actual,
                    "model_version": p.model_version,
                }
                for p in self.pairs
            ],
        }


def parse_forecasts(document: Any, source: str = "forecast") -> list[Forecast]:
    """The forecasts in one stored document; raises PayloadError naming ``source`` when malformed."""
    items = document.get("forecasts", document) if isinstance(document, dict) else document
    items = [items] if isinstance(items, dict) else items
    if not isinstance(items, list):
        raise PayloadError(f"{source}: expected a forecast object or a list of them")
    out = []
    for i, item in enumerate(items):
        try:
            value = float(item["value"])
            bounds = None
            if all(item.get(name) is not None for name in INTERVAL_FIELDS):
                lo80, hi80, lo95, hi95 = (float(item[name]) for name in INTERVAL_FIELDS)
                bounds = (lo80, hi80, lo95, hi95)
            out.append(
                Forecast(
                    location=str(item["location"]),
                    issued_at=str(item["issued_at"])[:16],
                    target_time=str(item["target_time"])[:16],
                    value=value,
                    model_version=str(item.get("model_version", "")),
                    bounds=bounds,
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PayloadError(f"{source}[{i}]: not a forecast ({exc!r})") from exc
    return out


def _keys(client: Any, bucket: str, prefix: str, start_after: str) -> Iterator[str]:
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix, StartAfter=start_after):
        for item in page.get("Contents", []):
            yield item["Key"]


def load_forecasts(client: Any, bucket: str, location: str, window_start: str, window_end: str) -> list[Forecast]:
    """The forecasts of ``location`` whose target time falls in (window_start, window_end].

    Keys sort by issue time, so the listing starts just before the earliest issue that can still land in
    the window instead of reading the whole history.
    """
    prefix = forecast_prefix(location)
    earliest = format_hour(parse_hour(window_start) - np.timedelta64(MAX_LEAD_HOURS, "h"))
    start, end = parse_hour(window_start), parse_hour(window_end)
    found = []
    for key in _keys(client, bucket, prefix, prefix + earliest):
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        for f in parse_forecasts(json.loads(body), key):
            if f.location == location and start < parse_hour(f.target_time) <= end:
                found.append(f)
    return found


def realized_error(
    forecasts: Iterable[Forecast], obs: Observations, target: str, window_start: str, window_end: str
) -> RealizedError:
    """Join ``forecasts`` with ``obs`` (the location's latest observations) on the target time."""
    times = obs.time.astype("datetime64[h]")
    actual = np.asarray(obs.values[target], dtype="float64")
    start, end = parse_hour(window_start), parse_hour(window_end)
    pairs, pending = [], 0
    for f in sorted(forecasts, key=lambda f: (f.target_time, f.issued_at)):
        t = parse_hour(f.target_time)
        if not start < t <= end:
            continue
        i = int(np.searchsorted(times, t))
        if i < times.size and times[i] == t and not math.isnan(actual[i]):
            pairs.append(RealizedPair(f.target_time, f.value, float(actual[i]), f.model_version, f.bounds))
        else:
            pending += 1
    return RealizedError(obs.location, window_start, window_end, pairs, pending)
