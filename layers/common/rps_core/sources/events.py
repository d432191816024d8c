"""Checks shared by the per-location steps' events (Ingest, QualityGate, Quarantine, Transform)."""

from __future__ import annotations

from typing import Any

from rps_core.config import Location, Settings
from rps_core.errors import ConfigurationError, InvalidEventError

WINDOW_FIELDS = ("location", "run_id", "now", "window_start", "window_end")


def require_fields(event: Any, step: str, fields: tuple[str, ...]) -> dict[str, Any]:
    """``event`` as a dict holding ``fields``; raises InvalidEventError naming what is missing."""
    if not isinstance(event, dict):
        raise InvalidEventError(f"{step}: expected a JSON object, got {type(event).__name__}")
    missing = [f for f in fields if f not in event]
    if missing:
        raise InvalidEventError(f"{step}: missing {', '.join(missing)}")
    return event


def event_location(event: dict[str, Any], settings: Settings) -> Location:
    name = event.get("location")
    if not isinstance(name, str):
        raise InvalidEventError(f"location: expected a name, got {name!r}")
    try:
        return settings.location(name)
    except ConfigurationError as exc:
        raise InvalidEventError(str(exc)) from exc
