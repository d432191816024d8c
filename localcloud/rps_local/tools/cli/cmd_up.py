"""``rps up``: start the local cloud in the foreground until Ctrl-C, SIGINT or SIGTERM.

moto's AWS APIs with template.yaml deployed on them, a worker process per warm Lambda environment, the MLflow
tracking server, the HTTP API and the schedules. The endpoints are written to STATE_DIR/endpoints.json
(default .rps, or $RPS_STATE_DIR), where the other commands find them. On Ctrl-C, SIGINT or SIGTERM, also
when a script started it in the background, it stops its workers and the MLflow server, then exits.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from rps_local.emulator.endpoints import DEFAULT_STATE_DIR
from rps_local.tools.cli.common import OVERRIDES_HELP, parse_overrides

EXIT_CODES = (
    "0 stopped by Ctrl-C, SIGINT or SIGTERM, everything it started stopped; 2 it cannot start (a bad "
    "template or override, a port in use, a cloud already running in the state directory)"
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("up", help="start the local cloud (moto, template.yaml, MLflow, HTTP API)")
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help="the AWS endpoint's port (default 4566, LocalStack's, so its clients work unchanged; "
        "a free one when 4566 is taken; 0: a free one)",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="the address to listen on (default 127.0.0.1; 0.0.0.0 lets containers, as `sam local` starts "
        "them, reach the cloud)",
    )
    parser.add_argument("--http-port", type=int, default=0, help="the HTTP API's port (default: a free one)")
    parser.add_argument("--project-dir", type=Path, default=Path("."), help="where template.yaml is (default .)")
    parser.add_argument("--template", default="template.yaml", help="the SAM template, relative to the project")
    parser.add_argument(
        "--state-dir", type=Path, default=None, help="state and endpoints.json (default .rps, or $RPS_STATE_DIR)"
    )
    parser.add_argument("--stack-name", default="rps")
    parser.add_argument("--parameter-overrides", nargs="+", metavar="KEY=VALUE", help=OVERRIDES_HELP)
    parser.add_argument("--no-mlflow", action="store_true", help="do not start the MLflow tracking server")
    parser.add_argument("--no-schedules", action="store_true", help="do not fire the template's schedules")
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="stop a warm worker idle this long (default 600)",
    )
    parser.add_argument(
        "--cpus",
        type=int,
        default=None,
        metavar="N",
        help="CPUs the Lambda workers share, each busy worker N / busy at least 1 "
        "(default: the CPUs this process has, or $RPS_CPU_SHARE)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        metavar="N",
        help="executions (and worker processes) at once, like an account's concurrency limit; more wait for "
        "a free slot (default: 4 x CPUs, at least 8)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rps_local.emulator.cloud import LocalCloud
    from rps_local.emulator.network import LOCALSTACK_PORT, check_host, port_is_free
    from rps_local.tools.console import start_console

    state_dir = args.state_dir or Path(os.environ.get("RPS_STATE_DIR") or DEFAULT_STATE_DIR)
    check_host(args.host)  # before the port: an address no interface has is not "port 4566 is taken"
    port = args.port
    if port is None:
        port = LOCALSTACK_PORT if port_is_free(args.host, LOCALSTACK_PORT) else 0
        if port == 0:
            print(
                f"port {LOCALSTACK_PORT} is taken (LocalStack?): the AWS endpoint takes a free port; point "
                "LocalStack's clients at it with AWS_ENDPOINT_URL or LOCALSTACK_HOST (printed below)",
                flush=True,
            )
    cloud = LocalCloud(
        args.project_dir,
        template=args.template,
        state_dir=state_dir.resolve(),
        stack_name=args.stack_name,
        port=port,
        host=args.host,
        http_port=args.http_port,
        parameter_overrides=parse_overrides(args.parameter_overrides),
        mlflow=not args.no_mlflow,
        schedules=not args.no_schedules,
        idle_timeout_s=args.idle_timeout,
        cpus=args.cpus,
        concurrency=args.concurrency,
        addons={"console": start_console},
    )
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    starting = threading.Event()
    starting.set()

    def on_signal(signum: int, _frame: object) -> None:
        first = not stop.is_set()
        stop.set()
        if first and starting.is_set():
            raise KeyboardInterrupt  # while starting: start() stops what it has started, then re-raises

    # Explicit handlers for each: a script's background job starts with SIGINT ignored, and Python's default
    # for SIGTERM would exit without stopping the workers and the MLflow server.
    for signum in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if signum is not None:
            signal.signal(signum, on_signal)
    print("starting the local cloud...", flush=True)
    try:
        endpoints = cloud.start()
        starting.clear()
        phases = ", ".join(f"{k} {v:.1f} s" for k, v in cloud.timings.items())
        print(f"ready in {cloud.started_s:.1f} s ({phases}): stack {cloud.stack_name} from {cloud.template_path}")
        for key in ("aws_endpoint_url", "http_api_url", "mlflow_tracking_uri", "control_url", "console_url"):
            print(f"  {key:20} {endpoints[key]}")
        print(f"  endpoints written to {cloud.state_dir / 'endpoints.json'}")
        print("Ctrl-C (or SIGTERM) stops the cloud.", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        starting.clear()  # from here on a signal only asks to stop, which is under way
        if cloud.started_s is not None:  # a start() that failed has stopped what it started itself
            print("stopping...", file=sys.stderr, flush=True)
            cloud.stop()
            print("stopped", file=sys.stderr, flush=True)
    return 0
