"""``rps env-vars``: the ``--env-vars`` file for ``sam local invoke`` / ``sam local start-api`` against the
running local cloud: every function's environment as deployed (bucket names, the state machine's ARN, the
MLflow URI, all resolved), with ``AWS_ENDPOINT_URL`` pointing at the cloud from where the function runs.

    rps up --host 0.0.0.0 &                       # listen where containers reach it
    rps env-vars --endpoint-host host.containers.internal > env.json
    sam build && sam local invoke PlanFunction --env-vars env.json -e events/plan.json

SAM overrides only variables the template declares; the template declares ``AWS_ENDPOINT_URL`` (empty on AWS).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from rps_local.cli.common import add_state_dir, connect

EXIT_CODES = "0 written; 2 no local cloud running"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("env-vars", help="the --env-vars JSON for sam local against this cloud")
    parser.add_argument(
        "--endpoint-host",
        default=None,
        help="the cloud's host name as the functions see it (default: as on this machine, localhost; "
        "host.containers.internal or host.docker.internal from a container)",
    )
    parser.add_argument("--out", type=Path, default=None, help="write the JSON here (default: stdout)")
    add_state_dir(parser)
    parser.set_defaults(func=run)


def env_vars(client, endpoint_url: str) -> dict[str, dict[str, str]]:
    """``{function logical id: {variable: value}}``, SAM's ``--env-vars`` shape, from the deployed functions."""
    lam = client.client("lambda")
    out: dict[str, dict[str, str]] = {}
    for logical_id, name in sorted(client.resources("AWS::Lambda::Function").items()):
        variables = lam.get_function_configuration(FunctionName=name).get("Environment", {}).get("Variables", {})
        out[logical_id] = {**variables, "AWS_ENDPOINT_URL": endpoint_url}
    return out


def run(args: argparse.Namespace) -> int:
    endpoints, client = connect(args)
    endpoint = endpoints["aws_endpoint_url"]
    if args.endpoint_host:
        parts = urlsplit(endpoint)
        endpoint = urlunsplit(parts._replace(netloc=f"{args.endpoint_host}:{parts.port}"))
    text = json.dumps(env_vars(client, endpoint), indent=2, sort_keys=True) + "\n"
    if args.out:
        args.out.write_text(text)
        print(f"wrote {args.out} (sam local invoke FUNCTION --env-vars {args.out})", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
