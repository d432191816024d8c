"""``rps schedule NAME``: fire one of the template's schedules now, on the running cloud.

NAME is the schedule event's name in template.yaml (``PipelineSchedule``, ``DriftSchedule``) or its
rule's logical id. The target gets the event EventBridge would send, as when the schedule fires on time.
"""

from __future__ import annotations

import argparse
import json
from urllib.parse import quote

from rps_local.emulator.endpoints import control_request, read_endpoints
from rps_local.emulator.errors import LocalCloudError
from rps_local.tools.cli.common import add_output, add_state_dir

EXIT_CODES = "0 fired; 2 no such schedule or no local cloud running"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("schedule", help="fire a schedule of template.yaml now (e.g. PipelineSchedule)")
    parser.add_argument("name", metavar="NAME", help="the schedule event's name, or its rule's logical id")
    add_output(parser, "a list of {rule, target, event}: the events sent")
    add_state_dir(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    endpoints = read_endpoints(args.state_dir)
    answer = control_request(endpoints, "POST", f"/schedules/{quote(args.name, safe='')}")
    if "error" in answer:
        raise LocalCloudError(answer["error"])
    fired = answer.get("fired") or []
    if args.output == "json":
        print(json.dumps(fired, indent=2))
        return 0
    for item in fired:
        print(f"fired {args.name}: rule {item.get('rule')} -> {item.get('target')}")
    return 0
