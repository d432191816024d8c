"""The data quality page: per location the latest gate reports and the quarantined windows with their causes."""

from __future__ import annotations

from html import escape

from rps_local.tools.console.data.quality import LocationQuality
from rps_local.tools.console.views.layout import page

__all__ = ["quality_page"]


def _location(item: LocationQuality) -> str:
    reports = (
        "".join(
            f'<tr><td>{escape(r.window_end)}</td><td><span class="badge {"pass" if r.passed else "fail"}">'
            f"{'PASS' if r.passed else 'FAIL'}</span></td><td>{escape(r.summary)}</td></tr>"
            for r in item.reports
        )
        or '<tr><td colspan=3 class="muted">no gate report</td></tr>'
    )
    quarantined = (
        "".join(
            f'<tr class="quarantined"><td>{escape(q.window_end)}</td><td><code>{escape(q.error)}</code></td>'
            f"<td>{escape(q.cause)}</td><td>{escape(q.run_id)}</td></tr>"
            for q in item.quarantined
        )
        or '<tr><td colspan=4 class="muted">none</td></tr>'
    )
    return (
        f'<div class="card"><h2>{escape(item.location)}</h2><h3>Latest gate reports</h3>'
        f"<table><tr><th>window end</th><th>gate</th><th>summary</th></tr>{reports}</table>"
        "<h3>Quarantined windows</h3><table><tr><th>window end</th><th>error</th><th>cause</th><th>run</th></tr>"
        f"{quarantined}</table></div>"
    )


def quality_page(items: list[LocationQuality]) -> str:
    body = "".join(_location(i) for i in items) or '<p class="muted">No gate report yet.</p>'
    return page("Data quality", "/quality", body)
