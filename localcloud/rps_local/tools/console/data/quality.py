"""The data quality page's view model: per location the latest gate reports (``quality/location=L/end=T.json``,
the QualityGate step's ``QualityReport.to_dict()``) and the quarantined windows with the cause the Quarantine
step wrote in each copy's metadata."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from rps_core.contract import quality_key, quarantine_key

from rps_local.emulator.stepfunctions.executions import short_cause
from rps_local.tools.console.source import ConsoleSource

__all__ = ["GateReport", "LocationQuality", "Quarantined", "gate_report", "load_quality", "readable_cause"]

REPORTS = 5  # the newest gate reports per location
QUARANTINED = 20


@dataclass(frozen=True)
class GateReport:
    window_end: str
    passed: bool
    summary: str
    failed_checks: tuple[str, ...]
    key: str


@dataclass(frozen=True)
class Quarantined:
    window_end: str
    error: str
    cause: str
    run_id: str
    key: str


@dataclass
class LocationQuality:
    location: str
    reports: list[GateReport] = field(default_factory=list)  # newest first
    quarantined: list[Quarantined] = field(default_factory=list)  # newest first


def gate_report(doc: dict[str, Any], key: str) -> GateReport:
    return GateReport(
        window_end=str(doc.get("window_end", "")),
        passed=bool(doc.get("passed")),
        summary=str(doc.get("summary", "")),
        failed_checks=tuple(doc.get("failed_checks") or ()),
        key=key,
    )


_MESSAGE = re.compile(r'"errorMessage"\s*:\s*"((?:[^"\\]|\\.)*)"')


def readable_cause(cause: str) -> str:
    """A Lambda error's message rather than its JSON; the Quarantine step cuts the metadata short, so the JSON
    may be incomplete: the message is then found by its key."""
    short = short_cause(cause, limit=2000)
    if short.startswith("{") and (found := _MESSAGE.search(cause)):
        try:
            return json.loads(f'"{found.group(1)}"')
        except ValueError:
            return found.group(1)
    return short


def _end_of(key: str) -> str:
    return key.rsplit("end=", 1)[-1].removesuffix(".json")


def load_quality(source: ConsoleSource) -> list[LocationQuality]:
    bucket = source.physical_id("DataBucket")
    if not bucket:
        return []
    # the prefix part before "{location}" of the contract's keys
    quality_root = quality_key("\0", "").split("\0")[0]
    quarantine_root = quarantine_key("\0", "").split("\0")[0]
    locations = sorted(set(source.prefixes(bucket, quality_root)) | set(source.prefixes(bucket, quarantine_root)))
    out = []
    for location in locations:
        item = LocationQuality(location)
        prefix = quality_key(location, "")[: -len(".json")]
        for key in reversed(source.keys(bucket, prefix)[-REPORTS:]):
            doc = source.json_object(bucket, key)
            if isinstance(doc, dict):
                item.reports.append(gate_report(doc, key))
        prefix = quarantine_key(location, "")[: -len(".json")]
        for key in reversed(source.keys(bucket, prefix)[-QUARANTINED:]):
            meta = source.metadata(bucket, key)
            item.quarantined.append(
                Quarantined(
                    _end_of(key),
                    meta.get("error", ""),
                    readable_cause(meta.get("cause", "")),
                    meta.get("run-id", ""),
                    key,
                )
            )
        out.append(item)
    return out
