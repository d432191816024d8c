"""``rps run``: start a pipeline execution and follow it state by state until it ends.

Prints each state as it enters and leaves with its duration, then the execution's output (or the failing
state, error and cause on stderr), and ends with one line: the final status, the execution's name and its
duration, e.g. ``SUCCEEDED run-20260101T000000-0a1b2c3d in 35.2 s``. With ``--output json`` the states go
to stderr and stdout holds one document: name, arn, status, duration_s, output, error, cause, failed_state,
states (each state's seconds) and running (the states still running after --timeout). Ctrl-C stops
following, not the execution.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from rps_local.emulator.errors import LocalCloudError
from rps_local.tools.cli.common import INTERRUPTED, add_output, add_state_dir, connect, load_json_file, print_json
from rps_local.tools.cli.progress import plain

if TYPE_CHECKING:
    from rps_local.emulator.stepfunctions.executions import ExecutionReport

EXIT_CODES = (
    "0 the execution SUCCEEDED; 1 it FAILED, TIMED_OUT or was ABORTED, or still runs after --timeout; 2 a "
    "bad input or no local cloud running"
)


JSON_FORM = "the execution's name, status, duration_s, output or error and cause, and its states' durations"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="run the pipeline state machine and stream its states")
    parser.add_argument("--input", default=None, help="the execution input as JSON text (default {})")
    parser.add_argument("--input-file", metavar="FILE", help="the execution input from a JSON file")
    parser.add_argument("--state-machine", metavar="LOGICAL_ID", help="when the stack has more than one")
    parser.add_argument("--name", help="the execution name (default: a unique one)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=1800.0,
        metavar="SECONDS",
        help="stop following after this long, naming the states still running, and exit 1 (default 1800)",
    )
    add_output(parser, JSON_FORM)
    add_state_dir(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rps_local.emulator.stepfunctions.executions import follow_execution, short_cause

    if args.input is not None:
        try:
            payload = json.loads(args.input)
        except json.JSONDecodeError as exc:
            raise LocalCloudError(f"--input: not JSON: {exc.msg}") from exc
    else:
        payload = load_json_file(args.input_file, default={})
    _, client = connect(args)
    arn = client.start_execution(payload, state_machine=args.state_machine, name=args.name)
    name = arn.rsplit(":", 1)[-1]
    progress = sys.stderr if args.output == "json" else sys.stdout  # stdout holds only the document in json
    print(f"execution {name}", file=progress, flush=True)
    try:
        report = follow_execution(
            client, arn, lambda line: print(plain(line, progress), file=progress, flush=True), timeout_s=args.timeout
        )
    except KeyboardInterrupt:
        print(f"interrupted: execution {name} goes on in the cloud", file=sys.stderr, flush=True)
        return INTERRUPTED
    running = client.running_states(arn) if report.status == "RUNNING" else []
    if args.output == "json":
        print_json(document(report, running))
        return 0 if report.status == "SUCCEEDED" else 1
    code = 1
    if report.status == "SUCCEEDED":
        print_json(report.output)
        code = 0
    elif report.status == "RUNNING":
        where = ", ".join(f"{state} for {seconds:.0f} s" for state, seconds in running)
        print(f"still RUNNING after {args.timeout:.0f} s, in {where or 'no state'}", file=sys.stderr)
    else:
        where = f" in state {report.failed_state}" if report.failed_state else ""
        failure = f"{report.status}{where}: {report.error}: {short_cause(report.cause, 2000)}"
        print(plain(failure, sys.stderr), file=sys.stderr)
    sys.stderr.flush()
    print(report.summary(), flush=True)
    return code


def document(report: ExecutionReport, running: list[tuple[str, float]]) -> dict[str, Any]:
    """``--output json``: the execution as scripts read it (keys stay; values may be null)."""
    return {
        "name": report.name,
        "arn": report.arn,
        "status": report.status,
        "duration_s": report.duration_s,
        "output": report.output,
        "error": report.error,
        "cause": report.cause,
        "failed_state": report.failed_state,
        "states": [{"state": state, "seconds": seconds} for state, seconds in report.states],
        "running": [{"state": state, "seconds": seconds} for state, seconds in running],
    }
