"""The subset of CloudWatch Metrics Insights that template alarms use, evaluated over GetMetricData.

moto answers a ``SELECT`` by summing every datapoint in the period, whatever the query says, so the local
alarms run such queries here instead: ``SELECT FUNC(Metric) FROM SCHEMA("Namespace", dim, ...)`` (or
``FROM "Namespace"``) with an optional ``WHERE dim = 'value' [AND ...]``, FUNC one of SUM, AVG, MIN, MAX,
COUNT. Like Metrics Insights, SCHEMA matches the metrics with exactly those dimension names; the function
aggregates all matching series per period into one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["InsightsQuery", "parse_query", "query_periods"]

_QUERY = re.compile(
    r"""^\s*SELECT\s+(?P<func>SUM|AVG|MIN|MAX|COUNT)\s*\(\s*(?P<metric>[\w.\-/]+)\s*\)\s+
        FROM\s+(?:SCHEMA\s*\(\s*(?P<schema>[^)]*)\)|"(?P<ns>[^"]+)")
        (?:\s+WHERE\s+(?P<where>.+?))?\s*;?\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_CONDITION = re.compile(r"""^\s*"?([\w.\-]+)"?\s*=\s*'([^']*)'\s*$""")
# Statistics fetched per series, and how series combine per period.
_STATS: dict[str, tuple[str, ...]] = {
    "SUM": ("Sum",),
    "MIN": ("Minimum",),
    "MAX": ("Maximum",),
    "COUNT": ("SampleCount",),
    "AVG": ("Sum", "SampleCount"),
}
_COMBINE: dict[str, Callable[[list[dict[str, float]]], float]] = {
    "SUM": lambda rows: sum(r["Sum"] for r in rows),
    "MIN": lambda rows: min(r["Minimum"] for r in rows),
    "MAX": lambda rows: max(r["Maximum"] for r in rows),
    "COUNT": lambda rows: sum(r["SampleCount"] for r in rows),
    "AVG": lambda rows: sum(r["Sum"] for r in rows) / max(sum(r["SampleCount"] for r in rows), 1e-300),
}


@dataclass(frozen=True)
class InsightsQuery:
    function: str
    metric_name: str
    namespace: str
    schema: tuple[str, ...] | None  # None: FROM "Namespace", any dimensions
    where: tuple[tuple[str, str], ...]

    def matches(self, dimensions: Mapping[str, str]) -> bool:
        if self.schema is not None and set(dimensions) != set(self.schema):
            return False
        return all(dimensions.get(k) == v for k, v in self.where)

    @property
    def label(self) -> str:
        where = " AND ".join(f"{k}='{v}'" for k, v in self.where)
        return f"{self.function}({self.namespace}/{self.metric_name}{' WHERE ' + where if where else ''})"


def parse_query(text: str) -> InsightsQuery:
    """Parse the supported subset; raises ValueError naming what is not supported."""
    match = _QUERY.match(text)
    if not match:
        raise ValueError(f"not a supported Metrics Insights query: {text!r}")
    if match["schema"] is not None:
        parts = [p.strip().strip('"') for p in match["schema"].split(",")]
        namespace, schema = parts[0], tuple(p for p in parts[1:] if p)
    else:
        namespace, schema = match["ns"], None
    where = []
    for condition in re.split(r"\s+AND\s+", match["where"] or "", flags=re.IGNORECASE) if match["where"] else []:
        cond = _CONDITION.match(condition)
        if not cond:
            raise ValueError(f"unsupported WHERE condition {condition!r}: only dim = 'value' joined by AND")
        where.append((cond[1], cond[2]))
    return InsightsQuery(match["func"].upper(), match["metric"], namespace, schema, tuple(where))


def _series_dimensions(client: Any, query: InsightsQuery) -> list[dict[str, str]]:
    seen: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
    for page in client.get_paginator("list_metrics").paginate(Namespace=query.namespace, MetricName=query.metric_name):
        for metric in page.get("Metrics", []):
            dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
            if query.matches(dims):
                seen[tuple(sorted(dims.items()))] = dims
    return list(seen.values())


def query_periods(client: Any, query: InsightsQuery, period: int, start: datetime, end: datetime) -> dict[int, float]:
    """{period start (epoch s): aggregated value} over the matching series (absent: no data)."""
    series = _series_dimensions(client, query)
    queries: list[dict[str, Any]] = []
    owners: dict[str, tuple[int, str]] = {}
    for i, dims in enumerate(series):
        for stat in _STATS[query.function]:
            queries.append(
                {
                    "Id": f"s{i}_{stat.lower()}",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": query.namespace,
                            "MetricName": query.metric_name,
                            "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
                        },
                        "Period": period,
                        "Stat": stat,
                    },
                }
            )
            owners[queries[-1]["Id"]] = (i, stat)
    if not queries:
        return {}
    rows: dict[int, dict[int, dict[str, float]]] = {}
    for chunk in range(0, len(queries), 500):
        part = queries[chunk : chunk + 500]
        kwargs: dict[str, Any] = {"MetricDataQueries": part, "StartTime": start, "EndTime": end}
        while True:
            resp = client.get_metric_data(**kwargs)
            for result in resp.get("MetricDataResults", []):
                i, stat = owners[result["Id"]]
                for ts, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
                    rows.setdefault(int(ts.timestamp()), {}).setdefault(i, {})[stat] = float(value)
            if not resp.get("NextToken"):
                break
            kwargs["NextToken"] = resp["NextToken"]
    combine = _COMBINE[query.function]
    needed = set(_STATS[query.function])
    return {
        t: combine([r for r in by_series.values() if needed <= set(r)])
        for t, by_series in rows.items()
        if any(needed <= set(r) for r in by_series.values())
    }
