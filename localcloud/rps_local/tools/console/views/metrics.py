"""The metrics page: the template's dashboard widgets over a chosen period, and every alarm's state."""

from __future__ import annotations

from html import escape

from rps_local.emulator.cloudwatch.alarms import COMPARISONS
from rps_local.tools.console.data.metrics import PERIODS, MetricsPage
from rps_local.tools.console.views.charts import Line, time_chart
from rps_local.tools.console.views.layout import fmt_time, page, status_badge

__all__ = ["metrics_page"]


def _alarms(data: MetricsPage) -> str:
    if data.alarm_error:
        return f'<p class="error">alarms not evaluated: {escape(data.alarm_error)}</p>'
    rows = "".join(_alarm_row(a) for a in data.alarms or [])
    return f"<table><tr><th>alarm</th><th>state</th><th>rule</th><th>why</th></tr>{rows}</table>"


def _alarm_row(a: dict) -> str:
    threshold = "" if a.get("threshold") is None else f"{a['threshold']:g}"
    comparison = COMPARISONS.get(str(a.get("comparison")), (str(a.get("comparison") or ""),))[0]
    return (
        f'<tr class="alarm"><td>{escape(a["name"])}</td><td>{status_badge(a["state"])}</td>'
        f"<td><code>{escape(str(a.get('metric') or '-'))}</code> {escape(comparison)} "
        f"{threshold}</td><td>{escape(a.get('reason', ''))}</td></tr>"
    )


def metrics_page(data: MetricsPage) -> str:
    periods = "".join(
        f'<a href="/metrics?period={p}"{" class=on" if p == data.period else ""}>{p}</a>' for p in PERIODS
    )
    widgets = "".join(
        f'<div class="card widget"><h2>{escape(widget.title)}</h2>'
        f"{time_chart([Line(s.label, s.points) for s in series], widget.annotations)}</div>"
        for widget, series in data.widgets
    )
    body = (
        f'<p class="periods">period: {periods} <span class="muted">{fmt_time(data.start)} to {fmt_time(data.end)} UTC, '
        f"{data.step_s} s per point</span></p><h2>Alarms</h2>{_alarms(data)}"
        f'<h2>Dashboard</h2><div class="grid">{widgets}</div>'
    )
    return page("Metrics & alarms", "/metrics", body)
