"""The quality gate: judge a raw payload's window, write the report, and raise DataQualityError when it
fails (the state machine then quarantines the raw object and the execution fails)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import numpy as np

from rps_core import storage
from rps_core.config import Settings, require
from rps_core.contract import GateResult, IngestResult, Window, quality_key
from rps_core.errors import DataQualityError, PayloadError
from rps_core.quality.checks import (
    Check,
    check_freshness,
    check_min_rows,
    check_nulls,
    check_physical_ranges,
    check_time_index,
)
from rps_core.quality.report import QualityReport
from rps_core.quality.rules import key_columns
from rps_core.schema import UNITS, Observations, observations_from_payload
from rps_core.sources.events import configured_location
from rps_core.times import event_time, format_time

CHECKS = ("schema", "min_rows", "time_index", "null_share", "physical_range", "freshness")


def parse_payload(body: bytes, location: str) -> Observations:
    """The strict parse behind the schema check: JSON, the Open-Meteo shape, the expected units."""
    try:
        payload = json.loads(body)
    except ValueError as exc:
        looks_html = body.lstrip()[:1] == b"<"
        raise PayloadError(("an HTML page, " if looks_html else "") + f"not valid JSON: {exc}") from exc
    obs = observations_from_payload(payload, location)
    units = payload.get("hourly_units")
    if not isinstance(units, dict):
        raise PayloadError("payload: missing the 'hourly_units' object")
    wrong = {k: units.get(k) for k in UNITS if units.get(k) != UNITS[k]}
    if wrong:
        described = ", ".join(f"{k} in {v!r}, expected {UNITS[k]!r}" for k, v in wrong.items())
        raise PayloadError(f"hourly_units: {described}")
    return obs


def select_window(obs: Observations, window: Window) -> Observations:
    """The rows in ``(start, end]``, in the order received (a live answer also carries forecast hours)."""
    end = np.datetime64(window.end_text, "h")
    mask = obs.time <= end
    if window.start is not None:
        mask &= obs.time > np.datetime64(window.start_text, "h")
    return obs.with_rows(obs.time[mask], {k: v[mask] for k, v in obs.values.items()})


def evaluate(body: bytes, location: str, window: Window, now: datetime, settings: Settings) -> QualityReport:
    """Run every check on the window of a raw payload; pure (no I/O)."""
    key = key_columns(settings.target)
    report = QualityReport(location, window.start_text, window.end_text, format_time(now), key, [])
    try:
        obs = select_window(parse_payload(body, location), window)
    except PayloadError as exc:
        report.checks.append(Check("schema", False, str(exc)))
        return report
    report.checks += [
        Check("schema", True, f"{len(UNITS)} variables in the expected units, times YYYY-MM-DDTHH:MM"),
        check_min_rows(obs, settings.min_rows),
        check_time_index(obs, window.start, settings.max_gap_hours),
        check_nulls(obs, key, settings.null_threshold),
        check_physical_ranges(obs, key, settings.null_threshold),
        check_freshness(obs, now, settings.freshness_hours),
    ]
    return report


def run_gate(ingested: IngestResult, settings: Settings, client: Any = None) -> tuple[GateResult, QualityReport]:
    """The QualityGate step: judge the window, write the report to S3, and return the step's output
    (``quality_key``, ``passed``, and ``cause`` naming the failing checks when it failed) with the
    report. The handler raises DataQualityError with that cause, after emitting the report's metrics."""
    location = configured_location(ingested.location, settings)
    window = ingested.window
    now = event_time(ingested.now, "now")
    bucket = require(settings.data_bucket, "DATA_BUCKET")
    body = storage.get_bytes(bucket, ingested.raw_key, client)
    if body is None:
        report = QualityReport(
            location.name,
            window.start_text,
            window.end_text,
            format_time(now),
            key_columns(settings.target),
            [Check("schema", False, "the raw object is missing")],
        )
    else:
        report = evaluate(body, location.name, window, now, settings)
    report.raw_key = ingested.raw_key
    key = quality_key(location.name, window.end_text, ingested.range_start)
    storage.put_json(bucket, key, report.to_dict(), client=client)
    cause = None if report.passed else f"{report.summary()} (report s3://{bucket}/{key})"
    return GateResult.judged(ingested, key, report.passed, cause), report


def gate_or_raise(ingested: IngestResult, settings: Settings, client: Any = None) -> GateResult:
    """``run_gate`` for callers without metrics: raises DataQualityError when the window fails."""
    output, _ = run_gate(ingested, settings, client)
    if not output.passed:
        raise DataQualityError(str(output.cause))
    return output
