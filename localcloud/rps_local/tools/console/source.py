"""What the console reads, and the only place it reads from: the running cloud through plain boto3 (Step
Functions, S3, CloudWatch, CloudFormation), MLflow's REST API, and template.yaml.

Reads are cached: objects that never change once written (a finished execution, a forecast document,
a drift report, a quarantined window's metadata) for the life of the server; everything else for a few
seconds, so a page and its polls stay fast with a year of data and dozens of executions.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from rps_local.emulator.client import CloudClient

__all__ = ["ConsoleSource", "TtlCache"]

T = TypeVar("T")
FOREVER = float("inf")
SHORT_S = 3.0  # listings and states that change while the cloud runs
STACK_S = 60.0  # the stack's resources: they change only with a deploy that adds or replaces one
MLFLOW_TIMEOUT_S = 2.0


class TtlCache:
    """A dict of values with an expiry each; ``get`` computes a missing or expired value once."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._values: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, ttl_s: float, compute: Callable[[], T]) -> T:
        with self._lock:
            found = self._values.get(key)
        if found is not None and found[0] > self._clock():
            return found[1]
        value = compute()
        self.put(key, ttl_s, value)
        return value

    def put(self, key: Any, ttl_s: float, value: Any) -> None:
        with self._lock:
            self._values[key] = (self._clock() + ttl_s, value)


class ConsoleSource:
    """The running cloud as the console sees it. ``endpoints`` are those of ``.rps/endpoints.json``."""

    def __init__(
        self, endpoints: dict[str, Any], template_path: Path | None = None, parameters: dict[str, str] | None = None
    ) -> None:
        self.endpoints = endpoints
        self.parameters = dict(parameters or {})  # the deployment's parameter overrides
        self.client = CloudClient(endpoints["aws_endpoint_url"], endpoints.get("stack_name", "rps"))
        self.template_path = Path(template_path or endpoints.get("template") or "template.yaml")
        self.mlflow_uri: str | None = endpoints.get("mlflow_tracking_uri")
        self.cache = TtlCache()
        self._clients: dict[str, Any] = {}

    def aws(self, service: str) -> Any:
        if service not in self._clients:  # boto3 clients are thread-safe once made; making one is not cheap
            self._clients[service] = self.client.client(service, read_timeout=10)
        return self._clients[service]

    # ---------------------------------------------------------------- stack

    def resources(self) -> dict[str, str]:
        return self.cache.get("resources", STACK_S, self.client.resources)

    def physical_id(self, logical_id: str) -> str | None:
        return self.resources().get(logical_id)

    def state_machine_arn(self) -> str | None:
        machines = self.cache.get(
            "machines", STACK_S, lambda: self.client.resources("AWS::StepFunctions::StateMachine")
        )
        return next(iter(machines.values()), None)

    # ---------------------------------------------------------------- Step Functions

    def definition(self, arn: str) -> dict[str, Any]:
        described = self.cache.get(
            ("machine", arn), SHORT_S, lambda: self.aws("stepfunctions").describe_state_machine(stateMachineArn=arn)
        )
        return json.loads(described["definition"])

    def executions(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest ``limit`` executions of the pipeline, newest first (ListExecutions' items)."""
        arn = self.state_machine_arn()
        if arn is None:
            return []

        def fetch() -> list[dict[str, Any]]:
            items: list[dict[str, Any]] = []
            kwargs: dict[str, Any] = {"stateMachineArn": arn, "maxResults": min(limit, 1000)}
            while len(items) < limit:
                page = self.aws("stepfunctions").list_executions(**kwargs)
                items.extend(page["executions"])
                if not page.get("nextToken"):
                    break
                kwargs["nextToken"] = page["nextToken"]
            return sorted(items, key=lambda e: e["startDate"], reverse=True)[:limit]

        return self.cache.get(("executions", limit), 1.0, fetch)

    def describe(self, execution_arn: str) -> dict[str, Any]:
        """DescribeExecution; an ended execution never changes, so it is kept."""
        key = ("describe", execution_arn)
        described = self.cache.get(
            key, 0.5, lambda: self.aws("stepfunctions").describe_execution(executionArn=execution_arn)
        )
        if described["status"] != "RUNNING":
            self.cache.put(key, FOREVER, described)
        return described

    def history(self, execution_arn: str, ended: bool) -> list[dict[str, Any]]:
        return self.cache.get(
            ("history", execution_arn), FOREVER if ended else 0.5, lambda: self.client.history(execution_arn)
        )

    # ---------------------------------------------------------------- S3

    def keys(self, bucket: str, prefix: str, ttl_s: float = SHORT_S) -> list[str]:
        """Every key under ``prefix``, in key order (the project's keys sort by time)."""

        def fetch() -> list[str]:
            paginator = self.aws("s3").get_paginator("list_objects_v2")
            return [
                item["Key"]
                for page in paginator.paginate(Bucket=bucket, Prefix=prefix)
                for item in page.get("Contents", [])
            ]

        return self.cache.get(("keys", bucket, prefix), ttl_s, fetch)

    def prefixes(self, bucket: str, prefix: str) -> list[str]:
        """The next path part of every key under ``prefix`` (e.g. the locations under ``forecasts/location=``)."""

        def fetch() -> list[str]:
            paginator = self.aws("s3").get_paginator("list_objects_v2")
            pages = paginator.paginate(Bucket=bucket, Prefix=prefix, Delimiter="/")
            return sorted(c["Prefix"][len(prefix) :].rstrip("/") for p in pages for c in p.get("CommonPrefixes", []))

        return self.cache.get(("prefixes", bucket, prefix), SHORT_S, fetch)

    def json_object(self, bucket: str, key: str, immutable: bool = True) -> Any:
        """An object's JSON (None when it is missing or not JSON)."""

        def fetch() -> Any:
            try:
                return json.loads(self.aws("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
            except (self.aws("s3").exceptions.NoSuchKey, ValueError):
                return None

        return self.cache.get(("json", bucket, key), FOREVER if immutable else SHORT_S, fetch)

    def metadata(self, bucket: str, key: str) -> dict[str, str]:
        return self.cache.get(
            ("meta", bucket, key),
            FOREVER,
            lambda: self.aws("s3").head_object(Bucket=bucket, Key=key).get("Metadata", {}),
        )

    def text_object(self, bucket: str, key: str) -> str | None:
        def fetch() -> str | None:
            try:
                return self.aws("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode(errors="replace")
            except self.aws("s3").exceptions.NoSuchKey:
                return None

        return self.cache.get(("text", bucket, key), FOREVER, fetch)

    # ---------------------------------------------------------------- MLflow

    def mlflow(self, path: str, query: dict[str, Any] | None = None, ttl_s: float = SHORT_S) -> dict[str, Any] | None:
        """A GET of MLflow's REST API (``/api/2.0/mlflow/...``); None when MLflow is off or does not answer."""
        if not self.mlflow_uri:
            return None
        from urllib.parse import urlencode

        url = f"{self.mlflow_uri}/api/2.0/mlflow/{path}" + (f"?{urlencode(query, doseq=True)}" if query else "")

        def fetch() -> dict[str, Any] | None:
            try:
                with urllib.request.urlopen(url, timeout=MLFLOW_TIMEOUT_S) as answer:  # noqa: S310 - the cloud's own MLflow
                    return json.loads(answer.read())
            except (urllib.error.URLError, OSError, ValueError):
                return None

        return self.cache.get(("mlflow", url), ttl_s, fetch)

    def mlflow_ui(self, fragment: str) -> str | None:
        """A link into MLflow's UI (``#/experiments/..``, ``#/models/..``)."""
        return f"{self.mlflow_uri}/{fragment}" if self.mlflow_uri else None
