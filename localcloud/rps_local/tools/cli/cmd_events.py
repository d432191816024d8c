"""``rps events``: sample events for the steps after the Map, made from the running cloud's own state.

    rps run                                   # an execution, so that datasets and a model exist
    rps events --out .rps/events              # train.json, register.json, forecast.json
    sam local invoke TrainFunction --env-vars env.json -e .rps/events/train.json

``events/train.json``, ``register.json`` and ``forecast.json`` show the shapes, but name dataset versions and
model ids that exist in no cloud. These are the inputs the state machine gave those steps in an execution
(its history's ``TaskStateEntered`` events): real dataset versions, model ids and the Map's result files in
this cloud's S3, so ``rps invoke`` and ``sam local invoke`` run them for real. The other functions' events in
``events/`` work as they are (Ingest's window is in the replay; QualityGate's and Transform's follow it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rps_local.emulator.errors import LocalCloudError
from rps_local.tools.cli.common import add_output, add_state_dir, connect, print_json

EXIT_CODES = "0 written; 2 no local cloud running, no such execution, or it never reached the steps"
# The state machine's Task states whose input names the cloud's state, and the file each is written to
STATES = {"Train": "train.json", "Register": "register.json", "Forecast": "forecast.json"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("events", help="events for Train, Register and Forecast from this cloud's state")
    parser.add_argument("--out", type=Path, required=True, help="the folder to write the events to")
    parser.add_argument(
        "--execution",
        default=None,
        help="the execution's ARN or name (default: the newest one that reached Forecast)",
    )
    add_output(parser, "execution, files ({state: path})")
    add_state_dir(parser)
    parser.set_defaults(func=run)


def task_inputs(sfn: Any, execution_arn: str) -> dict[str, Any]:
    """``{state name: input}`` of the Task states an execution entered (the last entry of each)."""
    inputs: dict[str, Any] = {}
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        for event in page["events"]:
            if event["type"] == "TaskStateEntered":
                details = event["stateEnteredEventDetails"]
                inputs[details["name"]] = json.loads(details.get("input") or "null")
    return inputs


def _executions(sfn: Any, state_machine_arn: str, wanted: str | None) -> list[str]:
    """The ARNs to look in: the one asked for, or every execution, newest first."""
    found: list[dict[str, Any]] = []
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=state_machine_arn):
        found += page["executions"]
    found.sort(key=lambda e: e["startDate"], reverse=True)
    if wanted is None:
        return [e["executionArn"] for e in found]
    chosen = [e["executionArn"] for e in found if wanted in (e["executionArn"], e["name"])]
    if not chosen:
        raise LocalCloudError(f"--execution {wanted}: no such execution of {state_machine_arn}")
    return chosen


def events_of(sfn: Any, state_machine_arn: str, wanted: str | None = None) -> tuple[str, dict[str, Any]]:
    """The execution and ``{state: input}`` for every state of ``STATES``; LocalCloudError when none has them."""
    for arn in _executions(sfn, state_machine_arn, wanted):
        inputs = task_inputs(sfn, arn)
        if all(state in inputs for state in STATES):
            return arn, {state: inputs[state] for state in STATES}
        if wanted is not None:
            missing = [state for state in STATES if state not in inputs]
            raise LocalCloudError(f"--execution {wanted}: it never entered {', '.join(missing)}")
    raise LocalCloudError("no execution of the pipeline reached Forecast yet: run one first (rps run)")


def run(args: argparse.Namespace) -> int:
    _, client = connect(args)
    arn, inputs = events_of(client.client("stepfunctions"), client.state_machine_arn(), args.execution)
    args.out.mkdir(parents=True, exist_ok=True)
    files = {}
    for state, name in STATES.items():
        path = args.out / name
        path.write_text(json.dumps(inputs[state], indent=2) + "\n")
        files[state] = str(path)
    if args.output == "json":
        print_json({"execution": arn, "files": files})
    else:
        for state, path in files.items():
            print(f"{state:9} {path}")
        print(f"from {arn}", file=sys.stderr)
    return 0
