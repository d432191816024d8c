"""The metrics page's view model: the template's dashboard (``AWS::CloudWatch::Dashboard``) widgets drawn from
the local CloudWatch over a chosen period, and every alarm's state with the rule that set it.

Each widget's series are the alarm evaluation's own per-period statistics
(``rps_local.emulator.cloudwatch.alarms``: the same
GetMetricData queries, percentiles estimated off AWS as the alarms estimate them), and the alarm states are
``rps_local.tools.metrics_report.alarm_states``, what ``rps metrics`` prints.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from rps_local.emulator.cloudformation.template import load_sam_template
from rps_local.emulator.cloudwatch import alarms
from rps_local.tools.console.source import ConsoleSource
from rps_local.tools.metrics_report import MetricKey, alarm_states, choose_period, list_metric_keys

__all__ = ["PERIODS", "Series", "Widget", "WidgetMetric", "dashboard_widgets", "load_metrics"]

PERIODS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}
POINTS = 60  # points per series: enough for a small chart, few enough to stay fast
_SEARCH = re.compile(r"SEARCH\('\{(?P<namespace>[^,}]+)[^}]*\}(?P<filters>[^']*)'\s*,\s*'(?P<stat>\w+)'")
_FILTER = re.compile(r'(\w+)="([^"]*)"')
_SUB = re.compile(r"\$\{([^}]+)\}")


@dataclass(frozen=True)
class WidgetMetric:
    """One line of a widget: a metric (exact dimensions) or every metric a SEARCH expression matches."""

    namespace: str
    name: str
    stat: str
    dimensions: tuple[tuple[str, str], ...] = ()
    search: bool = False
    label: str = ""


@dataclass(frozen=True)
class Widget:
    title: str
    metrics: tuple[WidgetMetric, ...]
    annotations: tuple[tuple[str, float], ...] = ()


@dataclass
class Series:
    label: str
    points: list[tuple[datetime, float]]


@dataclass
class MetricsPage:
    period: str
    start: datetime
    end: datetime
    step_s: int
    widgets: list[tuple[Widget, list[Series]]] = field(default_factory=list)
    alarms: list[dict[str, Any]] | None = None
    alarm_error: str | None = None


def dashboard_widgets(template_path: Path, parameters: dict[str, str] | None = None) -> list[Widget]:
    """The metric widgets of the template's dashboards, ``${...}`` filled from the Parameters' defaults
    (and ``parameters``); a widget of a metric that needs a deployed name keeps the placeholder's text."""
    template = load_sam_template(template_path)
    values = {k: str((v or {}).get("Default", "")) for k, v in (template.get("Parameters") or {}).items()}
    values.update(parameters or {})
    widgets: list[Widget] = []
    for resource in template["Resources"].values():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::CloudWatch::Dashboard":
            continue
        body = (resource.get("Properties") or {}).get("DashboardBody")
        text = body.get("Fn::Sub") if isinstance(body, dict) else body
        if not isinstance(text, str):
            continue
        filled = _SUB.sub(lambda m: values.get(m.group(1), m.group(1)), text)
        for item in json.loads(filled).get("widgets", []):
            if item.get("type") == "metric":
                widgets.append(_widget(item.get("properties") or {}))
    return widgets


def _widget(props: dict[str, Any]) -> Widget:
    """CloudWatch's metric array shorthand: ``"."`` repeats the field above, ``"..."`` the rest of it."""
    lines: list[WidgetMetric] = []
    previous: list[str] = []
    for entry in props.get("metrics") or []:
        options = entry[-1] if entry and isinstance(entry[-1], dict) else {}
        fields = [f for f in entry if isinstance(f, str)]
        stat = str(options.get("stat") or props.get("stat") or "Average")
        if "expression" in options:
            match = _SEARCH.search(options["expression"])
            if match:
                filters = tuple(sorted(_FILTER.findall(match.group("filters"))))
                name = dict(filters).get("MetricName", "?")
                dims = tuple(f for f in filters if f[0] != "MetricName")
                lines.append(WidgetMetric(match.group("namespace"), name, match.group("stat"), dims, True))
            continue
        if fields[:1] == ["..."]:
            fields = previous
        else:
            fields = [previous[i] if f == "." and i < len(previous) else f for i, f in enumerate(fields)]
        previous = fields
        if len(fields) < 2:
            continue
        dims = tuple(zip(fields[2::2], fields[3::2], strict=False))
        lines.append(WidgetMetric(fields[0], fields[1], stat, dims, False, str(options.get("label", ""))))
    horizontal = (props.get("annotations") or {}).get("horizontal") or []
    notes = tuple((str(a.get("label", "")), float(a["value"])) for a in horizontal if _number(a.get("value")))
    return Widget(str(props.get("title", "")), tuple(lines), notes)


def _number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def load_metrics(source: ConsoleSource, period: str, now: datetime | None = None) -> MetricsPage:
    end = (now or datetime.now(UTC)).astimezone(UTC)
    window = PERIODS.get(period, PERIODS["24h"])
    step = choose_period(window, POINTS)
    page = MetricsPage(period if period in PERIODS else "24h", end - window, end, step)
    cloudwatch = source.aws("cloudwatch")
    resources = source.resources()
    keys = source.cache.get("metric-keys", 10.0, lambda: list_metric_keys(cloudwatch))
    widgets = source.cache.get("widgets", 60.0, lambda: dashboard_widgets(source.template_path, source.parameters))
    for widget in widgets:
        series = []
        for line in widget.metrics:
            for key in _keys_of(line, keys, resources):
                series.append(Series(_label(line, key), _points(cloudwatch, line, key, end, step, window)))
        page.widgets.append((widget, series))
    page.alarms, page.alarm_error = alarm_states(cloudwatch, source.template_path, end, {"resources": resources})
    return page


def _keys_of(line: WidgetMetric, keys: list[MetricKey], resources: dict[str, str]) -> list[MetricKey]:
    if line.search:  # every metric of that name whose dimensions include the filters
        return [
            k
            for k in keys
            if k.namespace == line.namespace and k.name == line.name and set(line.dimensions) <= set(k.dimensions)
        ]
    # a dimension value that is a logical id (``${PipelineStateMachine}``) is the deployed resource's
    dims = tuple(sorted((k, resources.get(v, v)) for k, v in line.dimensions))
    return [MetricKey(line.namespace, line.name, dims)]


def _label(line: WidgetMetric, key: MetricKey) -> str:
    if line.label:
        return line.label
    varying = ",".join(v for k, v in key.dimensions if k not in ("service", "StateMachineArn"))
    return f"{key.name}{' ' + varying if varying else ''} ({line.stat})"


def _points(
    cloudwatch: Any, line: WidgetMetric, key: MetricKey, end: datetime, step: int, window: timedelta
) -> list[tuple[datetime, float]]:
    """The statistic per step, aligned as the alarm evaluation aligns periods (the newest holds ``end``).

    A percentile is estimated per step from its count, minimum, maximum and mean (the alarms' estimate uses
    one-second buckets, which over a week would be 604,800 of them); on AWS CloudWatch computes it."""
    count = max(1, int(window.total_seconds() // step))
    last = (int(end.timestamp()) // step + 1) * step
    first = last - step * count
    span = (datetime.fromtimestamp(first, UTC), datetime.fromtimestamp(last, UTC))
    definition = alarms.AlarmDefinition(
        "console", key.name, key.namespace, key.name, key.dimensions, line.stat, step, count, 1, 0.0,
        "GreaterThanThreshold",
    )  # fmt: skip
    q = alarms.percentile_of(line.stat)
    if q is None or alarms.on_aws(cloudwatch):
        series = alarms._series(cloudwatch, [alarms._query(definition, line.stat, step, "m")], *span)["m"]
        values = sorted(series.items())
    else:
        stats = ("SampleCount", "Minimum", "Maximum", "Average")
        found = alarms._series(cloudwatch, [alarms._query(definition, s, step, s.lower()) for s in stats], *span)
        counts, lows, highs, means = (found[s.lower()] for s in stats)
        values = sorted(
            (t, float(np.percentile(alarms._bucket_samples(int(c), lows[t], highs[t], means[t]), q)))
            for t, c in counts.items()
            if c > 0
        )
    return [(datetime.fromtimestamp(t, UTC), v) for t, v in values]
