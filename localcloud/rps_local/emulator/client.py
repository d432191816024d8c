"""A client of a running local cloud, through plain boto3 (the same calls work against AWS): invoke a
function by its logical ID, start and follow executions. Used by the CLI, the demo, the tests and
``LocalCloud`` itself."""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import boto3
from botocore.config import Config

from rps_local.emulator.errors import LocalCloudError

__all__ = ["CloudClient", "FunctionError", "InvokeResult"]

REGION = "us-east-1"


@dataclass(frozen=True)
class InvokeResult:
    """A function's response: ``payload`` (parsed JSON), ``function_error`` set when the function failed."""

    payload: Any
    function_error: str | None
    log_tail: str

    @property
    def error_type(self) -> str | None:
        if self.function_error and isinstance(self.payload, dict):
            return self.payload.get("errorType")
        return None


class FunctionError(LocalCloudError):
    """A function invocation ended in a function error (raised where a caller wants a plain result)."""


class CloudClient:
    """boto3 clients of a running local cloud, and the calls the CLI and the tests make with them.

    ``via_localstack_client``: make the clients with LocalStack's own Python client
    (``localstack_client.session.Session``, pointed at this cloud with ``localstack_host``) wherever it
    knows the service, as a LocalStack user's code would; the integration tests do, so that package is
    exercised against the cloud for real.
    """

    def __init__(self, aws_endpoint_url: str, stack_name: str = "rps", *, via_localstack_client: bool = False) -> None:
        self.endpoint_url = aws_endpoint_url
        self.stack_name = stack_name
        creds = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}  # moto accepts any
        self.session = boto3.session.Session(region_name=REGION, **creds)
        self.localstack_session: Any = None
        self.localstack_services: frozenset[str] = frozenset()  # the services LocalStack's client knows
        if via_localstack_client:
            from localstack_client.config import get_service_endpoints
            from localstack_client.session import Session as LocalStackSession

            host = urllib.parse.urlsplit(aws_endpoint_url).netloc  # localhost:PORT
            self.localstack_session = LocalStackSession(region_name=REGION, localstack_host=host, **creds)
            self.localstack_services = frozenset(get_service_endpoints(localstack_host=host))
        self._physical: dict[str, str] = {}

    def client(self, service: str, **config: Any) -> Any:
        # no retries: a local error should surface at once, not after botocore's backoff
        options = Config(retries={"total_max_attempts": 1}, read_timeout=config.pop("read_timeout", 60), **config)
        if service in self.localstack_services:
            return self.localstack_session.client(service, config=options)
        return self.session.client(service, endpoint_url=self.endpoint_url, config=options)

    @cached_property
    def _lambda(self) -> Any:
        return self.client("lambda", read_timeout=960)  # above Lambda's 900 s maximum timeout

    @cached_property
    def _sfn(self) -> Any:
        return self.client("stepfunctions")

    def physical_id(self, logical_id: str) -> str:
        if logical_id not in self._physical:
            self._physical = self.resources()
        if logical_id not in self._physical:
            known = ", ".join(sorted(self._physical)) or "none"
            raise LocalCloudError(f"no resource {logical_id!r} in stack {self.stack_name} (resources: {known})")
        return self._physical[logical_id]

    def forget(self) -> None:
        """Drop cached physical ids (after a redeploy)."""
        self._physical.clear()

    def resources(self, resource_type: str | None = None) -> dict[str, str]:
        cfn = self.client("cloudformation")
        out = {}
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName=self.stack_name):
            for item in page["StackResourceSummaries"]:
                if resource_type is None or item["ResourceType"] == resource_type:
                    out[item["LogicalResourceId"]] = item.get("PhysicalResourceId", "")
        return out

    def invoke(self, logical_id: str, event: Any) -> InvokeResult:
        response = self._lambda.invoke(
            FunctionName=self.physical_id(logical_id), Payload=json.dumps(event).encode(), LogType="Tail"
        )
        raw = response["Payload"].read().decode()
        try:
            payload = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            payload = raw
        tail = base64.b64decode(response.get("LogResult", "") or b"").decode(errors="replace")
        return InvokeResult(payload=payload, function_error=response.get("FunctionError"), log_tail=tail)

    def state_machine_arn(self, logical_id: str | None = None) -> str:
        if logical_id:
            return self.physical_id(logical_id)
        machines = self.resources("AWS::StepFunctions::StateMachine")
        if len(machines) != 1:
            raise LocalCloudError(
                f"stack {self.stack_name} has {len(machines)} state machines: name one "
                f"({', '.join(machines) or 'none'})"
            )
        return next(iter(machines.values()))

    def start_execution(self, payload: Any = None, *, state_machine: str | None = None, name: str | None = None) -> str:
        name = name or time.strftime("run-%Y%m%dT%H%M%S-", time.gmtime()) + uuid.uuid4().hex[:8]
        response = self._sfn.start_execution(
            stateMachineArn=self.state_machine_arn(state_machine),
            name=name,
            input=json.dumps({} if payload is None else payload),
        )
        return response["executionArn"]

    def describe_execution(self, arn: str) -> dict[str, Any]:
        return self._sfn.describe_execution(executionArn=arn)

    def history(self, arn: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
        while True:
            page = self._sfn.get_execution_history(**kwargs)
            events.extend(page["events"])
            if not page.get("nextToken"):
                return events
            kwargs["nextToken"] = page["nextToken"]

    def wait_execution(self, arn: str, timeout_s: float = 900.0, poll_s: float = 0.2) -> dict[str, Any]:
        """The execution once it has ended; past ``timeout_s``, an error naming the states still running."""
        deadline = time.monotonic() + timeout_s
        while True:
            described = self.describe_execution(arn)
            if described["status"] != "RUNNING":
                return described
            if time.monotonic() > deadline:
                running = ", ".join(f"{name} for {seconds:.0f} s" for name, seconds in self.running_states(arn))
                raise LocalCloudError(
                    f"execution {described.get('name', arn)} still RUNNING after {timeout_s:.0f} s; "
                    f"in {running or 'no state (not started)'}"
                )
            time.sleep(poll_s)

    def running_states(self, arn: str) -> list[tuple[str, float]]:
        """The states entered and not yet left, innermost last, with the seconds since they were entered."""
        open_states: dict[str, list[Any]] = {}
        for event in self.history(arn):
            kind = event["type"]
            if kind.endswith("StateEntered"):
                details = event.get("stateEnteredEventDetails", {})
                open_states.setdefault(details.get("name", "?"), []).append(event["timestamp"])
            elif kind.endswith("StateExited"):
                stack = open_states.get(event.get("stateExitedEventDetails", {}).get("name", "?"))
                if stack:
                    stack.pop()
        now = time.time()
        running = [(name, now - stack[-1].timestamp()) for name, stack in open_states.items() if stack]
        return sorted(running, key=lambda item: -item[1])
