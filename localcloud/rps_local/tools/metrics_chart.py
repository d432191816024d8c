"""A PNG chart of a metrics report: one panel per metric name, one line per dimension set."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from rps_local.tools.metrics_report import MetricsReport, MetricSummary

__all__ = ["MAX_PANELS", "plot_report"]

MAX_PANELS = 8


def plot_report(report: MetricsReport, path: Path, names: list[str] | None = None) -> list[str]:
    """Write the chart of ``names`` (default: the busiest metrics) to ``path``; returns the names drawn."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    by_name: dict[str, list[MetricSummary]] = defaultdict(list)
    for summary in report.metrics:
        if summary.series:
            by_name[f"{summary.key.namespace}/{summary.key.name}"].append(summary)
    if names:
        chosen = [n for n in by_name if n.split("/", 1)[1] in names or n in names]
    else:
        chosen = sorted(by_name, key=lambda n: -sum(s.count for s in by_name[n]))
    chosen = sorted(chosen[:MAX_PANELS])
    if not chosen:
        raise ValueError("no metric with data in the window to draw" + (f" among {', '.join(names)}" if names else ""))
    figure, axes = plt.subplots(len(chosen), 1, figsize=(10, 2.6 * len(chosen)), sharex=True, squeeze=False)
    for axis, name in zip(axes[:, 0], chosen, strict=True):
        for summary in by_name[name]:
            times, values = zip(*summary.series, strict=True)
            axis.plot(times, values, marker=".", linewidth=1, label=summary.key.dimensions_label or "(none)")
        axis.set_title(name, fontsize=10, loc="left")
        axis.set_ylabel(f"avg / {report.period} s", fontsize=8)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7, loc="upper left")
    axes[-1, 0].set_xlim(report.start, report.end)
    axes[-1, 0].set_xlabel("UTC")
    figure.autofmt_xdate()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return chosen
