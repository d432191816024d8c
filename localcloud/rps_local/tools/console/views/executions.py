"""The executions pages: the list, and one execution's graph, states (input and output on demand) and failure.
A running execution's page polls ``/api/executions/NAME`` and replaces its live part until it ends."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from urllib.parse import quote

from rps_local.tools.console.data.executions import ExecutionDetail, ExecutionRow, StateRun
from rps_local.tools.console.views.graph import render_graph
from rps_local.tools.console.views.layout import fmt_seconds, fmt_time, json_block, page, status_badge

__all__ = ["POLL_SCRIPT", "execution_live", "execution_page", "executions_page"]

# Polls while the execution runs; stops when it has ended (and reloads once for the final input/output).
POLL_SCRIPT = """
(function(){var live=document.getElementById('live');if(!live||live.dataset.status!=='RUNNING')return;
var url='/api/executions/'+encodeURIComponent(live.dataset.name);
function tick(){fetch(url).then(function(r){return r.json()}).then(function(d){live.innerHTML=d.html;
live.dataset.status=d.status;if(d.status==='RUNNING'){setTimeout(tick,1000)}else{location.reload()}})
.catch(function(){setTimeout(tick,3000)})}setTimeout(tick,1000)})();
"""


def executions_page(rows: list[ExecutionRow], now: datetime | None = None, limit: int = 50) -> str:
    now = now or datetime.now(UTC)
    if not rows:
        body = '<p class="muted">No execution yet: <code>rps run</code> starts one.</p>'
    else:
        cells = "".join(
            f'<tr class="execution" data-status="{escape(r.status)}"><td><a href="/executions/{quote(r.name)}">'
            f"{escape(r.name)}</a></td><td>{status_badge(r.status)}</td><td>{fmt_time(r.start)}</td>"
            f'<td class="n">{fmt_seconds(r.duration_s(now))}</td><td>{escape(r.trigger)}</td></tr>'
            for r in rows
        )
        body = (
            f'<p class="muted">The newest {limit} executions of the pipeline state machine.</p>'
            "<table><tr><th>name</th><th>status</th><th>start (UTC)</th><th>duration</th><th>trigger</th></tr>"
            f"{cells}</table>"
        )
    return page("Executions", "/", body)


def execution_live(detail: ExecutionDetail, now: datetime | None = None) -> str:
    """The part that changes while the execution runs: status, failure, graph, states."""
    row = detail.row
    parts = [
        f"<p>{status_badge(row.status)} started {fmt_time(row.start)} UTC, "
        f"{fmt_seconds(row.duration_s(now or datetime.now(UTC)))}, trigger {escape(row.trigger)}</p>"
    ]
    if detail.error or detail.cause:
        parts.append(
            f'<div class="error" id="failure"><b>Failed in {escape(detail.failed_state or "?")}</b>: '
            f"<code>{escape(detail.error or '')}</code><br>{escape(detail.short_cause)}"
            f"<details><summary>full cause</summary>{json_block(detail.cause or '')}</details></div>"
        )
    parts.append(f'<div class="card" style="overflow-x:auto">{render_graph(detail.definition, detail.states)}</div>')
    parts.append("<h2>States</h2>" + _states_table(detail))
    return "".join(parts)


def execution_page(detail: ExecutionDetail, now: datetime | None = None) -> str:
    row = detail.row
    body = (
        f'<div id="live" data-name="{escape(row.name)}" data-status="{escape(row.status)}">'
        f"{execution_live(detail, now)}</div>"
        f"<h2>Execution input and output</h2><details><summary>input</summary>{json_block(detail.input)}</details>"
        f"<details><summary>output</summary>{json_block(detail.output)}</details>"
    )
    return page(f"Execution {row.name}", "/", body, POLL_SCRIPT)


def _states_table(detail: ExecutionDetail) -> str:
    rows = "".join(_state_row(run) for run in detail.states.values())
    return (
        "<table><tr><th>state</th><th>status</th><th>runs</th><th>longest</th><th>error</th>"
        f"<th>input / output</th></tr>{rows}</table>"
    )


def _state_row(run: StateRun) -> str:
    summary = f" ({escape(run.iterations.label)})" if run.iterations else ""
    error = f"<code>{escape(run.error)}</code>" if run.error else ""
    io = ""
    if run.entered:
        io = "".join(
            f"<details><summary>{label} {i + 1}</summary>{json_block(value, 4000)}</details>"
            for label, values in (("input", run.inputs), ("output", run.outputs))
            for i, value in enumerate(values[:10])
        )
    return (
        f'<tr class="state-row" data-state="{escape(run.name)}"><td>{escape(run.name)}{summary}</td>'
        f'<td>{status_badge(run.status)}</td><td class="n">{run.entered}</td>'
        f'<td class="n">{fmt_seconds(run.seconds) if run.outputs else "-"}</td><td>{error}</td><td>{io}</td></tr>'
    )
