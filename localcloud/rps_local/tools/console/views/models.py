"""The models page: the champion, then every version with its metrics per location against persistence,
promoted or kept and why, dataset version, commit, and its MLflow run."""

from __future__ import annotations

from html import escape

from rps_local.tools.console.data.models import ModelRow, ModelsPage
from rps_local.tools.console.views.layout import fmt_num, page

__all__ = ["models_page"]


def _link(url: str | None, text: str) -> str:
    return f'<a href="{escape(url)}">{escape(text)}</a>' if url else escape(text)


def _decision(row: ModelRow) -> str:
    if row.promoted is None:
        return '<span class="muted">-</span>'
    verdict = "promoted" if row.promoted else "kept the champion"
    return f"<b>{verdict}</b><br><span class=muted>{escape(row.reason)}</span>"


def _per_location(row: ModelRow) -> str:
    if not row.per_location:
        return "-"
    lines = "".join(
        f"<tr><td>{escape(loc)}</td><td class=n>{fmt_num(s.get('mae'))}</td>"
        f"<td class=n>{fmt_num(s.get('persistence_mae'))}</td><td class=n>{fmt_num(s.get('skill'))}</td></tr>"
        for loc, s in row.per_location.items()
    )
    return f"<table><tr><th>location</th><th>MAE</th><th>persistence</th><th>skill</th></tr>{lines}</table>"


def models_page(data: ModelsPage) -> str:
    parts = []
    if data.note:
        parts.append(f'<p class="muted">{escape(data.note)}</p>')
    champion = data.champion
    if champion is None:
        parts.append('<div class="card" id="champion">No champion yet: the first successful run promotes one.</div>')
    else:
        parts.append(
            f'<div class="card" id="champion"><h2>Champion: version <span class="version">'
            f"{escape(champion.version or champion.model_id)}</span></h2>"
            f"<p>model {escape(champion.model_id)}, trained {escape(champion.trained_at)} on dataset "
            f"{escape(champion.dataset_version)}, MAE {fmt_num(champion.metrics.get('mae'))} against persistence "
            f"{fmt_num(champion.metrics.get('persistence_mae'))} (skill {fmt_num(champion.metrics.get('skill'))}) · "
            f"{_link(champion.run_url, 'MLflow run')}</p></div>"
        )
    rows = "".join(
        f'<tr class="model{" champion" if r.champion else ""}"><td>{escape(r.version or "-")}'
        f"{' ★' if r.champion else ''}</td><td>{escape(r.model_id)}</td><td>{escape(r.trained_at)}</td>"
        f"<td class=n>{fmt_num(r.metrics.get('mae'))}</td><td class=n>{fmt_num(r.metrics.get('persistence_mae'))}</td>"
        f"<td>{_per_location(r)}</td><td>{_decision(r)}</td>"
        f'<td title="{escape(r.dataset_version)}">{escape(r.dataset_version[:12])}</td>'
        f"<td><code>{escape(r.git_commit[:10] or '-')}</code></td><td>{_link(r.run_url, 'run')}</td></tr>"
        for r in data.versions
    )
    registry = _link(data.mlflow_url, f"MLflow registry{': ' + data.registered_name if data.registered_name else ''}")
    parts.append(
        f"<h2>Versions</h2><p>{registry}</p><table><tr><th>version</th><th>model id</th><th>trained</th>"
        "<th>MAE</th><th>persistence MAE</th><th>per location</th><th>decision</th><th>dataset</th>"
        f"<th>commit</th><th>MLflow</th></tr>{rows}</table>"
    )
    return page("Models", "/models", "".join(parts))
