"""The Quarantine step: keep a rejected raw payload, byte for byte, under ``quarantine/`` with why.

The functions may only PUT (the template grants no delete), so the raw object stays where it is as the
write-once record of what the source answered; the quarantine copy, also written once, marks the window
as rejected and carries the gate's cause in its metadata.
"""

from __future__ import annotations

from typing import Any

from rps_core import storage
from rps_core.config import Settings, require
from rps_core.errors import InvalidEventError
from rps_core.quality.gate import quality_key
from rps_core.sources.base import Window
from rps_core.sources.events import WINDOW_FIELDS, event_location, require_fields

_METADATA_CHARS = 1500  # S3 user metadata is limited to 2 KB in all


def quarantine_key(location: str, window_end: str) -> str:
    return f"quarantine/location={location}/end={window_end}.json"


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode()[:_METADATA_CHARS]


def quarantine_window(event: dict[str, Any], settings: Settings, client: Any = None) -> dict[str, Any]:
    """Copy the raw object to the quarantine prefix; returns ``{quarantine_key}``."""
    event = require_fields(event, "quarantine", (*WINDOW_FIELDS, "raw_key", "error"))
    location = event_location(event, settings).name
    window = Window.from_event(event)
    error = event["error"]
    if not isinstance(error, dict):
        raise InvalidEventError("quarantine: 'error' must be the Catch result {Error, Cause}")
    bucket = require(settings.data_bucket, "DATA_BUCKET")
    key = quarantine_key(location, window.end_text)
    body = storage.get_bytes(bucket, event["raw_key"], client)
    metadata = {
        "raw-key": event["raw_key"],
        "quality-key": quality_key(location, window.end_text),
        "error": _ascii(str(error.get("Error", ""))),
        "cause": _ascii(str(error.get("Cause", ""))),
        "run-id": _ascii(str(event["run_id"])),
    }
    if body is None:  # the raw object itself is missing: record that instead of failing the quarantine
        body, metadata["raw-missing"] = b"", "true"
    storage.write_once(bucket, key, body, "application/json", metadata, client)
    return {"quarantine_key": key}
