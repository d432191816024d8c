"""``rps env-vars``: the ``--env-vars`` file for ``sam local invoke`` / ``sam local start-api`` against the
running local cloud: every function's environment as deployed (bucket names, the state machine's ARN, the
MLflow URI, all resolved), with ``AWS_ENDPOINT_URL`` pointing at the cloud from where the function runs.

    rps up --host 0.0.0.0 &                       # listen where containers reach it
    rps env-vars --endpoint-host host.containers.internal > env.json
    sam build && sam local invoke PlanFunction --env-vars env.json -e events/plan.json
    rps env-vars --check env.json                 # still this cloud's? (a restarted cloud has new buckets)

SAM overrides only variables the template declares; the template declares ``AWS_ENDPOINT_URL`` (empty on AWS).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from rps_local.emulator.errors import StaleEnvVarsError
from rps_local.tools.cli.common import add_state_dir, connect

EXIT_CODES = "0 written (--check: FILE matches the cloud); 2 no local cloud running, or --check: FILE missing or stale"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("env-vars", help="the --env-vars JSON for sam local against this cloud")
    parser.add_argument(
        "--endpoint-host",
        default=None,
        help="the cloud's host name as the functions see it (default: as on this machine, localhost; "
        "host.containers.internal or host.docker.internal from a container)",
    )
    parser.add_argument("--out", type=Path, default=None, help="write the JSON here (default: stdout)")
    parser.add_argument(
        "--check",
        type=Path,
        default=None,
        metavar="FILE",
        help="write nothing: check that FILE (an earlier --out) still matches the running cloud (its port, "
        "bucket names and ARNs change when the cloud restarts)",
    )
    add_state_dir(parser)
    parser.set_defaults(func=run)


LOOPBACK = ("127.0.0.1", "localhost")
# The variables that hold a URL of the cloud (the AWS endpoint, the MLflow server): they name this machine
# as the functions see it, and an older file is compared with the cloud's by port only.
CLOUD_URLS = ("AWS_ENDPOINT_URL", "MLFLOW_TRACKING_URI")


def env_vars(client, endpoint_url: str) -> dict[str, dict[str, str]]:
    """``{function logical id: {variable: value}}``, SAM's ``--env-vars`` shape, from the deployed functions:
    ``AWS_ENDPOINT_URL`` is ``endpoint_url``, and a loopback MLflow URI takes its host."""
    lam = client.client("lambda")
    host = urlsplit(endpoint_url).hostname or "localhost"
    out: dict[str, dict[str, str]] = {}
    for logical_id, name in sorted(client.resources("AWS::Lambda::Function").items()):
        variables = lam.get_function_configuration(FunctionName=name).get("Environment", {}).get("Variables", {})
        out[logical_id] = {**variables, "AWS_ENDPOINT_URL": endpoint_url}
        mlflow = variables.get("MLFLOW_TRACKING_URI", "")
        if urlsplit(mlflow).hostname in LOOPBACK and urlsplit(mlflow).port:  # the cloud's own server
            out[logical_id]["MLFLOW_TRACKING_URI"] = at_host(mlflow, host)
    return out


def at_host(url: str, host: str) -> str:
    """``url`` with its host replaced by ``host`` (its port kept): the cloud as the functions see it."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{host}:{parts.port}"))


def stale_entries(written: Any, current: dict[str, dict[str, str]]) -> list[str]:
    """What in an ``--env-vars`` file ``written`` earlier differs from the cloud's ``current`` one, one line each.

    The cloud's URLs (``CLOUD_URLS``) are compared by port only: the host is where the functions run (a
    container's name for this machine), which the file chose."""
    if not isinstance(written, dict):
        return ["not a JSON object of {function: {variable: value}}"]
    problems = [f"{fn}: no such function in the running stack" for fn in sorted(set(written) - set(current))]
    for fn, variables in sorted(current.items()):
        entry = written.get(fn)
        if not isinstance(entry, dict):
            problems.append(f"{fn}: missing")
            continue
        for name, value in sorted(variables.items()):
            old = entry.get(name)
            if name in CLOUD_URLS:
                old_port = urlsplit(str(old or "")).port if old else None
                if old_port != urlsplit(value).port:
                    problems.append(f"{fn}: {name} {old!r} is not the cloud's port {urlsplit(value).port}")
            elif old != value:
                problems.append(f"{fn}: {name} is {old!r}, the running cloud has {value!r}")
    return problems


def check(path: Path, current: dict[str, dict[str, str]]) -> None:
    """``StaleEnvVarsError`` naming what differs, unless the file at ``path`` matches ``current``."""
    again = f"write it again: rps env-vars --endpoint-host HOST --out {path}"
    try:
        written = json.loads(path.read_text())
    except FileNotFoundError:
        raise StaleEnvVarsError(f"{path}: no such file: {again}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StaleEnvVarsError(f"{path}: unreadable ({exc}): {again}") from None
    problems = stale_entries(written, current)
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise StaleEnvVarsError(f"{path} is stale (from another cloud?): {shown}: {again}")


def run(args: argparse.Namespace) -> int:
    endpoints, client = connect(args)
    endpoint = endpoints["aws_endpoint_url"]
    if args.endpoint_host:
        endpoint = at_host(endpoint, args.endpoint_host)
    current = env_vars(client, endpoint)
    if args.check:
        check(args.check, current)
        print(f"{args.check} matches the running cloud ({len(current)} functions)", file=sys.stderr)
        return 0
    text = json.dumps(current, indent=2, sort_keys=True) + "\n"
    if args.out:
        args.out.write_text(text)
        print(f"wrote {args.out} (sam local invoke FUNCTION --env-vars {args.out})", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
