"""The executions page's view models: the list (name, status, start, duration, trigger) and one execution's
states, each with its status, duration, input and output, Map iterations summarised, and the failure.

Pure functions of ListExecutions / DescribeExecution items, the ASL definition and the execution history,
so they are tested without a cloud. The failing state and its error come from
``rps_local.emulator.stepfunctions.executions`` (what ``rps run`` prints), not from a second reading of the history.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rps_local.emulator.stepfunctions.executions import failure_of, short_cause

__all__ = [
    "ExecutionDetail",
    "ExecutionRow",
    "MapSummary",
    "StateRun",
    "execution_detail",
    "execution_row",
    "trigger_of",
]

NOT_RUN, RUNNING, SUCCEEDED, FAILED, CAUGHT = "NOT_RUN", "RUNNING", "SUCCEEDED", "FAILED", "CAUGHT"
_FAILURES = ("TaskFailed", "LambdaFunctionFailed", "LambdaFunctionTimedOut", "TaskTimedOut", "MapRunFailed")
_SCHEDULE_SOURCES = ("aws.events", "aws.scheduler")


@dataclass(frozen=True)
class ExecutionRow:
    name: str
    arn: str
    status: str
    start: datetime
    stop: datetime | None
    trigger: str  # schedule, drift or manual

    def duration_s(self, now: datetime) -> float:
        return ((self.stop or now) - self.start).total_seconds()


@dataclass
class MapSummary:
    total: int = 0
    succeeded: int = 0
    quarantined: int = 0
    failed: int = 0
    running: int = 0

    @property
    def label(self) -> str:
        parts = [f"{self.succeeded} succeeded", f"{self.quarantined} quarantined", f"{self.failed} failed"]
        return " / ".join(parts) + (f" / {self.running} running" if self.running else "")


@dataclass
class StateRun:
    """What one state did in an execution (summed over a Map's iterations for the states inside it)."""

    name: str
    status: str = NOT_RUN
    entered: int = 0
    seconds: float = 0.0  # the longest single run (a Map's iterations run side by side)
    inputs: list[Any] = field(default_factory=list)
    outputs: list[Any] = field(default_factory=list)
    error: str | None = None
    cause: str | None = None
    caught: int = 0  # task failures a Retry or Catch handled
    iterations: MapSummary | None = None
    in_child_executions: bool = False  # inside a Distributed Map: its runs are in the child executions


@dataclass
class ExecutionDetail:
    row: ExecutionRow
    definition: dict[str, Any]
    states: dict[str, StateRun]
    input: Any = None
    output: Any = None
    error: str | None = None
    cause: str | None = None
    failed_state: str | None = None

    @property
    def short_cause(self) -> str:
        return short_cause(self.cause, limit=600)


def trigger_of(name: str, execution_input: Any) -> str:
    """schedule (an EventBridge or Scheduler event), drift (the monitor's ``drift-...`` runs) or manual."""
    if name.startswith("drift-"):
        return "drift"
    if isinstance(execution_input, dict) and (
        execution_input.get("source") in _SCHEDULE_SOURCES or "detail-type" in execution_input
    ):
        return "schedule"
    return "manual"


def execution_row(item: dict[str, Any], described: dict[str, Any] | None = None) -> ExecutionRow:
    """A row from a ListExecutions item; ``described`` (DescribeExecution) gives the input, thus the trigger."""
    execution_input = _json((described or {}).get("input"))
    return ExecutionRow(
        name=item["name"],
        arn=item["executionArn"],
        status=(described or item)["status"],
        start=item["startDate"],
        stop=(described or item).get("stopDate"),
        trigger=trigger_of(item["name"], execution_input),
    )


MapResultsReader = Callable[[str, str], list[dict[str, Any]]]  # (bucket, manifest key) → per-location results


def execution_detail(
    described: dict[str, Any],
    definition: dict[str, Any],
    history: list[dict[str, Any]],
    map_results: MapResultsReader | None = None,
) -> ExecutionDetail:
    row = execution_row(described, described)
    states = {name: StateRun(name) for name in state_names(definition)}
    _apply_history(states, history, definition)
    if map_results is not None:
        _apply_map_results(states, definition, map_results)
    detail = ExecutionDetail(row, definition, states, _json(described.get("input")), _json(described.get("output")))
    if row.status not in (RUNNING, SUCCEEDED):
        error, cause, state = failure_of(history)
        detail.error = described.get("error") or error
        detail.cause = described.get("cause") or cause
        detail.failed_state = state
        if state in states:  # the error that ended the run was not caught there
            states[state].status = FAILED
            states[state].caught = max(0, states[state].caught - 1)
    return detail


def state_names(scope: dict[str, Any]) -> list[str]:
    """Every state of the definition, inner scopes (Map, Parallel) included, in definition order."""
    names: list[str] = []
    for name, state in (scope.get("States") or {}).items():
        names.append(name)
        for inner in inner_scopes(state):
            names.extend(state_names(inner))
    return names


def inner_scopes(state: dict[str, Any]) -> list[dict[str, Any]]:
    scopes = [state[k] for k in ("ItemProcessor", "Iterator") if isinstance(state.get(k), dict)]
    return scopes + [b for b in state.get("Branches") or [] if isinstance(b, dict)]


def _apply_history(states: dict[str, StateRun], history: list[dict[str, Any]], definition: dict[str, Any]) -> None:
    by_id = {event["id"]: event for event in history}
    open_since: dict[tuple[str, int | None], datetime] = {}
    iteration = _iterations(history)
    maps: dict[str, dict[int, str]] = {}  # Map state → {iteration index: outcome}
    for event in history:
        kind, details = event["type"], _details(event)
        where = iteration.get(event["id"])
        if kind.endswith("StateEntered"):
            run = states.setdefault(details.get("name", "?"), StateRun(details.get("name", "?")))
            run.entered += 1
            run.inputs.append(_json(details.get("input")))
            open_since[(run.name, where)] = event["timestamp"]
        elif kind.endswith("StateExited"):
            run = states.setdefault(details.get("name", "?"), StateRun(details.get("name", "?")))
            started = open_since.pop((run.name, where), event["timestamp"])
            run.seconds = max(run.seconds, (event["timestamp"] - started).total_seconds())
            run.outputs.append(_json(details.get("output")))
        elif kind in _FAILURES:
            state = _state_of(event, by_id)
            if state in states:
                states[state].error, states[state].cause = details.get("error"), details.get("cause")
                states[state].caught += 1  # FAILED instead when the execution failed there (execution_detail)
        elif kind == "MapIterationStarted":
            maps.setdefault(details.get("name", "?"), {})[details.get("index", 0)] = RUNNING
        elif kind in ("MapIterationSucceeded", "MapIterationFailed", "MapIterationAborted"):
            name, index = details.get("name", "?"), details.get("index", 0)
            maps.setdefault(name, {})[index] = SUCCEEDED if kind == "MapIterationSucceeded" else FAILED
    still_open = {name for name, _ in open_since}
    for run in states.values():
        if run.name in still_open:
            run.status = RUNNING
        elif run.caught:
            run.status = CAUGHT
        elif run.outputs:
            run.status = SUCCEEDED
    for name, outcomes in maps.items():
        if name in states:
            states[name].iterations = _map_summary(name, outcomes, states, definition)


def _iterations(history: list[dict[str, Any]]) -> dict[int, int]:
    """Event id → index of the Map iteration it belongs to (events chain by previousEventId)."""
    found: dict[int, int] = {}
    for event in history:
        kind = event["type"]
        if kind.startswith("MapState") or (kind.startswith("MapIteration") and kind != "MapIterationStarted"):
            continue
        details = event.get("mapIterationStartedEventDetails")
        if details is not None:
            found[event["id"]] = details.get("index", 0)
        elif event.get("previousEventId") in found:
            found[event["id"]] = found[event["previousEventId"]]
    return found


def _state_of(event: dict[str, Any], by_id: dict[int, dict[str, Any]]) -> str | None:
    """The state an event happened in: the nearest StateEntered up its previousEventId chain."""
    current: dict[str, Any] | None = event
    for _ in range(10_000):
        if current is None:
            return None
        if current["type"].endswith("StateEntered"):
            return _details(current).get("name")
        current = by_id.get(current.get("previousEventId", 0))
    return None


def _map_summary(
    name: str, outcomes: dict[int, str], states: dict[str, StateRun], definition: dict[str, Any]
) -> MapSummary:
    """n succeeded / quarantined / failed: a succeeded iteration whose result says ``quarantined`` counts as
    quarantined (the inline-Map pipeline's WindowRejected Pass state)."""
    quarantined = _quarantined_count(name, states, definition)
    summary = MapSummary(total=len(outcomes))
    for outcome in outcomes.values():
        if outcome == SUCCEEDED:
            summary.succeeded += 1
        elif outcome == FAILED:
            summary.failed += 1
        else:
            summary.running += 1
    moved = min(quarantined, summary.succeeded)
    summary.succeeded -= moved
    summary.quarantined = moved
    return summary


def _apply_map_results(states: dict[str, StateRun], definition: dict[str, Any], read: MapResultsReader) -> None:
    """A Distributed Map's iterations are child executions, absent from this history: its summary comes from
    the results its ResultWriter wrote (the manifest's address is in the Map's output, at its ResultPath)."""
    for name in state_names(definition):
        state = _find_state(definition, name) or {}
        run = states.get(name)
        if state.get("Type") != "Map" or "ResultWriter" not in state or run is None or not run.outputs:
            continue
        details = _at_path(run.outputs[-1], str(state.get("ResultPath", "$")))
        if isinstance(details, dict):
            details = details.get("ResultWriterDetails", details)
        if not (isinstance(details, dict) and details.get("Bucket") and details.get("Key")):
            continue
        results = read(str(details["Bucket"]), str(details["Key"]))
        quarantined = sum(1 for r in results if r.get("quarantined") is True)
        failed = sum(1 for r in results if r.get("failed") is True)
        run.iterations = MapSummary(len(results), len(results) - quarantined - failed, quarantined, failed)
        for inner in (n for scope in inner_scopes(state) for n in state_names(scope)):
            states[inner].in_child_executions = True


def _at_path(value: Any, path: str) -> Any:
    """``value`` at a plain JSONPath such as ``$.map_results`` (no wildcards or indexes: ResultPath's form)."""
    for part in [p for p in path.removeprefix("$").split(".") if p]:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _quarantined_count(name: str, states: dict[str, StateRun], definition: dict[str, Any]) -> int:
    state = _find_state(definition, name) or {}
    inner = {n for scope in inner_scopes(state) for n in state_names(scope)}
    return sum(
        1
        for n in inner
        for output in states.get(n, StateRun(n)).outputs
        if isinstance(output, dict) and output.get("quarantined") is True
    )


def _find_state(scope: dict[str, Any], name: str) -> dict[str, Any] | None:
    for key, state in (scope.get("States") or {}).items():
        if key == name:
            return state
        for inner in inner_scopes(state):
            if (found := _find_state(inner, name)) is not None:
                return found
    return None


def _details(event: dict[str, Any]) -> dict[str, Any]:
    return next((v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text
