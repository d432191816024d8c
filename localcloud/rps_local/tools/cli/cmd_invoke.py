"""``rps invoke FUNCTION --event FILE``: the Docker-free ``sam local invoke``, on the running cloud."""

from __future__ import annotations

import argparse
import sys

from rps_local.tools.cli.common import add_output, add_state_dir, connect, load_json_file, print_json

EXIT_CODES = (
    "0 the function returned; 1 it raised (its error is printed, the log tail on stderr); 2 a bad event "
    "file or no local cloud running"
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("invoke", help="invoke a function (template logical ID) with an event file")
    parser.add_argument("function", metavar="FUNCTION", help="the function's logical ID in template.yaml")
    parser.add_argument("--event", "-e", metavar="FILE", help="the event JSON file ('-' for stdin; default {})")
    parser.add_argument("--logs", action="store_true", help="also print the log tail to stderr")
    add_output(parser, "function, function_error (null when it returned) and payload")
    add_state_dir(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    event = load_json_file(args.event, default={})  # a bad event file fails before the cloud is asked
    _, client = connect(args)
    result = client.invoke(args.function, event)
    if args.logs or result.function_error:
        print(result.log_tail, file=sys.stderr)
    if args.output == "json":
        print_json({"function": args.function, "function_error": result.function_error, "payload": result.payload})
    else:
        print_json(result.payload)  # the function's JSON answer is its text form
    return 1 if result.function_error else 0
