"""``rps quality FILE [--now TIME]``: the quality gate on a raw payload file, for users' own CI.

Prints the report (text, or ``--output json``) and exits 0 when the gate passes, 1 when it fails and 2
when the file or a setting cannot be read. The thresholds are the pipeline's settings (``NULL_THRESHOLD``,
``MIN_ROWS``, ...). Freshness is judged against ``--now`` when given, else against the current UTC time.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rps_local.tools.cli.common import add_output

EXIT_CODES = "0 the gate passes; 1 it fails; 2 the file or a setting cannot be read"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("quality", help="run the quality gate on a raw payload file (exit 1 on failure)")
    parser.add_argument("file", type=Path, help="an Open-Meteo payload (.json or .json.gz; one object or a list)")
    parser.add_argument("--now", help="judge freshness at this UTC time, YYYY-MM-DDTHH:MM (default: now)")
    parser.add_argument("--location", help="the location's name (default: the configured one nearest the payload)")
    add_output(parser, "the gate's report")
    parser.set_defaults(func=run)


def _bodies(path: Path) -> list[tuple[bytes, dict[str, Any] | None]]:
    """Each payload's bytes (the file's own bytes for a single object) and its parsed form if any."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    try:
        value = json.loads(data)
    except ValueError:
        return [(data, None)]  # the gate's schema check reports why
    if isinstance(value, list):
        return [(json.dumps(p).encode(), p if isinstance(p, dict) else None) for p in value]
    return [(data, value if isinstance(value, dict) else None)]


def _name(payload: dict[str, Any] | None, locations: Any, index: int) -> str:
    try:
        lat, lon = float(payload["latitude"]), float(payload["longitude"])  # type: ignore[index]
    except (TypeError, KeyError, ValueError):
        return f"payload{index}"
    nearest = min(locations, key=lambda loc: math.hypot(loc.latitude - lat, loc.longitude - lon))
    return nearest.name if math.hypot(nearest.latitude - lat, nearest.longitude - lon) <= 0.25 else f"payload{index}"


def run(args: argparse.Namespace) -> int:
    from rps_core.config import load_settings
    from rps_core.errors import RpsError
    from rps_core.quality import evaluate, render_text
    from rps_core.sources.base import Window, floor_hour
    from rps_core.times import parse_time

    try:
        settings = load_settings()
        now = parse_time(args.now, "--now") if args.now else datetime.now(UTC)
        bodies = _bodies(args.file)
    except (RpsError, OSError, EOFError, gzip.BadGzipFile) as exc:
        print(f"rps quality: {exc}", file=sys.stderr)
        return 2
    window = Window(None, floor_hour(now))
    reports = []
    for i, (body, payload) in enumerate(bodies):
        name = args.location if args.location and len(bodies) == 1 else _name(payload, settings.locations, i)
        report = evaluate(body, name, window, now, settings)
        report.raw_key = str(args.file)
        reports.append(report)
    if args.output == "json":
        value = [r.to_dict() for r in reports]
        print(json.dumps(value[0] if len(value) == 1 else value, indent=1))
    else:
        print("\n".join(render_text(r) for r in reports))
    return 0 if all(r.passed for r in reports) else 1
