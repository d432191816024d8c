"""The forecasts page: per location, the batch forecasts against what was observed, and the realized error."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from rps_local.tools.console.data.forecasts import LocationForecasts
from rps_local.tools.console.views.charts import Line, time_chart
from rps_local.tools.console.views.layout import fmt_num, page

__all__ = ["forecasts_page"]


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _card(item: LocationForecasts) -> str:
    lines = [
        Line("observed", [(_time(t), v) for t, v in item.observed], "#444"),
        Line("forecast", [(_time(t), v) for t, v, _ in item.forecasts], "#1f77b4", dots=True),
    ]
    mae = "-" if item.mae is None else fmt_num(item.mae)
    return (
        f'<div class="card forecast" data-location="{escape(item.location)}"><h2>{escape(item.location)}</h2>'
        f"<p>realized MAE <b>{mae}</b> over {item.count} forecasts, {item.pending} pending · {escape(item.target)}</p>"
        f"{time_chart(lines, empty='no forecast yet')}</div>"
    )


def forecasts_page(items: list[LocationForecasts]) -> str:
    if not items:
        body = '<p class="muted">No batch forecast yet: the pipeline\'s Forecast step writes one per run.</p>'
    else:
        body = (
            '<p class="muted">The newest four weeks of batch forecasts per location (points) against the '
            "observations of the location's latest dataset version (line). The model gives point forecasts, "
            "no intervals.</p>" + '<div class="grid">' + "".join(_card(i) for i in items) + "</div>"
        )
    return page("Forecasts", "/forecasts", body)
