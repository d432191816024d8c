"""Helpers shared by the commands: options every command on a running cloud takes, and event files."""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rps_local.emulator.client import CloudClient
from rps_local.emulator.endpoints import read_endpoints
from rps_local.emulator.errors import EventFileError, LocalCloudError

__all__ = [
    "INTERRUPTED",
    "OVERRIDES_HELP",
    "add_output",
    "add_state_dir",
    "connect",
    "load_json_file",
    "parse_overrides",
    "print_json",
]

INTERRUPTED = 130  # the exit code of a command stopped by Ctrl-C: 128 + SIGINT, as shells report it


def add_state_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="the cloud's state directory holding endpoints.json (default .rps, or $RPS_STATE_DIR)",
    )


def add_output(parser: argparse.ArgumentParser, json_form: str) -> None:
    """``--output text|json``, the one output convention of the commands that print results: text for people
    (tables are text) by default, or one JSON document on stdout whose keys scripts can rely on (progress
    and messages then go to stderr)."""
    parser.add_argument(
        "--output",
        choices=("text", "json"),
        default="text",
        help=f"text (the default) or json: {json_form}",
    )


def connect(args: argparse.Namespace) -> tuple[dict[str, Any], CloudClient]:
    """The running cloud's endpoints and a client of it."""
    endpoints = read_endpoints(args.state_dir)
    return endpoints, CloudClient(endpoints["aws_endpoint_url"], endpoints.get("stack_name", "rps"))


OVERRIDES_HELP = (
    "template parameters as sam deploy takes them: Key=Value pairs in one argument or several, "
    'Key="a value" quoted, or ParameterKey=Key,ParameterValue=Value'
)
_KEY = re.compile(r"[A-Za-z0-9]+")  # CloudFormation parameter names are alphanumeric
_LONG_FORM = re.compile(r"ParameterKey=([^,]*),ParameterValue=(.*)", re.DOTALL)
_EXAMPLES = 'Key=Value, Key=Value Key2=Value2, Key="a value" or ParameterKey=Key,ParameterValue=Value'


def parse_overrides(items: list[str] | None) -> dict[str, str]:
    """Template parameters in the forms ``sam deploy --parameter-overrides`` takes: ``Key=Value`` pairs
    separated by spaces, in one argument or several, a value quoted when it holds spaces (``Key="a b"``,
    ``Key='a b'``), or ``ParameterKey=Key,ParameterValue=Value``. Anything else, or a key given twice, is a
    ``LocalCloudError`` naming it: a word is never silently dropped or merged into another value."""
    overrides: dict[str, str] = {}
    for item in items or []:
        try:
            words = shlex.split(item, posix=True)
        except ValueError as exc:  # an unclosed quote
            raise LocalCloudError(f"--parameter-overrides: {item!r}: {str(exc).lower()}") from None
        for word in words:
            key, value = _override(word)
            if key in overrides and overrides[key] != value:
                raise LocalCloudError(f"--parameter-overrides: {key} is given twice ({overrides[key]!r} and {value!r})")
            overrides[key] = value
    return overrides


def _override(word: str) -> tuple[str, str]:
    long_form = _LONG_FORM.fullmatch(word) if word.startswith("ParameterKey=") else None
    if long_form:
        key, value = long_form.groups()
    elif word.startswith("ParameterKey="):
        raise LocalCloudError(f"--parameter-overrides: {word!r} is not ParameterKey=Key,ParameterValue=Value")
    else:
        key, sep, value = word.partition("=")
        if not sep:
            raise LocalCloudError(
                f"--parameter-overrides: {word!r} is not Key=Value (quote a value that holds spaces); "
                f"the forms are {_EXAMPLES}"
            )
    if not _KEY.fullmatch(key):
        raise LocalCloudError(
            f"--parameter-overrides: {word!r}: {key!r} is not a parameter name (letters and digits only)"
        )
    return key, value


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
    from rps_local.tools.metrics_report import parse_since

    now = datetime.now(UTC)
    try:
        return parse_since(since, now), now
    except ValueError as exc:
        raise LocalCloudError(str(exc)) from None
