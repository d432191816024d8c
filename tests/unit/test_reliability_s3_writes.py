"""S3 failing in the middle of the data steps' writes (Ingest → QualityGate → Transform of a window on
top of an existing history): whatever PUT it fails at, and whether the request or only its answer is
lost, no partial dataset version is visible (a manifest always means a complete, verifiable version; the
raw object is whole or absent; ``latest.json`` names a complete version), and a re-run with S3 back
succeeds with the very version a run without faults builds.

The faults are botocore hooks on the steps' own S3 client (moto's mock_aws answers the requests):
``request`` raises a connection error before the PUT reaches S3 (nothing stored), ``response`` lets S3
store it and loses the answer (the client cannot tell whether it was written). From the n-th PUT on,
every PUT fails, so botocore's own retries cannot hide the fault and the step fails."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ConnectionClosedError
from rps_core import storage
from rps_core.config import Settings, load_settings
from rps_core.contract import DatasetRef, LocationWindow, raw_key
from rps_core.datasets import run_transform
from rps_core.datasets.store import load_latest, load_version, read_latest
from rps_core.quality import gate_or_raise
from rps_core.sources.ingest import ingest_window
from rps_core.sources.plan import plan_run

from tests.support import mocked_aws

LOCATION = "JFK"
ENV = {"SOURCE": "replay", "REPLAY_START": "2013-01-20T00:00", "MIN_ROWS": "18"}
PUTS_IN_A_WINDOW = 6  # raw, quality report, observations.npz, profile.md, manifest.json, latest.json


class S3Fault:
    """Fails every PutObject from the ``fail_from``-th on (1-based), before or after S3 stores it."""

    def __init__(self, client: Any, fail_from: int, mode: str) -> None:
        self.fail_from, self.mode, self.puts = fail_from, mode, 0
        register = client.meta.events.register_first if mode == "request" else client.meta.events.register_last
        # on the generic event: botocore calls handlers of more specific names (before-send.s3.PutObject)
        # before moto's, whatever their order, and this client only PUTs objects
        register("before-send", self._hook)

    def _hook(self, request: Any, **_: Any) -> None:
        if request.method != "PUT":
            return
        self.puts += 1
        if self.puts >= self.fail_from:
            raise ConnectionClosedError(endpoint_url=request.url)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with mocked_aws(monkeypatch):
        yield


def _client() -> Any:
    # the retries of rps_core.storage's own client (5 attempts), so a single lost PUT would be retried
    return boto3.client("s3", region_name="us-east-1", config=Config(retries={"max_attempts": 5, "mode": "standard"}))


def _settings(bucket: str) -> Settings:
    return load_settings({**ENV, "DATA_BUCKET": bucket})


def _window(settings: Settings, client: Any) -> LocationWindow:
    return plan_run({}, settings, client).item(LOCATION)


def _steps(item: LocationWindow, settings: Settings, client: Any) -> DatasetRef:
    """Ingest → QualityGate → Transform of one location's window, as the state machine chains them."""
    gated = gate_or_raise(ingest_window(item, settings, client=client), settings, client)
    return run_transform(gated, settings, client)


def _history_then_next_window(bucket: str) -> tuple[Settings, dict[str, Any]]:
    """A bucket with the backfill done (a dataset version and latest.json) and the next window planned."""
    client, settings = _client(), _settings(bucket)
    client.create_bucket(Bucket=bucket)
    _steps(_window(settings, client), settings, client)
    return settings, _window(settings, client)


def _objects(client: Any, bucket: str) -> dict[str, bytes]:
    listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: client.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


def _assert_nothing_partial(client: Any, bucket: str, reference: dict[str, bytes], parent: str) -> None:
    objects = _objects(client, bucket)
    # every manifest names a complete version whose observations match its sha256 (load_version checks)
    manifests = [k for k in objects if k.endswith("/manifest.json")]
    for key in manifests:
        version = key.split("version=")[1].split("/")[0]
        assert len(load_version(bucket, LOCATION, version, client)) > 0
    # latest.json names a complete version: the history before the window, or the new one
    latest, _ = read_latest(bucket, LOCATION, client)
    assert latest is not None
    assert latest["version"] in (parent, reference["version"])
    assert load_latest(bucket, LOCATION, client)[0] == latest["version"]
    # raw and data objects are whole: byte for byte what a run without faults wrote under the same key
    for key, body in objects.items():
        if key.startswith("raw/") or key.endswith(".npz"):
            assert body == reference["objects"][key], key


@pytest.mark.parametrize("mode", ["request", "response"])
@pytest.mark.parametrize("fail_from", range(1, PUTS_IN_A_WINDOW + 1))
def test_s3_failing_mid_write_leaves_nothing_partial_and_a_rerun_succeeds(aws: None, fail_from: int, mode: str) -> None:
    # GIVEN the same history and next window in two buckets, and the window's result without faults
    ref_settings, ref_item = _history_then_next_window("rps-reference")
    expected = _steps(ref_item, ref_settings, _client())
    reference = {"version": expected.dataset_version, "objects": _objects(_client(), "rps-reference")}
    settings, item = _history_then_next_window("rps-faulty")
    assert item.window_end == ref_item.window_end
    parent = read_latest("rps-faulty", LOCATION, _client())[0]["version"]
    # WHEN S3 fails from the n-th PUT of the window's steps on
    faulty = _client()
    fault = S3Fault(faulty, fail_from, mode)
    with pytest.raises(ConnectionClosedError):
        _steps(item, settings, faulty)
    assert fault.puts >= fail_from  # the fault did fire, at the PUT it names
    # (a lost request stores nothing; a lost answer stores the object: the raw object is the first PUT)
    assert storage.exists("rps-faulty", item_raw_key(item), _client()) == (mode == "response" or fail_from > 1)
    # THEN nothing partial is visible
    healthy = _client()
    _assert_nothing_partial(healthy, "rps-faulty", reference, parent)
    # AND a re-run with S3 back succeeds with the version a run without faults builds
    again = _steps(item, settings, healthy)
    assert again.dataset_version == expected.dataset_version
    assert read_latest("rps-faulty", LOCATION, healthy)[0]["version"] == expected.dataset_version
    assert storage.get_bytes("rps-faulty", item_raw_key(item), healthy) == reference["objects"][item_raw_key(item)]


def item_raw_key(item: LocationWindow) -> str:
    return raw_key(LOCATION, item.window_end)


def test_the_window_takes_the_puts_the_faults_enumerate(aws: None) -> None:
    # GIVEN a history and the next window WHEN its steps run without faults, counting PUTs
    settings, item = _history_then_next_window("rps-count")
    client = _client()
    counter = S3Fault(client, fail_from=10**9, mode="request")
    _steps(item, settings, client)
    # THEN they are the PUTs the parametrized test fails one by one (a new write would need a new case)
    assert counter.puts == PUTS_IN_A_WINDOW
