"""The template's EventBridge schedules, fired locally as EventBridge fires them (moto fires none).

``rules_from_template`` reads ``Schedule`` events of SAM functions and state machines, or the
``AWS::Events::Rule`` resources SAM turns them into; ``ScheduleRunner`` fires each enabled rule at its
times on a background thread with the event AWS sends, and ``fire_now`` fires one on request.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from rps_local.emulator.errors import LocalCloudError
from rps_local.emulator.eventbridge.expressions import Cron, Rate, parse_schedule

__all__ = ["Clock", "Rule", "ScheduleError", "ScheduleRunner", "rules_from_template", "scheduled_event"]

logger = logging.getLogger(__name__)

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"  # moto's default account
_KINDS = {
    "AWS::Serverless::Function": "function",
    "AWS::Lambda::Function": "function",
    "AWS::Serverless::StateMachine": "state_machine",
    "AWS::StepFunctions::StateMachine": "state_machine",
}


class ScheduleError(LocalCloudError):
    """A schedule in the template cannot be run locally, or no schedule has the name asked for."""


class Clock(Protocol):
    def time(self) -> float: ...


@dataclass(frozen=True)
class Rule:
    """One scheduled rule and one of its targets (a rule with several targets gives one Rule each)."""

    logical_id: str  # the AWS::Events::Rule's logical id; SAM's is the resource's id + the event's name
    event_name: str  # the SAM event's name (PipelineSchedule), or the logical id for a plain rule
    name: str  # the rule's physical name
    arn: str
    expression: str
    schedule: Rate | Cron
    target: str  # the target's logical id
    target_kind: str  # "function" or "state_machine"
    input: str | None = None  # a constant Input (JSON text) replaces the scheduled event
    enabled: bool = True

    def names(self) -> set[str]:
        return {self.event_name, self.logical_id, self.name}

    def event(self, when: datetime) -> Any:
        """What the target receives when the rule fires at ``when``."""
        if self.input is not None:
            return json.loads(self.input)
        return scheduled_event(self.arn, when)


def scheduled_event(rule_arn: str, when: datetime) -> dict[str, Any]:
    """EventBridge's "Scheduled Event" for a rule firing at ``when``."""
    _, _, _, region, account, _ = rule_arn.split(":", 5)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


# ---------------------------------------------------------------- rules from the template


def rules_from_template(
    template: Mapping[str, Any],
    parameters: Mapping[str, str] | None = None,
    *,
    region: str = DEFAULT_REGION,
    account: str = DEFAULT_ACCOUNT,
    stack_name: str = "rps",
    physical_names: Mapping[str, str] | None = None,
) -> list[Rule]:
    """The scheduled rules of a SAM template or of its translation; ``parameters`` override Defaults, and
    ``physical_names`` (logical id → name, from the deployed stack) the names CloudFormation would make."""
    resources = template.get("Resources") or {}
    found: list[Rule] = []

    def rule(logical_id: str, event_name: str, props: Mapping[str, Any], target: str, **extra: Any) -> Rule:
        expression = _resolve(props.get("Schedule", props.get("ScheduleExpression")), template, parameters, logical_id)
        name = props.get("Name") if isinstance(props.get("Name"), str) else f"{stack_name}-{logical_id}"[:64]
        name = (physical_names or {}).get(logical_id, name)
        state = props.get("State", "ENABLED")
        enabled = props.get("Enabled", True) is not False and state != "DISABLED"
        try:
            schedule = parse_schedule(expression)
        except ValueError as exc:
            raise ScheduleError(f"{logical_id}: {exc}") from None
        kind = _target_kind(resources, target, logical_id)
        return Rule(
            logical_id,
            event_name,
            name,
            f"arn:aws:events:{region}:{account}:rule/{name}",
            expression,
            schedule,
            target,
            kind,
            enabled=enabled,
            **extra,
        )

    for logical_id, resource in resources.items():
        if not isinstance(resource, Mapping):
            continue
        props = resource.get("Properties") or {}
        if resource.get("Type") in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine"):
            for event_name, event in (props.get("Events") or {}).items():
                if isinstance(event, Mapping) and event.get("Type") == "ScheduleV2":
                    _not_fired(f"{logical_id}.Events.{event_name}")
                if isinstance(event, Mapping) and event.get("Type") == "Schedule":
                    event_props = event.get("Properties") or {}
                    found.append(
                        rule(
                            f"{logical_id}{event_name}",
                            event_name,
                            event_props,
                            logical_id,
                            input=_input(event_props.get("Input"), logical_id),
                        )
                    )
        elif resource.get("Type") == "AWS::Events::Rule" and "ScheduleExpression" in props:
            for target in props.get("Targets") or []:
                target_id = _target_id(target.get("Arn"), logical_id)
                if "InputPath" in target or "InputTransformer" in target:
                    raise ScheduleError(f"{logical_id}: InputPath and InputTransformer are not run locally")
                event_name = logical_id[len(target_id) :] if logical_id.startswith(target_id) else logical_id
                found.append(
                    rule(
                        logical_id,
                        event_name or logical_id,
                        props,
                        target_id,
                        input=_input(target.get("Input"), logical_id),
                    )
                )
        elif resource.get("Type") == "AWS::Scheduler::Schedule":
            _not_fired(logical_id)
    return found


def _not_fired(where: str) -> None:
    # EventBridge Scheduler (SAM's ScheduleV2) is not emulated: say so rather than stay silent
    logger.warning("%s: EventBridge Scheduler schedules are not fired by the local cloud; use Type: Schedule", where)


def _resolve(value: Any, template: Mapping[str, Any], parameters: Mapping[str, str] | None, where: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and set(value) == {"Ref"}:
        name = value["Ref"]
        if parameters and name in parameters:
            return str(parameters[name])
        declared = (template.get("Parameters") or {}).get(name)
        if isinstance(declared, Mapping) and "Default" in declared:
            return str(declared["Default"])
        raise ScheduleError(f"{where}: the schedule refers to parameter {name!r}, which has no value")
    raise ScheduleError(f"{where}: cannot read the schedule expression {value!r}")


def _input(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ScheduleError(f"{where}: Input must be JSON text")
    try:
        json.loads(value)
    except json.JSONDecodeError as exc:
        raise ScheduleError(f"{where}: Input is not valid JSON: {exc}") from None
    return value


def _target_id(arn: Any, where: str) -> str:
    if isinstance(arn, Mapping):
        if "Ref" in arn:
            return str(arn["Ref"])
        if "Fn::GetAtt" in arn:
            target = arn["Fn::GetAtt"]
            return str(target.split(".")[0] if isinstance(target, str) else target[0])
    raise ScheduleError(f"{where}: the target {arn!r} is not a resource of the template")


def _target_kind(resources: Mapping[str, Any], target: str, where: str) -> str:
    kind = _KINDS.get((resources.get(target) or {}).get("Type", ""))
    if kind is None:
        raise ScheduleError(f"{where}: the target {target} is not a function or a state machine")
    return kind


# ---------------------------------------------------------------- firing


Fire = Callable[[Rule, Any], None]


class ScheduleRunner:
    """Fires each enabled rule at its times on a background thread, calling ``fire(rule, event)``.

    ``fire`` should return quickly (start the execution, invoke asynchronously), as EventBridge hands
    events on without waiting. A rate counts from when the runner started, as from a rule's creation.
    After a jump of the clock, a rule fires once, not once per missed time.
    """

    def __init__(self, rules: Iterable[Rule], fire: Fire, clock: Clock = time, *, max_sleep: float = 30.0) -> None:
        self._fire, self._clock, self._max_sleep = fire, clock, max_sleep
        self._lock = threading.Lock()
        self._wake, self._stopped = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self._rules: list[Rule] = []
        self._due: dict[Rule, datetime | None] = {}
        self._anchor: dict[Rule, datetime] = {}
        self.set_rules(rules)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.time(), UTC)

    @property
    def rules(self) -> list[Rule]:
        return list(self._rules)

    def set_rules(self, rules: Iterable[Rule]) -> None:
        """Replace the rules (after a redeploy); a rule that did not change keeps its times."""
        now = self.now()
        with self._lock:
            self._rules = list(rules)
            self._anchor = {r: self._anchor.get(r, now) for r in self._rules}
            self._due = {r: self._due[r] if r in self._due else self._next(r, now) for r in self._rules}
        self._wake.set()

    def _next(self, rule: Rule, after: datetime) -> datetime | None:
        if not rule.enabled:
            return None
        return rule.schedule.next_fire(after, self._anchor[rule])

    def next_fire_times(self) -> dict[str, datetime | None]:
        """Each rule's next time, by its event name (None: disabled, or its cron has run out)."""
        with self._lock:
            return {r.event_name: self._due[r] for r in self._rules}

    def run_pending(self) -> list[tuple[Rule, Any]]:
        """Fire every rule that is due now; returns what was fired. A failing ``fire`` is logged."""
        now = self.now()
        with self._lock:
            due = [(r, when) for r, when in self._due.items() if when is not None and when <= now]
            for rule, when in due:
                self._due[rule] = self._next(rule, max(when, now))
        fired = []
        for rule, when in due:
            event = rule.event(when)
            logger.info("schedule %s fires %s %s", rule.event_name, rule.target_kind, rule.target)
            try:
                self._fire(rule, event)
            except Exception:
                logger.exception("schedule %s: firing %s failed", rule.event_name, rule.target)
            fired.append((rule, event))
        return fired

    def fire_now(self, name: str) -> list[tuple[Rule, Any]]:
        """Fire the rules named ``name`` (event name, logical id or rule name) now, enabled or not.

        Unlike the timer, errors from ``fire`` reach the caller, who asked for this firing.
        """
        chosen = [r for r in self._rules if name in r.names()]
        if not chosen:
            known = ", ".join(sorted({r.event_name for r in self._rules})) or "none"
            raise ScheduleError(f"no schedule named {name!r} (schedules: {known})")
        now = self.now().replace(microsecond=0)
        fired = []
        for rule in chosen:
            event = rule.event(now)
            self._fire(rule, event)
            fired.append((rule, event))
        return fired

    def start(self) -> ScheduleRunner:
        if self._thread is None:
            self._stopped.clear()
            self._thread = threading.Thread(target=self._loop, name="schedules", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        self._stopped.set()
        self._wake.set()
        if thread is not None:
            thread.join(timeout=5)

    def wake(self) -> None:
        """Look at the clock again now (a test's fake clock moved, or rules changed)."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stopped.is_set():
            self.run_pending()
            with self._lock:
                upcoming = [w for w in self._due.values() if w is not None]
            delay = (min(upcoming) - self.now()).total_seconds() if upcoming else self._max_sleep
            self._wake.wait(min(max(delay, 0.0), self._max_sleep))
            self._wake.clear()

    def __enter__(self) -> ScheduleRunner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
