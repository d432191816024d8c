"""What the per-location steps (Ingest, QualityGate, Quarantine, Transform) check beyond the contract's
types (rps_core.contract): the location an event names must be a configured one."""

from __future__ import annotations

from rps_core.config import Location, Settings
from rps_core.errors import ConfigurationError, InvalidEventError

__all__ = ["configured_location"]


def configured_location(name: str, settings: Settings) -> Location:
    """The configured location called ``name``; InvalidEventError when the event names another."""
    try:
        return settings.location(name)
    except ConfigurationError as exc:
        raise InvalidEventError(str(exc)) from exc
