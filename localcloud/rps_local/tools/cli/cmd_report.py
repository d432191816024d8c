"""``rps report --out DIR``: PNG charts of the running cloud: forecast against actual, serving latency,
OOD ratio and drift per feature (``rps_local.tools.report_charts``).

Every chart is written, one with nothing to show yet carries a "no data yet" note; the command prints
each file and what it holds, and exits 0 (2 when no cloud is running).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rps_local.emulator.errors import LocalCloudError
from rps_local.tools.cli.common import add_output, add_state_dir, connect, print_json, since_window
from rps_local.tools.cli.progress import Progress

EXIT_CODES = "0 charts written (some may say no data yet); 2 a bad option or no local cloud running"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report", help="PNG charts: forecast against actual, latency, OOD ratio, drift per feature"
    )
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="directory for the PNG files")
    parser.add_argument(
        "--location",
        action="append",
        dest="locations",
        metavar="L",
        help="only this location in forecast_vs_actual.png (repeat for more; default: all with data)",
    )
    parser.add_argument(
        "--since", default="24h", help="metrics window start: 30m, 24h, 7d, or an ISO time (default 24h)"
    )
    add_output(parser, "charts: each chart's path, note and has_data")
    add_state_dir(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rps_local.tools.report_charts import write_charts

    start, now = since_window(args.since)
    if start >= now:
        raise LocalCloudError(f"--since {args.since}: the window start is not in the past")
    _, client = connect(args)
    bucket = client.physical_id("DataBucket")
    with Progress(f"reading S3 and CloudWatch, drawing the charts in {args.out}"):
        charts = write_charts(
            client.client("s3"), client.client("cloudwatch"), bucket, args.out, start, now, args.locations
        )
    if args.output == "json":
        print_json({"charts": [{"path": str(c.path), "note": c.note, "has_data": c.has_data} for c in charts]})
        return 0
    for chart in charts:
        print(f"wrote {chart.path}: {chart.note}")
    empty = [chart.path.name for chart in charts if not chart.has_data]
    if empty:
        print(f"no data yet in {', '.join(empty)}")
    return 0
