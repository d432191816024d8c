"""A corpus of malformed raw payloads (``tests/corpus/raw/``) through the quality gate: each file fails by
the check that ``cases.json`` names, with a detail that says why, both in the pure ``evaluate`` and in the
QualityGate step (S3 in, DataQualityError naming the check out, the report written). ``valid-day.json``
is the control: the clean day the other files are mutations of, which passes every check.

Add a case: drop the payload file into the folder and name its failing checks in ``cases.json``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from rps_core import storage
from rps_core.config import load_settings
from rps_core.contract import IngestResult
from rps_core.errors import DataQualityError
from rps_core.quality import CHECKS, evaluate, gate_or_raise
from rps_core.sources import Window

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "raw"
INDEX: dict[str, Any] = json.loads((CORPUS / "cases.json").read_text())
CASES: dict[str, dict[str, Any]] = INDEX["cases"]
SETTINGS = load_settings({**INDEX["settings"], "DATA_BUCKET": "rps-corpus"})
BUCKET = "rps-corpus"


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text + "+00:00")


WINDOW = Window(_time(INDEX["window_start"]), _time(INDEX["window_end"]))
NOW = _time(INDEX["now"])
FAILING = sorted(name for name, case in CASES.items() if case["failed"])


def test_the_corpus_index_and_the_folder_agree() -> None:
    # GIVEN the corpus folder WHEN it is listed THEN every payload has a case and every case a payload
    files = {p.name for p in CORPUS.iterdir() if p.name != "cases.json"}
    assert files == set(CASES)
    # AND every check of the gate is exercised by at least one file, with a known check name
    named = {check for case in CASES.values() for check in case["failed"]}
    assert named == set(CHECKS)


def test_the_control_passes_every_check() -> None:
    # GIVEN the clean day WHEN the gate judges it THEN every check passes (the mutations are what fail)
    report = evaluate((CORPUS / "valid-day.json").read_bytes(), INDEX["location"], WINDOW, NOW, SETTINGS)
    assert report.passed, report.summary()
    assert [c.name for c in report.checks] == list(CHECKS)


@pytest.mark.parametrize("name", FAILING)
def test_each_malformed_payload_fails_by_its_named_check(name: str) -> None:
    case = CASES[name]
    # GIVEN a malformed raw payload, as a source could answer it
    body = (CORPUS / name).read_bytes()
    # WHEN the gate judges the window
    report = evaluate(body, INDEX["location"], WINDOW, NOW, SETTINGS)
    # THEN it fails by exactly the named checks, and the summary says why
    assert report.failed_checks == case["failed"], report.summary()
    assert case["detail"] in report.summary()
    assert all(f"{check} (" in report.summary() for check in case["failed"])


@pytest.mark.parametrize("name", FAILING)
def test_the_gate_step_raises_a_data_quality_error_naming_the_check(name: str, s3: Any) -> None:
    case = CASES[name]
    # GIVEN the payload stored as Ingest stores it
    key = f"raw/location=JFK/end={INDEX['window_end']}.json"
    s3.put_object(Bucket=BUCKET, Key=key, Body=(CORPUS / name).read_bytes())
    event = {
        "location": INDEX["location"],
        "run_id": "corpus",
        "now": INDEX["now"],
        "window_start": INDEX["window_start"],
        "window_end": INDEX["window_end"],
        "raw_key": key,
        "rows": 24,
        "created": True,
    }
    # WHEN the QualityGate step runs THEN it raises DataQualityError naming the failing checks
    with pytest.raises(DataQualityError) as failed:
        gate_or_raise(IngestResult.from_event(event, "quality_gate"), SETTINGS, client=s3)
    assert all(f"{check} (" in str(failed.value) for check in case["failed"])
    # AND the report it wrote names the same checks
    report = storage.get_json(BUCKET, f"quality/location=JFK/end={INDEX['window_end']}.json", client=s3)
    assert report["passed"] is False and report["failed_checks"] == case["failed"]
