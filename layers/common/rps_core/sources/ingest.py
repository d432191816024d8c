"""The Ingest step: fetch the window from the source and store the answer at once, exactly as received,
written once (a re-run of the same window neither duplicates nor overwrites)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from rps_core import storage
from rps_core.config import Settings, require
from rps_core.contract import IngestResult, LocationWindow, Window, latest_key, raw_key
from rps_core.sources.base import Source
from rps_core.sources.events import configured_location
from rps_core.sources.factory import source_from_settings
from rps_core.times import timestamp

__all__ = ["count_rows", "ingest_window", "raw_key"]


def count_rows(body: bytes, window: Window) -> int:
    """Hours of ``window`` in a payload; 0 for a body that is not an Open-Meteo payload (the gate says why)."""
    try:
        times = json.loads(body)["hourly"]["time"]
        return sum(1 for t in times if isinstance(t, str) and window.contains(t))
    except (ValueError, KeyError, TypeError):
        return 0


def ingest_window(
    request: LocationWindow, settings: Settings, source: Source | None = None, client: Any = None
) -> IngestResult:
    """Ingest's output: the request plus ``raw_key``, ``rows`` and ``created``.

    A location with no dataset yet (added after the first run) gets its whole history, not just this
    run's window: the output's ``window_start`` is then None, as in a backfill, for the gate and Transform.
    A backfill range (``ranged``) is collected as asked, under a key named by its start and end.
    """
    location = configured_location(request.location, settings)
    bucket = require(settings.data_bucket, "DATA_BUCKET")
    new_location = not request.ranged and not storage.exists(bucket, latest_key(location.name), client)
    if request.window_start is not None and new_location:
        request = replace(request, window_start=None)
    window = request.window
    key = raw_key(location.name, window.end_text, request.range_start)
    body = storage.get_bytes(bucket, key, client)
    created = False
    if body is None:
        source = source or source_from_settings(settings)
        payload = source.fetch(location, window)
        metadata = {
            "collected-at": timestamp(),
            "window-start": window.start_text or "none",
            "window-end": window.end_text,
            "source": payload.source,
            "run-id": request.run_id,
        }
        created = storage.write_once(bucket, key, payload.body, payload.content_type, metadata, client)
        # Lost a race with a concurrent run of the same window: the stored object is the truth.
        body = payload.body if created else storage.get_bytes(bucket, key, client) or b""
    return IngestResult.of(request, key, count_rows(body, window), created)
