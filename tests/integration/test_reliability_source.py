"""Faults of the source and of the Lambda runtime, on a local cloud whose pipeline reads the Open-Meteo
API from ``FakeOpenMeteo`` (which injects the faults): a storm of 429s is retried by the client and by the
ASL, then fails the execution cleanly with TransientSourceError; the API down is a TransientSourceError;
a 400 is a SourceError at once; a worker killed in the middle of an invoke is a Runtime.ExitError that
the ASL's Retry runs again.

A cloud of its own (the session's ``rps_cloud`` replays the embedded data): ``Source=open-meteo`` at the
fake, one location, no MLflow and no schedules (nothing else calls the fake). No execution here reaches
Train: the windows asked for are ones the gate rejects, or the source fails first."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rps_local.emulator.process import CloudProcess
from rps_local.tools.fake_open_meteo import FakeOpenMeteo

from tests.integration.budgets import limit_s

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("cloud")]

PROJECT = Path(__file__).resolve().parents[2]
LOCATION = "JFK:40.6398:-73.7789"
# urllib3 asks 5 times per invoke (retries=4); the Ingest state's Retry makes 4 invokes (MaxAttempts 3)
REQUESTS_PER_INVOKE, INVOKES = 5, 4


@dataclass
class MeteoCloud:
    cloud: CloudProcess
    fake: FakeOpenMeteo
    port: int

    def restart_fake(self) -> None:
        """A new fake on the same port (after a test stopped it)."""
        self.fake = FakeOpenMeteo(port=self.port, slow_seconds=self.fake.slow_seconds).start()


@pytest.fixture(scope="module")
def meteo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MeteoCloud]:
    fake = FakeOpenMeteo(slow_seconds=25.0).start()
    port = int(fake.url.rsplit(":", 1)[1])
    cloud = CloudProcess(
        PROJECT,
        tmp_path_factory.mktemp("meteo-cloud"),
        "--no-mlflow",
        "--no-schedules",
        "--parameter-overrides",
        "Source=open-meteo",
        f"OpenMeteoUrl={fake.url}",
        f"Locations={LOCATION}",
    )
    cloud.start(timeout_s=limit_s("cloud_start"))
    state = MeteoCloud(cloud, fake, port)
    try:
        yield state
    finally:
        cloud.stop()
        state.fake.stop()


def _wait_for(condition: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def _ingest_event(start: str, end: str) -> dict[str, Any]:
    """Ingest's event for the window (start, end] of the one location (days YYYY-MM-DD)."""
    return {
        "location": "JFK",
        "run_id": f"it-{end}",
        "now": f"{end}T00:00",
        "window_start": f"{start}T00:00",
        "window_end": f"{end}T00:00",
    }


def _raw_exists(meteo: MeteoCloud, window_end: str) -> bool:
    client = meteo.cloud.client
    s3, bucket = client.client("s3"), client.physical_id("DataBucket")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"raw/location=JFK/end={window_end}")
    return listed.get("KeyCount", 0) > 0


def _ingest_log(meteo: MeteoCloud, since_ms: int) -> list[str]:
    """IngestFunction's log lines since ``since_ms``: the per-location steps run in the Distributed Map's
    child executions, so a function's own log (as on AWS) is where each invocation's outcome is."""
    client = meteo.cloud.client
    group = f"/aws/lambda/{client.physical_id('IngestFunction')}"
    pages = client.client("logs").get_paginator("filter_log_events").paginate(logGroupName=group, startTime=since_ms)
    return [e["message"] for page in pages for e in page["events"]]


def test_a_storm_of_429s_is_retried_then_fails_cleanly_with_a_named_error(meteo: MeteoCloud) -> None:
    client = meteo.cloud.client
    # GIVEN an API that answers every request with 429
    meteo.fake.faults.clear()
    meteo.fake.inject("429", times=1000)
    asked = len(meteo.fake.requests)
    since_ms = int(time.time() * 1000)
    try:
        # WHEN the pipeline runs
        arn = client.start_execution({"now": "2013-12-20T00:00"}, name=f"it-429-{int(time.time())}")
        done = client.wait_execution(arn, timeout_s=limit_s("source_run"))
    finally:
        meteo.fake.faults.clear()
    # THEN the execution fails: the batch failed with the source's named error after the client's and the
    # ASL's retries, which is more than the Map tolerates (its own error names that, and the first failure)
    assert done["status"] == "FAILED", done
    assert done["error"] == "States.ExceedToleratedFailureThreshold", done
    assert "TransientSourceError" in done["cause"] and "HTTP 429 after retries" in done["cause"]
    failures = [line for line in _ingest_log(meteo, since_ms) if line.startswith("[ERROR] ")]
    assert [line.split(":")[0] for line in failures] == ["[ERROR] TransientSourceError"] * INVOKES
    assert len(meteo.fake.requests) - asked == REQUESTS_PER_INVOKE * INVOKES
    # AND nothing was stored for the window, so a later run fetches it afresh
    assert not _raw_exists(meteo, "2013-12-20T00:00")


def test_the_api_down_is_a_transient_source_error(meteo: MeteoCloud) -> None:
    # GIVEN the API does not answer at all (connection refused)
    meteo.fake.stop()
    try:
        # WHEN Ingest runs
        started = time.monotonic()
        result = meteo.cloud.client.invoke("IngestFunction", _ingest_event("2012-01-01", "2012-01-02"))
        elapsed = time.monotonic() - started
    finally:
        meteo.restart_fake()
    # THEN it fails with TransientSourceError (which the ASL retries) after the client's backoff
    assert result.error_type == "TransientSourceError", result.payload
    assert "unreachable after retries" in result.payload["errorMessage"]
    assert elapsed >= 5  # urllib3 backed off 0 + 1 + 2 + 4 s between its 5 attempts
    assert not _raw_exists(meteo, "2012-01-02T00:00")


def test_a_bad_request_is_a_source_error_at_once(meteo: MeteoCloud) -> None:
    # GIVEN an API that rejects the request with 400 and a reason
    meteo.fake.inject("400", reason="Latitude must be in range of -90 to 90°")
    asked = len(meteo.fake.requests)
    # WHEN Ingest runs THEN it fails with SourceError naming the API's reason, without retrying
    result = meteo.cloud.client.invoke("IngestFunction", _ingest_event("2012-02-01", "2012-02-02"))
    assert result.error_type == "SourceError", result.payload
    assert "Latitude must be in range" in result.payload["errorMessage"]
    assert len(meteo.fake.requests) - asked == 1


def _ingest_pids(meteo: MeteoCloud) -> list[int]:
    """The pids of IngestFunction's workers, once one of them is busy."""
    with urllib.request.urlopen(f"{meteo.cloud.endpoints['control_url']}/status", timeout=10) as response:
        status = json.loads(response.read())["functions"]["IngestFunction"]
    return status["pids"] if status["busy"] else []


def test_a_worker_killed_mid_invoke_is_a_runtime_exit_error_and_the_asl_retries_it(meteo: MeteoCloud) -> None:
    client = meteo.cloud.client
    # GIVEN an execution whose Ingest is waiting on a slow API answer (a window the gate will reject,
    # so the execution ends at the gate after Ingest)
    meteo.fake.faults.clear()
    meteo.fake.inject("timeout")
    asked = len(meteo.fake.requests)
    since_ms = int(time.time() * 1000)
    arn = client.start_execution({"now": "2012-06-01T00:00"}, name=f"it-crash-{int(time.time())}")
    _wait_for(lambda: len(meteo.fake.requests) > asked, 60, "Ingest's request to the API")
    pids = _wait_for(lambda: _ingest_pids(meteo), 10, "a busy Ingest worker")
    # WHEN its worker process dies in the middle of the invoke
    for pid in pids:  # the busy one (and idle ones of the same function, which the pool then replaces)
        os.kill(pid, signal.SIGKILL)
    done = client.wait_execution(arn, timeout_s=limit_s("source_run"))
    # THEN the invoke failed as Lambda reports a crashed runtime, and the Retry ran Ingest again, which
    # succeeded: the execution went on to the gate (which rejects this window: no data in 2012)
    reports = [line for line in _ingest_log(meteo, since_ms) if line.startswith("REPORT ")]
    assert any("Error Type: Runtime.ExitError" in line for line in reports), reports
    assert "Error Type" not in reports[-1], reports  # the Retry's invoke, which succeeded
    assert done["status"] == "FAILED" and done["error"] == "DataQualityError", done
    assert "min_rows" in done["cause"]
