"""The drift report: one self-contained HTML page (inline SVG chart, no scripts, no external files).

It holds the decision and its reasons, a bar chart of PSI per feature against the warn/drift lines, the
feature table (PSI, KS, means) and the realized error per location with a text sparkline of
the absolute errors in time order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from rps_core.drift.compare import DriftSummary, FeatureDrift
from rps_core.drift.realized import RealizedCoverage, RealizedError
from rps_core.drift.trigger import RetrainDecision, TriggerResult

COLORS = {"drift": "#d62728", "warn": "#ff7f0e", "ok": "#2ca02c", "calendar": "#9e9e9e", "no data": "#cccccc"}
VERDICTS = {
    "started": "Retraining started",
    "already started": "Retraining already started for this window",
    "disabled": "Retraining needed, but no state machine is configured",
}
SPARKS = "▁▂▃▄▅▆▇█"
# PSI of a season the model never saw reaches 5-10; the chart's axis stops here and marks longer bars.
PSI_AXIS_MAX = 2.0


def sparkline(values: Sequence[float]) -> str:
    """``▁▃█``-style text sparkline (empty for no values)."""
    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        return ""
    low, high = min(finite), max(finite)
    span = high - low or 1.0
    return "".join(SPARKS[min(len(SPARKS) - 1, int((v - low) / span * len(SPARKS)))] for v in finite)


def _percent(share: float) -> str:
    return "n/a" if math.isnan(share) else f"{100 * share:.0f}%"


def _fmt(value: float, digits: int = 3) -> str:
    return "&ndash;" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def psi_chart(features: Sequence[FeatureDrift], warn: float, threshold: float) -> str:
    """A horizontal bar chart of PSI per feature as an SVG element."""
    row, label_w, bar_w, top = 16, 260, 420, 24
    axis_max = max(
        min(PSI_AXIS_MAX, max((f.psi for f in features if not math.isnan(f.psi)), default=0.0)), threshold * 1.5
    )
    height = top + row * len(features) + 10

    def x(v: float) -> float:
        return label_w + bar_w * min(v, axis_max) / axis_max

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 60}" height="{height}" '
        'font-family="sans-serif" font-size="11" role="img" aria-label="PSI per feature">'
    ]
    for value, name in ((warn, "warn"), (threshold, "drift")):
        parts.append(
            f'<line x1="{x(value):.1f}" y1="{top - 6}" x2="{x(value):.1f}" y2="{height - 6}" '
            f'stroke="{COLORS[name]}" stroke-dasharray="4 3"/>'
            f'<text x="{x(value) + 2:.1f}" y="{top - 10}" fill="{COLORS[name]}">{name} {value:g}</text>'
        )
    for i, f in enumerate(features):
        y = top + i * row
        value = 0.0 if math.isnan(f.psi) else f.psi
        clipped = "»" if value > axis_max else ""
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 11}" text-anchor="end">{escape(f.name)}</text>'
            f'<rect x="{label_w}" y="{y + 2}" width="{x(value) - label_w:.1f}" height="{row - 4}" '
            f'fill="{COLORS.get(f.status, "#777")}"><title>{escape(f.name)}: PSI {_fmt(f.psi)} '
            f"({f.status})</title></rect>"
            f'<text x="{x(value) + 3:.1f}" y="{y + 11}">{_fmt(f.psi, 2)}{clipped}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def render_html(
    *,
    title: str,
    window: tuple[str, str],
    champion: dict[str, str],
    summary: DriftSummary,
    realized: Sequence[RealizedError],
    decision: RetrainDecision,
    trigger: TriggerResult,
    thresholds: dict[str, float],
    coverage: Sequence[RealizedCoverage] = (),
) -> str:
    """The whole report page."""
    verdict = VERDICTS.get(trigger.status, "No retraining needed")
    reasons = "".join(f"<li>{escape(r)}</li>" for r in decision.reasons) or "<li>all measures within thresholds</li>"
    feature_rows = "".join(
        f'<tr><td>{escape(f.name)}</td><td style="color:{COLORS.get(f.status, "#777")}">{f.status}</td>'
        f"<td>{_fmt(f.psi)}</td><td>{_fmt(f.ks)}</td>"
        f"<td>{_fmt(f.reference_mean, 2)}</td><td>{_fmt(f.live_mean, 2)}</td><td>{f.rows}</td></tr>"
        for f in sorted(summary.features, key=lambda f: -1.0 if math.isnan(f.psi) else f.psi, reverse=True)
    )
    realized_rows = "".join(
        f"<tr><td>{escape(r.location)}</td><td>{_fmt(r.mae, 2)}</td><td>{r.count}</td><td>{r.pending}</td>"
        f'<td style="font-family:monospace">{sparkline([p.error for p in r.pairs])}</td></tr>'
        for r in realized
    )
    coverage_rows = "".join(
        f"<tr><td>{escape(c.location)}</td><td>{c.window_hours // 24} days</td><td>{c.count}</td>"
        f"<td>{_percent(c.coverage_80)}</td><td>{_percent(c.coverage_95)}</td></tr>"
        for c in coverage
    )
    settings = ", ".join(f"{escape(k)} = {v:g}" for k, v in thresholds.items())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:960px}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ddd;padding:2px 8px;text-align:right}}td:first-child{{text-align:left}}</style>
</head><body>
<h1>{escape(title)}</h1>
<p>Window {escape(window[0])} to {escape(window[1])} (UTC) against champion
{escape(champion.get("model_version", "?"))} (dataset {escape(champion.get("dataset_version", "?")[:12])}).</p>
<h2>{escape(verdict)}</h2>
<ul>{reasons}</ul>
<p>Execution: {escape(trigger.execution_name)} ({escape(trigger.status)}). Thresholds: {settings}.</p>
<h2>Data drift: {len(summary.drifted)} of {len(summary.counted)} features drifted ({summary.share:.0%})</h2>
<p>PSI &lt; {summary.psi_warn:g} stable, {summary.psi_warn:g} to {summary.psi_threshold:g} moderate shift,
&ge; {summary.psi_threshold:g} drift. KS is max |F<sub>live</sub> &minus; F<sub>ref</sub>| at the reference's bin
edges. Calendar features are shown, not counted.</p>
{psi_chart(summary.features, summary.psi_warn, summary.psi_threshold)}
<table><tr><th>feature</th><th>status</th><th>PSI</th><th>KS</th><th>reference mean</th>
<th>live mean</th><th>rows</th></tr>{feature_rows}</table>
<h2>Realized error (forecasts joined with later observations)</h2>
<table><tr><th>location</th><th>MAE</th><th>forecasts</th><th>awaiting observation</th><th>|error| in time</th>
</tr>{realized_rows}</table>
<h2>Realized interval coverage (observations inside the forecasts' intervals)</h2>
<table><tr><th>location</th><th>target times</th><th>forecasts with intervals</th><th>80% interval</th>
<th>95% interval</th></tr>{coverage_rows}</table>
</body></html>
"""
