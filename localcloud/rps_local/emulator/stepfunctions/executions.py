"""Following an execution: each state as it enters and leaves, with durations, from the execution
history (``rps run``, the demo), and the failing state's error and cause when it fails."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rps_local.emulator.client import CloudClient

__all__ = ["ExecutionReport", "failure_of", "follow_execution"]

_FAILED = ("TaskFailed", "LambdaFunctionFailed", "LambdaFunctionTimedOut", "ExecutionFailed", "MapRunFailed")


@dataclass
class ExecutionReport:
    arn: str
    status: str
    output: Any = None
    error: str | None = None
    cause: str | None = None
    failed_state: str | None = None
    states: list[tuple[str, float]] = field(default_factory=list)  # (state, seconds) in exit order
    duration_s: float | None = None  # start to stop (to now while it runs), from describe_execution

    @property
    def name(self) -> str:
        return self.arn.rsplit(":", 1)[-1]

    def summary(self) -> str:
        """One line: ``SUCCEEDED run-... in 35.2 s``."""
        took = f" in {self.duration_s:.1f} s" if self.duration_s is not None else ""
        return f"{self.status} {self.name}{took}"


def follow_execution(
    client: CloudClient,
    arn: str,
    emit: Callable[[str], None] = print,
    *,
    timeout_s: float = 1800.0,
    poll_s: float = 0.25,
) -> ExecutionReport:
    """Stream states as lines through ``emit`` until the execution ends; return what happened."""
    seen = 0
    entered: dict[str, list[datetime]] = {}
    iteration: dict[int, int] = {}  # event id → the Map iteration it belongs to
    report = ExecutionReport(arn=arn, status="RUNNING")
    deadline = time.monotonic() + timeout_s
    while True:
        described = client.describe_execution(arn)  # before the history, so no event is missed at the end
        events = client.history(arn)
        for event in events[seen:]:
            _render(event, _label(event, iteration), entered, report, emit)
        seen = len(events)
        if described["status"] != "RUNNING":
            break
        if time.monotonic() > deadline:
            emit(f"still RUNNING after {timeout_s:.0f} s; stopped following")
            break
        time.sleep(poll_s)
    report.status = described["status"]
    report.duration_s = _duration_s(described)
    if "output" in described:
        report.output = json.loads(described["output"])
    if report.status != "SUCCEEDED":
        error, cause, state = failure_of(events)
        report.error = described.get("error") or error
        report.cause = described.get("cause") or cause
        report.failed_state = state
    return report


def _duration_s(described: dict[str, Any]) -> float | None:
    started, stopped = described.get("startDate"), described.get("stopDate")
    if not isinstance(started, datetime):
        return None
    if not isinstance(stopped, datetime):
        stopped = datetime.now(started.tzinfo)
    return max(0.0, (stopped - started).total_seconds())


def failure_of(events: list[dict[str, Any]]) -> tuple[str | None, str | None, str | None]:
    """The (error, cause, state) of a failed history: the last state entered (a task whose error was not
    caught, or the Fail state it led to), with the last failure's error and cause."""
    state = error = cause = None
    for event in events:
        details = next((v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})
        if event["type"].endswith("StateEntered"):
            state = details.get("name")
        if event["type"] in _FAILED:
            error, cause = details.get("error"), details.get("cause")
    return error, cause, state


def short_cause(cause: str | None, limit: int = 300) -> str:
    """A Lambda error's message rather than its whole JSON (stack trace included), cut at ``limit``."""
    if not cause:
        return ""
    try:
        parsed = json.loads(cause)
        if isinstance(parsed, dict) and "errorMessage" in parsed:
            cause = str(parsed["errorMessage"])
    except (json.JSONDecodeError, TypeError):
        pass
    return cause if len(cause) <= limit else cause[: limit - 1] + "…"


_ITERATION_ENDS = ("MapIterationSucceeded", "MapIterationFailed", "MapIterationAborted")


def _label(event: dict[str, Any], iteration: dict[int, int]) -> str:
    """`` [i]`` for an event inside iteration i of a Map (events chain by previousEventId)."""
    if event["type"].startswith("MapState") or event["type"] in _ITERATION_ENDS:
        return ""  # the Map itself, and what follows it, belong to no iteration
    details = event.get("mapIterationStartedEventDetails")
    if details is not None:
        iteration[event["id"]] = details.get("index", 0)
    elif event.get("previousEventId") in iteration:
        iteration[event["id"]] = iteration[event["previousEventId"]]
    return f" [{iteration[event['id']]}]" if event["id"] in iteration else ""


def _render(
    event: dict[str, Any],
    label: str,
    entered: dict[str, list[datetime]],
    report: ExecutionReport,
    emit: Callable[[str], None],
) -> None:
    kind, stamp = event["type"], event["timestamp"]
    if kind.endswith("StateEntered"):
        name = event["stateEnteredEventDetails"]["name"] + label
        entered.setdefault(name, []).append(stamp)
        emit(f"  → {name}")
    elif kind.endswith("StateExited"):
        name = event["stateExitedEventDetails"]["name"] + label
        starts = entered.get(name) or [stamp]
        seconds = (stamp - starts.pop(0)).total_seconds()
        report.states.append((name, seconds))
        emit(f"  ✓ {name} {seconds:.2f} s")
    elif kind in ("LambdaFunctionFailed", "TaskFailed", "LambdaFunctionTimedOut"):
        details = next((v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})
        emit(f"  ✗{label} {details.get('error', kind)}: {short_cause(details.get('cause'))}")
