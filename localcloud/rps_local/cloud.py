"""The local cloud: moto (in this process, with our hooks), template.yaml deployed through SAM's translator
and moto's CloudFormation, the worker runtime, MLflow, the HTTP API, schedules and EMF metrics.

One ``LocalCloud`` per process (moto's backends and the hooks are process-wide)::

    with LocalCloud(project_dir) as cloud:      # start(): moto, deploy, MLflow, HTTP API, schedules
        cloud.invoke("PlanFunction", {})          # an InvokeResult
        arn = cloud.start_execution({})
        cloud.wait_execution(arn)
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import socket
import subprocess
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rps_local.client import CloudClient, FunctionError, InvokeResult
from rps_local.deployer import Deployment, deploy
from rps_local.endpoints import read_endpoints, write_endpoints
from rps_local.errors import HostAddressError, LocalCloudError, NotRunningError, PortInUseError
from rps_local.lambda_types import FunctionSpec
from rps_local.mlflow_server import ARTIFACT_BUCKET, MlflowServer, find_mlflow
from rps_local.procs import tree_rss_mb
from rps_local.runtime import LambdaRuntime
from rps_local.template import PreparedTemplate, prepare

__all__ = ["LocalCloud"]

logger = logging.getLogger(__name__)


def git_commit(directory: Path) -> str:
    """The full commit hash checked out in ``directory``, or "" when it is not a git work tree."""
    try:
        done = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", commit) else ""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


LOCALSTACK_PORT = 4566  # where LocalStack's clients (localstack_client, awslocal, samlocal) look by default
# The names a container reaches its host by (podman's, Docker's): `rps env-vars --endpoint-host NAME`
CONTAINER_HOST_NAMES = ("host.containers.internal", "host.docker.internal")


def s3_path_style_from_containers(port: int) -> None:
    """Make moto read S3 requests addressed to ``http://host.containers.internal:PORT`` path-style.

    moto takes the first label of an S3 request's host for a bucket name (virtual-hosted style) unless the
    host is localhost, an IP, host.docker.internal or one of ``MOTO_S3_CUSTOM_ENDPOINTS``: from a podman
    container (``sam local invoke``), every bucket would be "host" (NoSuchBucket).
    """
    endpoints = [e for e in os.environ.get("MOTO_S3_CUSTOM_ENDPOINTS", "").split(",") if e]
    for name in CONTAINER_HOST_NAMES:
        if f"http://{name}:{port}" not in endpoints:
            endpoints.append(f"http://{name}:{port}")
    os.environ["MOTO_S3_CUSTOM_ENDPOINTS"] = ",".join(endpoints)  # read by moto at each request


def check_host(host: str) -> None:
    """``HostAddressError`` unless this machine can listen on ``host`` (``rps up --host``), before any port."""
    try:
        infos = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise HostAddressError(
            f"--host {host}: not an address, nor a name this machine resolves ({exc}): use 127.0.0.1 (this "
            "machine only), 0.0.0.0 (every interface: containers reach it) or one of this machine's addresses"
        ) from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((address[0], 0))
        except OSError as exc:
            raise HostAddressError(
                f"--host {host}: this machine cannot listen there ({exc.strerror}): no network interface has "
                f"{address[0]}; use 127.0.0.1 (this machine only), 0.0.0.0 (every interface: containers reach "
                "it) or one of this machine's addresses"
            ) from None


def port_is_free(host: str, port: int) -> bool:
    try:
        check_port(host, port, "probe")
    except PortInUseError:
        return False
    return True


def check_port(host: str, port: int, what: str) -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as werkzeug's server binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise PortInUseError(
                f"{host}:{port}: cannot serve the {what} there: {exc.strerror}"
                " (use another --port, or 0 for a free one)"
            ) from None


class LocalCloud:
    def __init__(
        self,
        project_dir: Path | str = ".",
        *,
        template: str = "template.yaml",
        state_dir: Path | str | None = None,
        stack_name: str = "rps",
        host: str = "127.0.0.1",
        port: int = 0,
        http_port: int = 0,
        parameter_overrides: dict[str, str] | None = None,
        mlflow: bool = True,
        schedules: bool = True,
        idle_timeout_s: float = 600.0,
        cpus: int | None = None,
        concurrency: int | None = None,
    ) -> None:
        self.project_dir = Path(project_dir).resolve()
        self.template_path = self.project_dir / template
        self.state_dir = Path(state_dir or self.project_dir / ".rps").resolve()
        self.stack_name = stack_name
        self.host, self.port, self.http_port = host, port, http_port
        self.parameter_overrides = dict(parameter_overrides or {})
        # What the cloud knows itself, for the template parameters that want it (if declared): GitCommit.
        self.parameter_defaults: dict[str, str] = {}
        self.use_mlflow = mlflow and "MlflowTrackingUri" not in self.parameter_overrides
        self.use_schedules = schedules
        self.idle_timeout_s = idle_timeout_s
        self.cpus = cpus  # None: the CPUs this process has (rps_local.runtime.machine_cpus)
        self.concurrency = concurrency  # None: rps_local.runtime.default_concurrency
        self.deployment: Deployment | None = None
        self.client: CloudClient | None = None
        self._moto: Any = None
        self._runtime: LambdaRuntime | None = None
        self._mlflow: MlflowServer | None = None
        self._http: Any = None
        self._schedules: Any = None
        self._control: Any = None
        self._console: Any = None
        self._fire_pool = ThreadPoolExecutor(4, thread_name_prefix="schedule-fire")
        self._deploy_lock = threading.Lock()
        self._cloudwatch: Any = None
        self.started_s: float | None = None
        self.timings: dict[str, float] = {}  # seconds per start phase, for `rps up` and the benchmarks

    # ------------------------------------------------------------------ lifecycle

    @property
    def aws_endpoint_url(self) -> str:
        # "localhost", not 127.0.0.1: moto's S3 reads the host to tell path from virtual-host style
        return f"http://localhost:{self.port}"

    @property
    def endpoints(self) -> dict[str, Any]:
        return {
            "aws_endpoint_url": self.aws_endpoint_url,
            "http_api_url": self._http.url if self._http else None,
            "mlflow_tracking_uri": self._mlflow_uri(),
            "control_url": self._control.url if self._control else None,
            "console_url": self._console.url if self._console else None,
            "stack_name": self.stack_name,
            "region": "us-east-1",
            "template": str(self.template_path),
            "pid": os.getpid(),
        }

    def start(self) -> dict[str, Any]:
        """Start everything and deploy; on any failure stop what started and raise (never half-deployed)."""
        started = time.perf_counter()
        self._check_not_running()
        check_host(self.host)
        mlflow_bin = find_mlflow(self.project_dir) if self.use_mlflow else None
        self.port = self.port or free_port(self.host)
        check_port(self.host, self.port, "local cloud")
        mlflow_port = free_port(self.host) if mlflow_bin else 0
        if mlflow_bin:
            self.parameter_overrides.setdefault("MlflowTrackingUri", f"http://127.0.0.1:{mlflow_port}")
        commit = git_commit(self.project_dir)
        if commit:  # as the deploy workflow passes github.sha: training runs name the code that made them
            self.parameter_defaults["GitCommit"] = commit
        self.state_dir.mkdir(parents=True, exist_ok=True)
        try:
            if mlflow_bin:  # the slowest part starts first; it needs the S3 endpoint only when artifacts come
                self._mlflow = MlflowServer(mlflow_bin, self.state_dir, mlflow_port, self.aws_endpoint_url)
                self._mlflow.start()
            prepared = self._timed(
                "translate", lambda: prepare(self.template_path, self.parameter_overrides, self.parameter_defaults)
            )
            self._timed("moto", self._start_moto)
            self.client = CloudClient(self.aws_endpoint_url, self.stack_name)
            if mlflow_bin:
                self.client.client("s3").create_bucket(Bucket=ARTIFACT_BUCKET)
            self._timed("deploy", lambda: self._deploy(prepared))
            self._start_http_api(prepared)
            self._start_schedules(prepared)
            from rps_local.control import ControlServer

            self._control = ControlServer(self, self.host).start()
            self._start_console()
            if self._mlflow:
                self._mlflow.wait_ready()
                self.timings["mlflow"] = time.perf_counter() - started
        except BaseException:
            self.stop()
            raise
        self.started_s = time.perf_counter() - started
        write_endpoints(self.state_dir, self.endpoints)
        return self.endpoints

    def _check_not_running(self) -> None:
        try:
            running = read_endpoints(self.state_dir)
        except NotRunningError:
            return
        raise LocalCloudError(
            f"{self.state_dir}: a local cloud already runs here (pid {running.get('pid')}); "
            "stop it, or give another --state-dir"
        )

    def _timed(self, phase: str, action: Any) -> Any:
        started = time.perf_counter()
        try:
            return action()
        finally:
            self.timings[phase] = time.perf_counter() - started

    def stop(self) -> None:
        for part in (self._schedules, self._http, self._control, self._console):
            if part is not None:
                part.stop()
        self._schedules = self._http = self._control = self._console = None
        self._fire_pool.shutdown(wait=False, cancel_futures=True)
        if self._runtime is not None:
            self._runtime.close()
            self._runtime = None
        if self._mlflow is not None:
            self._mlflow.stop()
            self._mlflow = None
        if self._moto is not None:
            from rps_local import moto_hooks

            self._moto.stop()
            self._moto = None
            moto_hooks.uninstall()
        (self.state_dir / "endpoints.json").unlink(missing_ok=True)

    def __enter__(self) -> LocalCloud:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ deploying

    def deploy(self, parameter_overrides: dict[str, str] | None = None) -> Deployment:
        """Redeploy the template (code, configuration, definitions) on the running cloud; warm workers
        restart so the next invoke runs the new code. A bad template changes nothing."""
        overrides = {**self.parameter_overrides, **(parameter_overrides or {})}
        prepared = prepare(self.template_path, overrides, self.parameter_defaults)
        with self._deploy_lock:
            deployment = self._deploy(prepared)
            self.parameter_overrides = overrides
            if self._http is not None:
                from rps_local.http_api import routes_from_template

                self._http.set_routes(routes_from_template(prepared.sam))
            if self._schedules is not None:
                self._schedules.set_rules(self._rules(prepared))
        return deployment

    def _deploy(self, prepared: PreparedTemplate) -> Deployment:
        assert self.client is not None and self._runtime is not None
        self.deployment = deploy(
            self.client.session, self.aws_endpoint_url, prepared, self.stack_name, prepared.parameters
        )
        self.client.forget()
        self._runtime.restart()
        return self.deployment

    # ------------------------------------------------------------------ using

    def invoke(self, logical_id: str, event: Any) -> InvokeResult:
        return self._require_client().invoke(logical_id, event)

    def start_execution(self, payload: Any = None, *, state_machine: str | None = None, name: str | None = None) -> str:
        return self._require_client().start_execution(payload, state_machine=state_machine, name=name)

    def wait_execution(self, arn: str, timeout_s: float = 900.0) -> dict[str, Any]:
        return self._require_client().wait_execution(arn, timeout_s)

    def fire_schedule(self, name: str) -> list[dict[str, Any]]:
        if self._schedules is None:
            raise LocalCloudError("schedules are off in this cloud (started with schedules=False)")
        fired = self._schedules.fire_now(name)
        return [{"rule": rule.name, "target": rule.target, "event": event} for rule, event in fired]

    def status(self) -> dict[str, Any]:
        workers = self._runtime.stats() if self._runtime else {}
        functions = {
            lid: {"name": name, **workers.get(name, {"idle": 0, "busy": 0, "pids": []})}
            for lid, name in (self.deployment.functions if self.deployment else {}).items()
        }
        schedules = {}
        if self._schedules is not None:
            schedules = {
                name: when.isoformat() if when else None for name, when in self._schedules.next_fire_times().items()
            }
        return {
            "endpoints": self.endpoints,
            "functions": functions,
            "state_machines": self.deployment.state_machines if self.deployment else {},
            "schedules": schedules,
            "http_routes": [route.key for route in self._http.routes] if self._http else [],
            "cpus": self._runtime.cpus if self._runtime else None,
            "concurrency": self._runtime.concurrency if self._runtime else None,
            "memory_mb": round(self.memory_mb(), 1),
            "started_s": self.started_s,
            "start_timings_s": {k: round(v, 2) for k, v in self.timings.items()},
        }

    def memory_mb(self) -> float:
        """Resident memory of the whole cloud: this process, the workers, the MLflow server."""
        roots = [os.getpid()]
        return tree_rss_mb(roots)

    def _require_client(self) -> CloudClient:
        if self.client is None:
            raise LocalCloudError("the local cloud is not started")
        return self.client

    # ------------------------------------------------------------------ parts

    def _start_moto(self) -> None:
        # moto is imported here, not at the top: MLflow, the slowest part, starts before this import
        from moto.server import ThreadedMotoServer

        from rps_local import moto_hooks

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per AWS call otherwise
        # moto's CloudFormation skips what it cannot create (the HTTP API, which the local one serves; bucket
        # policies, which moto does not enforce), and its interpreter logs every caught task error
        logging.getLogger("moto").addFilter(lambda record: not record.getMessage().startswith("No Moto CloudF"))
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
        warnings.filterwarnings("ignore", message="Tried to parse AWS::", category=UserWarning)
        problems = moto_hooks.check_internals()
        if problems:
            raise LocalCloudError("moto's internals differ from those the local cloud hooks: " + "; ".join(problems))
        self._runtime = LambdaRuntime(
            self.aws_endpoint_url,
            idle_timeout_s=self.idle_timeout_s,
            on_output=self._publish_metrics,
            cpus=self.cpus,
            concurrency=self.concurrency,
        )
        moto_hooks.install(self._runtime.invoke)
        moto_hooks.enable_stepfunctions_execution(self.port)
        s3_path_style_from_containers(self.port)
        self._moto = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self._moto.start()

    def _publish_metrics(self, spec: FunctionSpec, text: str) -> None:
        if '"_aws"' not in text:
            return
        from rps_local.emf import publish_emf_lines

        if self._cloudwatch is None:
            self._cloudwatch = self._require_client().client("cloudwatch")
        publish_emf_lines(text, self._cloudwatch, source=spec.log_group)

    def _start_http_api(self, prepared: PreparedTemplate) -> None:
        from rps_local.http_api import HttpApiServer, routes_from_template

        routes = routes_from_template(prepared.sam)
        if routes:
            self._http = HttpApiServer(routes, self._invoke_for_http, host=self.host, port=self.http_port).start()

    def _invoke_for_http(self, logical_id: str, event: dict[str, Any]) -> Any:
        result = self.invoke(logical_id, event)
        if result.function_error:
            raise FunctionError(f"{logical_id}: {result.payload}")
        return result.payload

    def _rules(self, prepared: PreparedTemplate) -> list[Any]:
        from rps_local.schedules import rules_from_template

        physical = self.deployment.rules if self.deployment else {}
        rules = []
        for rule in rules_from_template(prepared.sam, prepared.parameters, stack_name=self.stack_name):
            name = physical.get(rule.logical_id, rule.name)
            arn = rule.arn.rsplit("/", 1)[0] + "/" + name
            rules.append(dataclasses.replace(rule, name=name, arn=arn))
        return rules

    def _start_schedules(self, prepared: PreparedTemplate) -> None:
        if not self.use_schedules:
            return
        from rps_local.schedules import ScheduleRunner

        self._schedules = ScheduleRunner(self._rules(prepared), self._fire).start()

    def _fire(self, rule: Any, event: Any) -> None:
        """Start a schedule's target as EventBridge does: an asynchronous invoke, or a new execution."""
        client = self._require_client()
        if rule.target_kind == "state_machine":
            client.start_execution(event, state_machine=rule.target)
        else:
            self._fire_pool.submit(self._invoke_logged, rule.target, event)

    def _invoke_logged(self, logical_id: str, event: Any) -> None:
        result = self.invoke(logical_id, event)
        if result.function_error:
            logger.warning("scheduled %s failed: %s", logical_id, result.payload)

    def _start_console(self) -> None:
        from rps_local.console import ConsoleServer, ConsoleSource

        def source() -> ConsoleSource:  # made on the first request, once the endpoints are all known
            return ConsoleSource(self.endpoints, self.template_path, self.parameter_overrides)

        self._console = ConsoleServer(source, self.host).start()
        self._console.warm()

    def _mlflow_uri(self) -> str | None:
        if self._mlflow is not None:
            return self._mlflow.uri
        return self.parameter_overrides.get("MlflowTrackingUri") or None
