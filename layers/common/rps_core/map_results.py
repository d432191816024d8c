"""The per-location Map's results, read back from where its ResultWriter put them.

The Map is Distributed, so its results are not in the state but in S3, in AWS's format: a manifest naming
``SUCCEEDED_n.json`` and ``FAILED_n.json`` files, one entry per child execution (one batch of locations)
with its input and its output or error. ``with_map_results`` turns them back into the state's ``datasets``
list that Train and Forecast read (``rps_core.contract.TrainRequest``): each location's Transform output
or quarantine record, and a ``{location, failed: true, error, cause}`` per location of a failed batch.
"""

from __future__ import annotations

import json
from typing import Any

from rps_core import storage
from rps_core.errors import InvalidEventError

__all__ = ["read_map_results", "with_map_results"]


def with_map_results(event: Any, client: Any = None) -> Any:
    """``event`` with ``datasets`` read from its ``map_results`` (the ResultWriter's ``ResultWriterDetails``,
    or the Map's whole result holding them); an event without ``map_results`` is returned unchanged."""
    if not isinstance(event, dict) or "map_results" not in event:
        return event
    details = event["map_results"]
    if isinstance(details, dict) and "ResultWriterDetails" in details:
        details = details["ResultWriterDetails"]
    if not isinstance(details, dict) or not details.get("Bucket") or not details.get("Key"):
        raise InvalidEventError(f"map_results must name the ResultWriter's manifest {{Bucket, Key}}, got {details!r}")
    return {**event, "datasets": read_map_results(str(details["Bucket"]), str(details["Key"]), client)}


def read_map_results(bucket: str, manifest_key: str, client: Any = None) -> list[dict[str, Any]]:
    """The per-location results of one map run, in item order within each result file."""
    manifest = storage.get_json(bucket, manifest_key, client)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("ResultFiles"), dict):
        raise InvalidEventError(f"map_results: s3://{bucket}/{manifest_key} is not a Map run's manifest")
    files = manifest["ResultFiles"]
    out: list[dict[str, Any]] = []
    for entry in _entries(bucket, files.get("SUCCEEDED", []), client):
        output = json.loads(entry["Output"])
        out.extend(output if isinstance(output, list) else [output])
    for entry in _entries(bucket, files.get("FAILED", []), client):
        batch = json.loads(entry.get("Input") or "{}")
        for item in batch.get("Items", []):
            out.append(
                {
                    "location": item.get("location"),
                    "failed": True,
                    "error": str(entry.get("Error", "")),
                    "cause": str(entry.get("Cause", "")),
                }
            )
    return out


def _entries(bucket: str, files: list[dict[str, Any]], client: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for file in files:
        content = storage.get_json(bucket, str(file["Key"]), client)
        if not isinstance(content, list):
            raise InvalidEventError(f"map_results: s3://{bucket}/{file['Key']} is missing or not a result list")
        rows.extend(content)
    return rows
