"""The CloudWatch metrics of a window, summarized per metric: count, last, average, maximum, and a series.

Plain CloudWatch calls (ListMetrics, GetMetricData), so the report reads the local cloud or AWS alike.
GetMetricData matches a metric's dimensions exactly (as AWS does, and as moto does for metrics with
dimensions). Alarm states come from ``rps_local.emulator.cloudwatch.alarms`` when that module is installed.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = [
    "MetricKey",
    "MetricSummary",
    "MetricsReport",
    "alarm_states",
    "build_report",
    "choose_period",
    "list_metric_keys",
    "parse_since",
]

logger = logging.getLogger(__name__)

SERIES_POINTS = 120  # periods in a window's series: the chart's resolution and the meaning of "last"
_QUERIES_PER_CALL = 500  # GetMetricData's limit
_WHOLE = ("SampleCount", "Sum", "Maximum", "Minimum")
_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True, order=True)
class MetricKey:
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...] = ()

    @property
    def dimensions_label(self) -> str:
        return ",".join(f"{k}={v}" for k, v in self.dimensions)

    def metric(self) -> dict[str, Any]:
        return {
            "Namespace": self.namespace,
            "MetricName": self.name,
            "Dimensions": [{"Name": k, "Value": v} for k, v in self.dimensions],
        }


@dataclass(frozen=True)
class MetricSummary:
    """One metric over the window. ``last`` is the average of the latest period that has data."""

    key: MetricKey
    count: float
    total: float
    maximum: float | None
    minimum: float | None
    last: float | None
    last_time: datetime | None
    series: tuple[tuple[datetime, float], ...] = ()  # (period start, average), oldest first

    @property
    def average(self) -> float | None:
        return self.total / self.count if self.count else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "namespace": self.key.namespace,
            "metric": self.key.name,
            "dimensions": dict(self.key.dimensions),
            "count": self.count,
            "sum": self.total,
            "average": self.average,
            "maximum": self.maximum,
            "minimum": self.minimum,
            "last": self.last,
            "last_time": _iso(self.last_time),
            "series": [[_iso(t), v] for t, v in self.series],
        }


@dataclass(frozen=True)
class MetricsReport:
    start: datetime
    end: datetime
    period: int
    metrics: list[MetricSummary]
    quiet: int = 0  # metrics CloudWatch lists that have no data in the window
    alarms: list[dict[str, Any]] | None = None  # None: no alarm evaluation available
    alarm_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": _iso(self.start),
            "end": _iso(self.end),
            "period": self.period,
            "metrics": [m.to_dict() for m in self.metrics],
            "quiet_metrics": self.quiet,
            "alarms": self.alarms,
            "alarm_error": self.alarm_error,
        }


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_since(text: str, now: datetime) -> datetime:
    """``24h``, ``30m``, ``7d``, ``2w``, ``90s`` before ``now``, or an ISO time (UTC when it has no zone)."""
    if match := _DURATION.match(text.strip()):
        return now - timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"--since {text!r}: give a duration such as 24h, 30m, 7d, or an ISO time") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def choose_period(window: timedelta, points: int = SERIES_POINTS, age: timedelta = timedelta(0)) -> int:
    """A period that splits ``window`` into at most ``points``, in the steps CloudWatch accepts for data
    of that ``age`` (60 s, then 300 s past 15 days, 3600 s past 63 days)."""
    step = 3600 if age > timedelta(days=63) else 300 if age > timedelta(days=15) else 60
    return max(step, math.ceil(window.total_seconds() / points / step) * step)


def list_metric_keys(cloudwatch: Any, namespace: str | None = None) -> list[MetricKey]:
    """Every metric CloudWatch lists, once each (moto lists a metric once per datapoint)."""
    kwargs: dict[str, Any] = {"Namespace": namespace} if namespace else {}
    keys: set[MetricKey] = set()
    for page in cloudwatch.get_paginator("list_metrics").paginate(**kwargs):
        for metric in page.get("Metrics", []):
            dims = tuple(sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions", [])))
            keys.add(MetricKey(metric["Namespace"], metric["MetricName"], dims))
    return sorted(keys)


def build_report(
    cloudwatch: Any,
    *,
    namespace: str | None = None,
    start: datetime,
    end: datetime,
    names: Iterable[str] | None = None,
    period: int | None = None,
    template_path: Path | None = None,
    alarm_options: Mapping[str, Any] | None = None,
) -> MetricsReport:
    """Summaries of the metrics (optionally only ``names``) with data between ``start`` and ``end``."""
    if end <= start:
        raise ValueError(f"the window is empty: {_iso(start)} is not before {_iso(end)}")
    age = datetime.now(UTC) - start
    period = period or choose_period(end - start, age=age)
    wanted = set(names or ())
    keys = [k for k in list_metric_keys(cloudwatch, namespace) if not wanted or k.name in wanted]
    summaries = _summaries(cloudwatch, keys, start, end, period, choose_period(end - start, 1, age))
    active = [s for s in summaries if s.count > 0]
    alarms, alarm_error = (None, None)
    if template_path is not None:
        alarms, alarm_error = alarm_states(cloudwatch, template_path, end, alarm_options or {})
    return MetricsReport(start, end, period, active, len(summaries) - len(active), alarms, alarm_error)


def _summaries(
    cloudwatch: Any, keys: list[MetricKey], start: datetime, end: datetime, period: int, whole: int
) -> list[MetricSummary]:
    """``whole`` is one period over the whole window, for the totals; ``period`` is the series'."""
    queries: list[dict[str, Any]] = []
    for i, key in enumerate(keys):
        for stat in _WHOLE:
            queries.append(_query(f"m{i}_{stat.lower()}", key, stat, whole))
        queries.append(_query(f"m{i}_series", key, "Average", period))
    values = _get_metric_data(cloudwatch, queries, start, end)
    out = []
    for i, key in enumerate(keys):
        stats = {s: [v for _, v in values.get(f"m{i}_{s.lower()}", [])] for s in _WHOLE}
        series = tuple(values.get(f"m{i}_series", []))
        out.append(
            MetricSummary(
                key=key,
                count=sum(stats["SampleCount"]),
                total=sum(stats["Sum"]),
                maximum=max(stats["Maximum"], default=None),
                minimum=min(stats["Minimum"], default=None),
                last=series[-1][1] if series else None,
                last_time=series[-1][0] if series else None,
                series=series,
            )
        )
    return out


def _query(query_id: str, key: MetricKey, stat: str, period: int) -> dict[str, Any]:
    return {"Id": query_id, "MetricStat": {"Metric": key.metric(), "Period": period, "Stat": stat}, "ReturnData": True}


def _get_metric_data(
    cloudwatch: Any, queries: list[dict[str, Any]], start: datetime, end: datetime
) -> dict[str, list[tuple[datetime, float]]]:
    """{query id: [(timestamp, value)] oldest first}, over every page and every batch of queries."""
    out: dict[str, list[tuple[datetime, float]]] = {}
    for first in range(0, len(queries), _QUERIES_PER_CALL):
        kwargs: dict[str, Any] = {
            "MetricDataQueries": queries[first : first + _QUERIES_PER_CALL],
            "StartTime": start,
            "EndTime": end,
        }
        while True:
            response = cloudwatch.get_metric_data(**kwargs)
            for result in response.get("MetricDataResults", []):
                points = zip(result.get("Timestamps", []), result.get("Values", []), strict=False)
                out.setdefault(result["Id"], []).extend((t.astimezone(UTC), float(v)) for t, v in points)
            if not response.get("NextToken"):
                break
            kwargs["NextToken"] = response["NextToken"]
    for points in out.values():
        points.sort()  # AWS answers newest first by default, moto oldest first
    return out


def alarm_states(
    cloudwatch: Any, template_path: Path, now: datetime, options: Mapping[str, Any]
) -> tuple[list[dict[str, Any]] | None, str | None]:
    """The template's alarm states from ``rps_local.emulator.cloudwatch.alarms`` (None when the module is not
    installed)."""
    try:
        from rps_local.emulator.cloudwatch import alarms
    except ModuleNotFoundError as exc:
        if exc.name != "rps_local.emulator.cloudwatch.alarms":
            raise
        return None, None
    from rps_local.emulator.errors import LocalCloudError

    try:
        states = alarms.evaluate_alarms(template_path, cloudwatch, now, **options)
    except LocalCloudError as exc:  # a template the alarms cannot be read from: the metrics still show
        logger.debug("alarm states not computed: %s", exc)
        return None, str(exc)
    return [state.to_dict() for state in states], None
