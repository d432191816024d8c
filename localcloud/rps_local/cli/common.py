"""Helpers shared by the commands: options every command on a running cloud takes, and event files."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rps_local.client import CloudClient
from rps_local.endpoints import read_endpoints
from rps_local.errors import EventFileError, LocalCloudError

__all__ = ["INTERRUPTED", "add_state_dir", "connect", "load_json_file", "parse_overrides", "print_json"]

INTERRUPTED = 130  # the exit code of a command stopped by Ctrl-C: 128 + SIGINT, as shells report it


def add_state_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="the cloud's state directory holding endpoints.json (default .rps, or $RPS_STATE_DIR)",
    )


def connect(args: argparse.Namespace) -> tuple[dict[str, Any], CloudClient]:
    """The running cloud's endpoints and a client of it."""
    endpoints = read_endpoints(args.state_dir)
    return endpoints, CloudClient(endpoints["aws_endpoint_url"], endpoints.get("stack_name", "rps"))


def parse_overrides(items: list[str] | None) -> dict[str, str]:
    """``Key=Value`` pairs, as ``sam deploy --parameter-overrides`` takes them."""
    overrides = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise LocalCloudError(f"--parameter-overrides: {item!r} is not Key=Value")
        overrides[key] = value
    return overrides


def load_json_file(path: str | None, default: Any = None) -> Any:
    """A JSON file (``-`` for stdin); ``EventFileError`` naming the file when it is missing or not JSON."""
    if path is None:
        return default
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise EventFileError(f"{path}: cannot read the event file: {exc.strerror}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise EventFileError(f"{path}: not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))


def since_window(since: str) -> tuple[datetime, datetime]:
    """``(start, now)`` for a ``--since`` option (``30m``, ``24h``, ``7d`` or an ISO time); a bad value is a
    LocalCloudError naming the accepted forms."""
    from rps_local.metrics_report import parse_since

    now = datetime.now(UTC)
    try:
        return parse_since(since, now), now
    except ValueError as exc:
        raise LocalCloudError(str(exc)) from None
