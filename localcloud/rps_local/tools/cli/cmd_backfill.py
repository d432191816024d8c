"""``rps backfill START END``: collect a past range for every location (the execution input
``{"backfill": {"start", "end"}}``), followed like ``rps run``. Re-running the same range writes nothing new;
the pipeline clock and the model stay as they are."""

from __future__ import annotations

import argparse
import json

from rps_local.emulator.errors import LocalCloudError
from rps_local.tools.cli.cmd_run import JSON_FORM
from rps_local.tools.cli.common import add_output, add_state_dir


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "backfill", help="collect a past range for every location (no training; the clock stays where it is)"
    )
    parser.add_argument("start", help="the range's start, YYYY-MM-DDTHH:MM (UTC, exclusive)")
    parser.add_argument("end", help="the range's end, YYYY-MM-DDTHH:MM (UTC, inclusive; not after the clock)")
    parser.add_argument("--name", help="the execution name (default: a unique one)")
    parser.add_argument(
        "--timeout", type=float, default=1800.0, metavar="SECONDS", help="stop following after this long (1800)"
    )
    add_output(parser, JSON_FORM)
    add_state_dir(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rps_core.contract import Window
    from rps_core.errors import InvalidEventError
    from rps_core.times import event_time

    from rps_local.tools.cli import cmd_run

    try:  # the checks Plan makes, before an execution is started for nothing
        Window(event_time(args.start, "START"), event_time(args.end, "END"))
    except InvalidEventError as exc:
        raise LocalCloudError(str(exc)) from exc
    args.input = json.dumps({"backfill": {"start": args.start, "end": args.end}})
    args.input_file = None
    args.state_machine = None
    return cmd_run.run(args)
