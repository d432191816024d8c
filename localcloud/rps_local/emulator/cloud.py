"""The local cloud: its parts started in order, deployed from template.yaml, and stopped together.

Each part lives with its service: moto and the hooks into it (``moto_server``, ``moto_hooks``), the template's
translation and deployment (``cloudformation``), Lambda's warm workers (``awslambda``), the HTTP API
(``apigateway``), schedules (``eventbridge``), EMF metrics (``cloudwatch``), the MLflow server and the control
endpoint. Tools that sit on top (the console) come in as ``addons``. One ``LocalCloud`` per process (moto's
backends and the hooks are process-wide)::

    with LocalCloud(project_dir) as cloud:      # start(): moto, deploy, MLflow, HTTP API, schedules
        cloud.invoke("PlanFunction", {})          # an InvokeResult
        arn = cloud.start_execution({})
        cloud.wait_execution(arn)
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, TypeVar

from rps_local.emulator.apigateway.http_api import HttpApiServer, routes_from_template
from rps_local.emulator.awslambda.runtime import LambdaRuntime
from rps_local.emulator.awslambda.spec import FunctionSpec
from rps_local.emulator.client import CloudClient, FunctionError, InvokeResult
from rps_local.emulator.cloudformation.deployer import Deployment, deploy
from rps_local.emulator.cloudformation.template import PreparedTemplate, git_commit, prepare
from rps_local.emulator.control import ControlServer
from rps_local.emulator.endpoints import read_endpoints, write_endpoints
from rps_local.emulator.errors import LocalCloudError, NotRunningError
from rps_local.emulator.eventbridge.schedules import Rule, ScheduleRunner, rules_from_template
from rps_local.emulator.mlflow_server import ARTIFACT_BUCKET, MlflowServer, find_mlflow
from rps_local.emulator.moto_server import MotoServer
from rps_local.emulator.network import check_host, check_port, free_port
from rps_local.emulator.procs import tree_rss_mb

__all__ = ["Addon", "LocalCloud"]

logger = logging.getLogger(__name__)
T = TypeVar("T")


class Addon(Protocol):
    """A server started on top of a running cloud (the console): it has a URL and stops with the cloud."""

    url: str

    def stop(self) -> None: ...


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
        addons: Mapping[str, Callable[[LocalCloud], Addon]] | None = None,
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
        self.addon_factories = dict(addons or {})  # endpoint name (console) → how to start it
        self.deployment: Deployment | None = None
        self.client: CloudClient | None = None
        self.idle_timeout_s = idle_timeout_s
        self.cpus = cpus  # None: the CPUs this process has (awslambda.runtime.machine_cpus)
        self.concurrency = concurrency  # None: awslambda.runtime.default_concurrency
        self._runtime: LambdaRuntime | None = None
        self._moto: MotoServer | None = None
        self._mlflow: MlflowServer | None = None
        self._http: HttpApiServer | None = None
        self._schedules: ScheduleRunner | None = None
        self._control: ControlServer | None = None
        self._addons: dict[str, Addon] = {}
        self._fire_pool = ThreadPoolExecutor(4, thread_name_prefix="schedule-fire")
        self._deploy_lock = threading.Lock()
        self.started_s: float | None = None
        self.timings: dict[str, float] = {}  # seconds per start phase, for `rps up` and the benchmarks

    # ------------------------------------------------------------------ lifecycle

    @property
    def aws_endpoint_url(self) -> str:
        # "localhost", not 127.0.0.1: moto's S3 reads the host to tell path from virtual-host style
        return f"http://localhost:{self.port}"

    @property
    def endpoints(self) -> dict[str, Any]:
        mlflow_uri = self._mlflow.uri if self._mlflow else self.parameter_overrides.get("MlflowTrackingUri")
        return {
            "aws_endpoint_url": self.aws_endpoint_url,
            "http_api_url": self._http.url if self._http else None,
            "mlflow_tracking_uri": mlflow_uri or None,
            "control_url": self._control.url if self._control else None,
            **{f"{name}_url": addon.url for name, addon in self._addons.items()},
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
                self._mlflow = MlflowServer(
                    mlflow_bin, self.state_dir, mlflow_port, self.aws_endpoint_url, host=self.host
                )
                self._mlflow.start()
            prepared = self._timed(
                "translate", lambda: prepare(self.template_path, self.parameter_overrides, self.parameter_defaults)
            )
            self._runtime = LambdaRuntime(
                self.aws_endpoint_url,
                idle_timeout_s=self.idle_timeout_s,
                on_output=self._publish_metrics,
                cpus=self.cpus,
                concurrency=self.concurrency,
            )
            self._moto = self._timed("moto", MotoServer(self.host, self.port, self._runtime.invoke).start)
            self.client = CloudClient(self.aws_endpoint_url, self.stack_name)
            if mlflow_bin:
                self.client.client("s3").create_bucket(Bucket=ARTIFACT_BUCKET)
            self._timed("deploy", lambda: self._deploy(prepared))
            routes = routes_from_template(prepared.sam)
            if routes:
                self._http = HttpApiServer(routes, self._invoke_for_http, host=self.host, port=self.http_port).start()
            if self.use_schedules:
                self._schedules = ScheduleRunner(self._rules(prepared), self._fire).start()
            self._control = ControlServer(
                status=self.status, deploy=self.deploy, fire_schedule=self.fire_schedule, host=self.host
            ).start()
            for name, start_addon in self.addon_factories.items():
                self._addons[name] = start_addon(self)
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

    def _timed(self, phase: str, action: Callable[[], T]) -> T:
        started = time.perf_counter()
        try:
            return action()
        finally:
            self.timings[phase] = time.perf_counter() - started

    def stop(self) -> None:
        for part in (self._schedules, self._http, self._control, *self._addons.values()):
            if part is not None:
                part.stop()
        self._schedules = self._http = self._control = None
        self._addons = {}
        self._fire_pool.shutdown(wait=False, cancel_futures=True)
        if self._runtime is not None:
            self._runtime.close()
        for server in (self._mlflow, self._moto):
            if server is not None:
                server.stop()
        self._runtime, self._mlflow, self._moto = None, None, None
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
                self._http.set_routes(routes_from_template(prepared.sam))
            if self._schedules is not None:
                self._schedules.set_rules(self._rules(prepared))
        return deployment

    def _deploy(self, prepared: PreparedTemplate) -> Deployment:
        client = self._require_client()
        self.deployment = deploy(client.session, self.aws_endpoint_url, prepared, self.stack_name, prepared.parameters)
        client.forget()
        if self._runtime is not None:
            self._runtime.restart()
        return self.deployment

    def _rules(self, prepared: PreparedTemplate) -> list[Rule]:
        return rules_from_template(
            prepared.sam,
            prepared.parameters,
            stack_name=self.stack_name,
            physical_names=self.deployment.rules if self.deployment else None,
        )

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
        return tree_rss_mb([os.getpid()])

    def _require_client(self) -> CloudClient:
        if self.client is None:
            raise LocalCloudError("the local cloud is not started")
        return self.client

    # ------------------------------------------------------------------ what the parts call back

    def _publish_metrics(self, spec: FunctionSpec, text: str) -> None:
        """A function's output → CloudWatch metrics, as CloudWatch Logs does with EMF lines."""
        if '"_aws"' not in text:
            return
        from rps_local.emulator.cloudwatch.emf import publish_emf_lines
        from rps_local.emulator.moto_hooks import CloudWatchMetrics

        publish_emf_lines(text, CloudWatchMetrics(spec.account_id, spec.region), source=spec.log_group)

    def _invoke_for_http(self, logical_id: str, event: dict[str, Any]) -> Any:
        """A route's function, called straight from the HTTP API as API Gateway calls Lambda, not through the
        Invoke API's HTTP round trip (boto3 → moto's server): the same worker, logs and metrics."""
        from rps_local.emulator import moto_hooks

        if self._runtime is None or self.deployment is None:
            raise LocalCloudError("the local cloud is not started")
        name = self.deployment.functions.get(logical_id)
        if name is None:
            raise LocalCloudError(f"{logical_id}: no such function in the deployed stack")
        outcome = moto_hooks.invoke_function(name, event, self._runtime.invoke)
        try:
            payload = json.loads(outcome.payload) if outcome.payload else None
        except json.JSONDecodeError:
            payload = outcome.payload
        if outcome.errored:
            raise FunctionError(f"{logical_id}: {payload}")
        return payload

    def _fire(self, rule: Rule, event: Any) -> None:
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
