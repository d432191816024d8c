"""X-Ray annotations for the steps (Powertools Tracer, ``Tracing: Active`` in template.yaml): the location,
the run and the model a trace belongs to, so a slow or failed step is found by what it worked on
(``annotation.location = "JFK"`` in the X-Ray console). The local cloud has no X-Ray daemon: its workers
run with ``POWERTOOLS_TRACE_DISABLED`` set, as ``sam local invoke`` does."""

from __future__ import annotations

from typing import Any, Protocol


class Annotating(Protocol):
    def put_annotation(self, key: str, value: str) -> object: ...


def _nested(event: dict[str, Any], *path: str) -> Any:
    value: Any = event
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def trace_annotations(event: Any) -> dict[str, str]:
    """The annotations an event (a step's input or output) holds: ``location``, ``run_id``, ``model_id``
    (the challenger Train wrote) and ``model_version`` (the champion after Register)."""
    if not isinstance(event, dict):
        return {}
    found = {
        "location": event.get("location"),
        "run_id": event.get("run_id"),
        "model_id": event.get("model_id") or _nested(event, "training", "model_id"),
        "model_version": event.get("model_version")
        or _nested(event, "champion", "version")
        or _nested(event, "registry", "champion", "version"),
    }
    return {key: str(value) for key, value in found.items() if isinstance(value, str | int) and str(value)}


def annotate(tracer: Annotating, *events: Any) -> None:
    """Put the annotations of ``events`` (later ones win) on the current trace segment."""
    merged: dict[str, str] = {}
    for event in events:
        merged |= trace_annotations(event)
    for key, value in merged.items():
        tracer.put_annotation(key=key, value=value)
