"""``rps status``: the running cloud's endpoints, functions and their warm workers, schedules, memory."""

from __future__ import annotations

import argparse

from rps_local.emulator.endpoints import control_request, read_endpoints
from rps_local.tools.cli.common import add_output, add_state_dir, print_json

EXIT_CODES = "0 printed; 2 no local cloud running"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("status", help="show the running local cloud")
    add_output(parser, "endpoints, memory_mb, functions, state_machines, schedules, http_routes")
    add_state_dir(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    status = control_request(read_endpoints(args.state_dir), "GET", "/status", timeout=10)
    if args.output == "json":
        print_json(status)
        return 0
    for key, value in status["endpoints"].items():
        print(f"{key:20} {value}")
    print(f"{'memory':20} {status['memory_mb']:.0f} MB resident (cloud, workers, MLflow)")
    print("\nfunction               workers (idle/busy)  name")
    for logical_id, info in sorted(status["functions"].items()):
        print(f"{logical_id:22} {info['idle']:>3} / {info['busy']:<3}          {info['name']}")
    for logical_id, arn in status["state_machines"].items():
        print(f"\nstate machine {logical_id}: {arn}")
    for name, when in status["schedules"].items():
        print(f"schedule {name}: next {when or 'never'}")
    if status["http_routes"]:
        print("HTTP routes: " + ", ".join(status["http_routes"]))
    return 0
