"""The comparison report: challenger, champion and persistence on the same test rows, overall and per location."""

from __future__ import annotations

from typing import Any


def _num(value: Any, digits: int = 3) -> str:
    return "n/a" if value is None else f"{float(value):.{digits}f}"


def comparison_table(
    challenger: dict[str, Any], champion: dict[str, Any] | None, labels: tuple[str, str] = ("challenger", "champion")
) -> str:
    """Markdown table, one row per location plus ``all``: MAE of each model, persistence, skill, and the
    change of MAE from champion to challenger."""
    new, old = labels
    lines = [
        f"| location | {new} MAE | {old} MAE | persistence MAE | {new} skill | {old} skill | change |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    rows: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = [("all", challenger, champion)]
    champ_locs = (champion or {}).get("per_location", {})
    for name, scores in sorted(challenger.get("per_location", {}).items()):
        rows.append((name, scores, champ_locs.get(name)))
    for name, scores, before in rows:
        change = "n/a" if not before else f"{float(scores['mae']) - float(before['mae']):+.3f}"
        lines.append(
            f"| {name} | {_num(scores['mae'])} | {_num((before or {}).get('mae'))} "
            f"| {_num(scores.get('persistence_mae'))} | {_num(scores.get('skill'))} "
            f"| {_num((before or {}).get('skill'))} | {change} |"
        )
    return "\n".join(lines) + "\n"


def comparison_report(
    candidate: dict[str, Any],
    champion_metrics: dict[str, Any] | None,
    champion_version: str | None,
    promoted: bool,
    reason: str,
    challenger_version: str,
) -> str:
    split = candidate.get("split", {})
    rows = f"{split.get('test_rows', 'n/a')} ({split.get('test_start', '?')} to {split.get('test_end', '?')})"
    outcome = "promoted to champion" if promoted else "not promoted: the champion stays"
    return (
        f"# Model comparison: {candidate.get('target')} at {candidate.get('horizon_hours')} h\n\n"
        f"- challenger: version {challenger_version} (`{candidate.get('model_id')}`), {outcome} ({reason})\n"
        f"- champion: {'version ' + str(champion_version) if champion_version else 'none'}\n"
        f"- dataset version: `{candidate.get('dataset_version')}`\n"
        f"- test rows: {rows},"
        f" the last {int(100 * float(split.get('test_fraction', 0.2)))}% by time; MAE in the target's unit\n\n"
        + comparison_table(candidate["metrics"], champion_metrics)
        + interval_table(candidate["metrics"], candidate.get("horizon_hours"))
    )


def interval_table(metrics: dict[str, Any], horizon: Any) -> str:
    """The challenger's 80% and 95% intervals on the test rows (coverage, mean width), when it has them."""
    if metrics.get("coverage_80") is None:
        return ""
    lines = [
        "\nPrediction intervals of the challenger on the test rows (coverage: share of hours inside; mean width):\n",
        "| location | horizon | 80% coverage | 80% width | 95% coverage | 95% width |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    rows = [("all", metrics), *sorted(metrics.get("per_location", {}).items())]
    for name, s in rows:
        lines.append(
            f"| {name} | {horizon} h | {_share(s.get('coverage_80'))} | {_num(s.get('width_80'), 2)} "
            f"| {_share(s.get('coverage_95'))} | {_num(s.get('width_95'), 2)} |"
        )
    return "\n".join(lines) + "\n"


def _share(share: Any) -> str:
    return "n/a" if share is None else f"{100 * float(share):.1f}%"
