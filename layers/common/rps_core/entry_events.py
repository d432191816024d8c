"""The events that start work, Plan's and Drift's: a schedule's (an EventBridge rule's or EventBridge
Scheduler's ``Scheduled Event``) or the JSON object a person, a script or the drift monitor sends. Each is
parsed once, at the handler's edge, with Powertools' parser models; a bad one is an InvalidEventError that
names the step and every offending field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, TypeVar

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rps_core.errors import InvalidEventError

__all__ = ["BackfillRange", "DriftRequest", "PlanRequest", "ScheduledEvent", "parse_entry_event"]

SCHEDULE_SOURCES = ("aws.events", "aws.scheduler")


class ScheduledEvent(EventBridgeModel):
    """A schedule firing: EventBridge rule (``detail`` ``{}``) or EventBridge Scheduler (``detail`` ``"{}"``)."""

    expected: ClassVar[str] = "a Scheduled Event from aws.events or aws.scheduler"

    source: Literal["aws.events", "aws.scheduler"]
    detail_type: Literal["Scheduled Event"] = Field(alias="detail-type")

    @property
    def fired(self) -> datetime:
        """When the schedule fired, in UTC."""
        return self.time if self.time.tzinfo else self.time.replace(tzinfo=UTC)


class _Request(BaseModel):
    # No coercion ({"now": 5} is not a time) and no unknown keys (a misspelt one would be ignored).
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    expected: ClassVar[str] = "a JSON object"


class BackfillRange(_Request):
    expected: ClassVar[str] = '{"start": TIME, "end": TIME}'

    start: str
    end: str


class PlanRequest(_Request):
    """``{}``, ``{"now": TIME}`` or ``{"backfill": {"start": TIME, "end": TIME}}``; the drift monitor adds
    ``reason`` and ``run_id``. Times are checked by the step (``rps_core.contract.event_time``)."""

    expected: ClassVar[str] = '{}, {"now": TIME} or {"backfill": {"start": TIME, "end": TIME}}'

    now: str | None = None
    reason: str | None = None
    run_id: str | None = None
    backfill: BackfillRange | None = None


class DriftRequest(_Request):
    """``{}`` or ``{"now": TIME, "window_hours": N}`` (a day to 90 days)."""

    expected: ClassVar[str] = '{} or {"now": TIME, "window_hours": N}'

    now: str | None = None
    window_hours: int | None = Field(default=None, ge=24, le=24 * 90)


Request = TypeVar("Request", bound=_Request)


def parse_entry_event(event: Any, request: type[Request], step: str) -> ScheduledEvent | Request:
    """``event`` as a ScheduledEvent when it carries ``detail-type``, else as ``request``."""
    if not isinstance(event, dict):
        raise InvalidEventError(f"{step}: expected a JSON object, got {type(event).__name__}")
    model: type[ScheduledEvent] | type[Request] = ScheduledEvent if "detail-type" in event else request
    try:
        return parse(event=event, model=model)
    except ValidationError as exc:
        raise InvalidEventError(f"{step}: {_describe(exc, model)}") from exc


def _describe(exc: ValidationError, model: type[ScheduledEvent] | type[_Request]) -> str:
    unknown = sorted(".".join(map(str, e["loc"])) for e in exc.errors() if e["type"] == "extra_forbidden")
    problems = [
        f"{'.'.join(map(str, e['loc']))}: {e['msg']} (got {e['input']!r})"
        if "input" in e and e["type"] != "missing"
        else f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
        for e in exc.errors()
        if e["type"] != "extra_forbidden"
    ]
    if unknown:
        problems.insert(0, f"unknown keys {unknown}")
    return f"{'; '.join(problems)} (expected {model.expected})"
