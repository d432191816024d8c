"""``rps deploy``: redeploy template.yaml and the code on the running cloud, without a restart."""

from __future__ import annotations

import argparse

from rps_local.emulator.endpoints import control_request, read_endpoints
from rps_local.emulator.errors import DeployError
from rps_local.tools.cli.common import OVERRIDES_HELP, add_output, add_state_dir, parse_overrides, print_json

EXIT_CODES = "0 deployed; 2 a bad template or override, or no local cloud running (the running stack is left as it was)"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("deploy", help="redeploy template.yaml and the code on the running cloud")
    parser.add_argument("--parameter-overrides", nargs="+", metavar="KEY=VALUE", help=OVERRIDES_HELP)
    add_output(parser, "stack_name and the deployed functions and state_machines")
    add_state_dir(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    endpoints = read_endpoints(args.state_dir)
    answer = control_request(
        endpoints, "POST", "/deploy", {"parameter_overrides": parse_overrides(args.parameter_overrides)}
    )
    if "error" in answer:
        raise DeployError(answer["error"])
    if args.output == "json":
        print_json({key: answer.get(key) for key in ("stack_name", "functions", "state_machines")})
        return 0
    print(
        f"deployed stack {answer['stack_name']}: {len(answer['functions'])} functions, "
        f"{len(answer['state_machines'])} state machines; warm workers restarted"
    )
    return 0
