"""The scripts the workflows run: the deploy smoke test (SigV4) and the champion pointer fetch.

The smoke test runs against a small HTTP server on loopback that plays the deployed API: it refuses a
prediction route without a SigV4 Authorization header, as API Gateway's AWS_IAM authorizer does.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.credentials import Credentials
from moto import mock_aws

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import fetch_champion  # noqa: E402
import smoke_api  # noqa: E402

CREDENTIALS = Credentials("AKIDEXAMPLE", "secret", None)
SIGV4_PREFIX = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"


class FakeApi:
    """The deployed API's behaviour that the smoke test relies on, with switches to break it."""

    def __init__(self) -> None:
        self.enforce_iam = True
        self.champion = True
        self.value: Any = 12.5
        self.seen: list[tuple[str, str, str]] = []  # (method, path, Authorization)

    def answer(self, method: str, path: str, headers: dict[str, str]) -> tuple[int, Any]:
        auth = headers.get("Authorization", "")
        self.seen.append((method, path, auth))
        if path == "/health":
            return 200, {"status": "ok"}
        if self.enforce_iam and not (auth.startswith(SIGV4_PREFIX) and "/execute-api/aws4_request" in auth):
            return 403, {"message": "Forbidden"}
        if not self.champion:
            return 503, {"detail": "no champion yet"}
        if path == "/model":
            return 200, {"model_version": "3", "target": "temperature_2m", "horizon_hours": 6}
        if path.startswith("/forecast/"):
            return 200, {"location": path.rsplit("/", 1)[1], "value": self.value, "target_time": "2013-10-19T06:00"}
        return 404, {"detail": "not found"}


@pytest.fixture
def api() -> Iterator[tuple[str, FakeApi]]:
    fake = FakeApi()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = fake.answer("GET", self.path, dict(self.headers.items()))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", fake
    finally:
        server.shutdown()
        server.server_close()


def test_smoke_passes_against_an_api_that_enforces_iam(api: tuple[str, FakeApi]) -> None:
    url, fake = api
    forecast = smoke_api.smoke(url, "JFK", CREDENTIALS, "us-east-1")
    assert forecast["value"] == 12.5
    # the unsigned probe went out without a signature, the prediction with one
    probes = [(m, p, a.startswith(SIGV4_PREFIX)) for m, p, a in fake.seen]
    assert ("GET", "/forecast/JFK", False) in probes and ("GET", "/forecast/JFK", True) in probes
    assert ("GET", "/health", False) in probes


def test_smoke_fails_when_the_prediction_route_is_open(api: tuple[str, FakeApi]) -> None:
    url, fake = api
    fake.enforce_iam = False
    with pytest.raises(smoke_api.SmokeError, match="unsigned is refused: expected HTTP 403, got 200"):
        smoke_api.smoke(url, "JFK", CREDENTIALS, "us-east-1")


def test_smoke_fails_without_a_finite_forecast(api: tuple[str, FakeApi]) -> None:
    url, fake = api
    fake.value = None
    with pytest.raises(smoke_api.SmokeError, match="no finite value"):
        smoke_api.smoke(url, "JFK", CREDENTIALS, "us-east-1")


def test_smoke_runs_the_pipeline_once_when_there_is_no_champion(api: tuple[str, FakeApi]) -> None:
    url, fake = api
    fake.champion = False
    started = []

    def start() -> None:
        started.append(True)
        fake.champion = True

    smoke_api.smoke(url, "JFK", CREDENTIALS, "us-east-1", start_pipeline=start)
    assert started == [True]


def test_smoke_fails_on_no_champion_when_not_allowed_to_run_the_pipeline(api: tuple[str, FakeApi]) -> None:
    url, fake = api
    fake.champion = False
    with pytest.raises(smoke_api.SmokeError, match="GET /model signed: expected HTTP 200, got 503"):
        smoke_api.smoke(url, "JFK", CREDENTIALS, "us-east-1")


def test_run_pipeline_waits_for_the_execution_and_reports_its_failure() -> None:
    class FakeSfn:
        def __init__(self, statuses: list[str]) -> None:
            self.statuses = statuses

        def start_execution(self, **kwargs: Any) -> dict[str, str]:
            assert kwargs["name"].startswith("smoke-")
            return {"executionArn": "arn:exec"}

        def describe_execution(self, executionArn: str) -> dict[str, str]:
            return {"status": self.statuses.pop(0)}

    smoke_api.run_pipeline("arn:sm", "us-east-1", 60, client=FakeSfn(["SUCCEEDED"]))
    with pytest.raises(smoke_api.SmokeError, match="ended FAILED"):
        smoke_api.run_pipeline("arn:sm", "us-east-1", 60, client=FakeSfn(["FAILED"]))


def test_stack_facts_reads_outputs_and_parameters() -> None:
    class FakeCfn:
        def describe_stacks(self, StackName: str) -> dict[str, Any]:
            assert StackName == "rps-prod"
            return {
                "Stacks": [
                    {
                        "Parameters": [{"ParameterKey": "Locations", "ParameterValue": "JFK:1:2,LGA:3:4"}],
                        "Outputs": [{"OutputKey": "HttpApiUrl", "OutputValue": "https://x.example"}],
                    }
                ]
            }

    facts = smoke_api.stack_facts("rps-prod", "us-east-1", client=FakeCfn())
    assert facts == {"Locations": "JFK:1:2,LGA:3:4", "HttpApiUrl": "https://x.example"}


@mock_aws
def test_fetch_champion_finds_the_bucket_that_holds_the_pointer() -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    for bucket in ("a-data", "b-model", "c-other"):
        s3.create_bucket(Bucket=bucket)
    assert fetch_champion.find_pointer(s3) is None
    s3.put_object(Bucket="b-model", Key="champion/pointer.json", Body=b'{"model_version": "2"}')
    assert fetch_champion.find_pointer(s3) == ("b-model", {"model_version": "2"})
