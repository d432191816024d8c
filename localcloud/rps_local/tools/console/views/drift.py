"""The drift page: the newest drift report (PSI per feature) and the drifted-feature share over time."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from html import escape

from rps_core.drift.report import COLORS, PSI_AXIS_MAX

from rps_local.tools.console.data.drift import DriftPage
from rps_local.tools.console.views.charts import Line, bar_chart, time_chart
from rps_local.tools.console.views.layout import fmt_num, page

__all__ = ["drift_page"]


def _history(data: DriftPage) -> str:
    points = [
        (datetime.fromisoformat(p.window_end).replace(tzinfo=UTC), p.share)
        for p in data.history
        if p.share is not None and p.window_end
    ]
    rules = [("share threshold", data.threshold)] if data.threshold is not None else []
    return time_chart([Line("drifted feature share", points)], rules, empty="no drift report yet")


def drift_page(data: DriftPage) -> str:
    parts = [f"<h2>Drifted feature share, last {len(data.history)} reports</h2>", _history(data)]
    report = data.latest
    if report is None:
        parts.append('<p class="muted">No drift report yet: the drift monitor writes one per run.</p>')
    else:
        drift = report.get("drift") or {}
        warn, threshold = float(drift.get("psi_warn", 0.1)), float(drift.get("psi_threshold", 0.25))
        bars = [(b.name, b.psi if not math.isnan(b.psi) else math.nan, COLORS.get(b.status, "#777")) for b in data.bars]
        rules = [(f"warn {warn:g}", warn, COLORS["warn"]), (f"drift {threshold:g}", threshold, COLORS["drift"])]
        reasons = "".join(f"<li>{escape(r)}</li>" for r in report.get("reasons") or []) or "<li>none</li>"
        parts.append(
            f"<h2>Latest report: window {escape(str(report.get('window_start', '?')))} to "
            f"{escape(str(report.get('window_end', '?')))}</h2>"
            f"<p>share {fmt_num(drift.get('share'))}, retrain: <b>{'yes' if report.get('retrain') else 'no'}</b> · "
            f"<code>{escape(data.latest_key or '')}</code></p><ul>{reasons}</ul>"
            + bar_chart(bars, rules, cap=PSI_AXIS_MAX)
        )
    return page("Drift", "/drift", "".join(parts))
