"""``rps metrics``: the CloudWatch metrics of the running cloud as a table (or JSON), with a PNG chart.

Each metric with data in the window (default the last 24 h): how many values, the last period's average,
the average and the maximum; then the template's alarm states when alarms can be evaluated.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rps_local.emulator.errors import LocalCloudError
from rps_local.tools.cli.common import add_output, add_state_dir, connect, since_window

EXIT_CODES = "0 printed; 2 a bad option or no local cloud running"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("metrics", help="CloudWatch metrics of the running cloud, with alarm states")
    parser.add_argument("--namespace", help="only this namespace (e.g. RPS)")
    parser.add_argument(
        "--metric",
        action="append",
        dest="names",
        metavar="NAME",
        help="only this metric name (repeat for more); also what --png draws",
    )
    parser.add_argument("--since", default="24h", help="window start: 30m, 24h, 7d, or an ISO time (default 24h)")
    parser.add_argument("--period", type=int, help="seconds per point of the series (default: window/120)")
    add_output(parser, "the metrics and the alarms with their states")
    parser.add_argument("--png", type=Path, metavar="FILE", help="also write a chart of the metrics over time")
    parser.add_argument(
        "--template",
        type=Path,
        default=Path("template.yaml"),
        help="the template whose alarms are evaluated (default ./template.yaml)",
    )
    add_state_dir(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rps_local.tools.metrics_report import build_report

    start, now = since_window(args.since)
    if args.period is not None and (args.period <= 0 or args.period % 60):
        raise LocalCloudError(f"--period {args.period}: give a positive multiple of 60 seconds")
    _, client = connect(args)
    template = args.template if args.template.is_file() else None
    report = build_report(
        client.client("cloudwatch"),
        namespace=args.namespace,
        start=start,
        end=now,
        names=args.names,
        period=args.period,
        template_path=template,
        alarm_options={"resources": _resources(client)},
    )
    if args.output == "json":
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(render_table(report))
    if args.png:
        from rps_local.tools.metrics_chart import plot_report

        try:
            drawn = plot_report(report, args.png, args.names)
        except ValueError as exc:
            raise LocalCloudError(f"--png {args.png}: {exc}") from None
        print(f"chart of {', '.join(drawn)} written to {args.png}", file=sys.stderr)
    return 0


def _resources(client: Any) -> dict[str, str]:
    """The deployed stack's physical ids, which alarms' !Ref FunctionName resolve to (empty if none)."""
    try:
        return client.resources()
    except Exception:  # no stack yet: alarms that need a physical id report it themselves
        return {}


def render_table(report: Any) -> str:
    """The report as aligned text: metrics, then alarms."""
    window = f"{_time(report.start)} .. {_time(report.end)} UTC, series period {report.period} s"
    lines = [f"metrics {window}"]
    rows = [["NAMESPACE", "METRIC", "DIMENSIONS", "COUNT", "LAST", "AVG", "MAX"]]
    for m in report.metrics:
        rows.append(
            [
                m.key.namespace,
                m.key.name,
                m.key.dimensions_label or "-",
                _num(m.count),
                _num(m.last),
                _num(m.average),
                _num(m.maximum),
            ]
        )
    if report.metrics:
        lines += _aligned(rows, numeric_from=3)
    else:
        lines.append("  no metric has data in this window")
    if report.quiet:
        lines.append(f"  ({report.quiet} more metrics without data in this window)")
    if report.alarm_error:
        lines.append(f"alarms: not evaluated: {report.alarm_error}")
    elif report.alarms is not None:
        lines.append("alarms" if report.alarms else "alarms: the template defines none")
        if report.alarms:
            alarm_rows = [["ALARM", "STATE", "REASON"]]
            alarm_rows += [[a["name"], a["state"], a.get("reason", "")] for a in report.alarms]
            lines += _aligned(alarm_rows)
    return "\n".join(lines)


def _aligned(rows: list[list[str]], numeric_from: int | None = None) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = []
    for row in rows:
        cells = [
            cell.rjust(w) if numeric_from is not None and i >= numeric_from else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        out.append("  " + "  ".join(cells).rstrip())
    return out


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if float(value).is_integer() and abs(value) < 1e15 else f"{value:.4g}"


def _time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
