"""The Quarantine step: keep a rejected raw payload, byte for byte, under ``quarantine/`` with why.

The functions may only PUT (the template grants no delete), so the raw object stays where it is as the
write-once record of what the source answered; the quarantine copy, also written once, marks the window
as rejected and carries the gate's cause in its metadata.
"""

from __future__ import annotations

from typing import Any

from rps_core import storage
from rps_core.config import Settings, require
from rps_core.contract import GateResult, Quarantined, QuarantineRequest, QuarantineResult, quality_key, quarantine_key
from rps_core.sources.events import configured_location

__all__ = ["quarantine_key", "quarantine_rejected", "quarantine_window"]

_METADATA_CHARS = 1500  # S3 user metadata is limited to 2 KB in all


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode()[:_METADATA_CHARS]


def quarantine_window(request: QuarantineRequest, settings: Settings, client: Any = None) -> QuarantineResult:
    """Copy the raw object to the quarantine prefix, once, with the gate's cause in its metadata."""
    location = configured_location(request.location, settings).name
    bucket = require(settings.data_bucket, "DATA_BUCKET")
    key = quarantine_key(location, request.window_end, request.range_start)
    body = storage.get_bytes(bucket, request.raw_key, client)
    metadata = {
        "raw-key": request.raw_key,
        "quality-key": quality_key(location, request.window_end, request.range_start),
        "error": _ascii(request.error),
        "cause": _ascii(request.cause),
        "run-id": _ascii(request.run_id),
    }
    if body is None:  # the raw object itself is missing: record that instead of failing the quarantine
        body, metadata["raw-missing"] = b"", "true"
    storage.write_once(bucket, key, body, "application/json", metadata, client)
    return QuarantineResult(key)


def quarantine_rejected(judged: GateResult, settings: Settings, client: Any = None) -> Quarantined:
    """Quarantine a window the gate rejected within a batch (where the gate raises nothing and the state
    machine catches nothing): the same write-once copy, and the location's record for the Map's results."""
    result = quarantine_window(QuarantineRequest.rejected(judged), settings, client)
    return Quarantined(judged.location, result.quarantine_key, str(judged.cause or ""))
