"""The whole system under concurrency and load, on a local cloud of its own: a PUT cut off in the middle
is never visible in S3; two pipeline runs of the same window at once do the work once (one clock
advance, the same raw objects, one dataset version per location); the HTTP API answers 500 requests at
concurrency 8 without a 5xx; and replacing the champion pointer while serving under load fails no request.

The cloud is the one ``bench/bench_load.py`` measures: template.yaml without MLflow and schedules, with
``ReplayStart=2013-01-25`` so that a pipeline run trains on three weeks (the session's ``rps_cloud``
trains on ten months: a run takes minutes here). The champion comes from one real pipeline run."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from rps_core.map_results import read_map_results
from rps_local.emulator.process import CloudProcess

from bench.bench_load import CLOUD_ARGS, ensure_champion, request_bodies, run_load
from tests.integration.budgets import SMALL_MODEL, limit_s

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("cloud")]

PROJECT = Path(__file__).resolve().parents[2]
LOCATIONS = ("JFK", "LGA", "EWR")
POINTER_KEY = "champion/pointer.json"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudProcess]:
    process = CloudProcess(PROJECT, tmp_path_factory.mktemp("reliability-cloud"), *CLOUD_ARGS, *SMALL_MODEL)
    process.start(timeout_s=limit_s("cloud_start"))
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def champion(cloud: CloudProcess) -> dict[str, Any]:
    return ensure_champion(cloud, timeout_s=limit_s("backfill"))


@pytest.fixture(scope="module")
def bodies() -> list[dict[str, Any]]:
    return request_bodies(100)


def _s3(cloud: CloudProcess, bucket_id: str) -> tuple[Any, str]:
    client = cloud.client
    return client.client("s3"), client.physical_id(bucket_id)


def _keys(s3: Any, bucket: str, prefix: str) -> set[str]:
    keys: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys |= {o["Key"] for o in page.get("Contents", [])}
    return keys


def _map_results(history: list[dict[str, Any]], s3: Any) -> list[dict[str, Any]]:
    """The per-location results of the execution's Distributed Map, read from where its ResultWriter put them."""
    (output,) = [
        json.loads(e["stateExitedEventDetails"]["output"])
        for e in history
        if e["type"] == "MapStateExited" and e["stateExitedEventDetails"]["name"] == "PerLocation"
    ]
    details = output["map_results"]["ResultWriterDetails"]
    return read_map_results(details["Bucket"], details["Key"], s3)


def _raw_put(port: int, path: str, declared: int, body: bytes) -> bytes:
    """A PUT that declares ``declared`` bytes and sends ``body``, then closes; returns what came back."""
    head = (
        f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {declared}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head + body)
        sock.shutdown(socket.SHUT_WR)  # the client is gone: no more bytes will come
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_a_put_cut_off_mid_body_is_never_visible(cloud: CloudProcess) -> None:
    s3, bucket = _s3(cloud, "DataBucket")
    port = int(urlparse(cloud.endpoints["aws_endpoint_url"]).port or 0)
    key = f"reliability/cut-{int(time.time() * 1000)}.bin"
    # GIVEN a client that declares 200,000 bytes and dies after sending half of them
    answer = _raw_put(port, f"/{bucket}/{key}", 200_000, b"x" * 100_000)
    # THEN S3 did not answer 200, and no object (neither the half nor anything else) is under the key
    assert not answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert key not in _keys(s3, bucket, "reliability/")
    # AND the same PUT sent whole is stored whole (the request itself was a valid one)
    whole = _raw_put(port, f"/{bucket}/{key}", 200_000, b"x" * 200_000)
    assert whole.startswith(b"HTTP/1.1 200"), whole[:200]
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == 200_000


def test_two_concurrent_runs_of_the_same_window_do_the_work_once(cloud: CloudProcess, champion: dict) -> None:
    client = cloud.client
    data, data_bucket = _s3(cloud, "DataBucket")
    clock = json.loads(data.get_object(Bucket=data_bucket, Key="clock/state.json")["Body"].read())
    # GIVEN the next window after the clock, and the dataset versions so far
    before = clock["now"]
    window_end = _next_day(before)
    versions_before = {loc: _versions(data, data_bucket, loc) for loc in LOCATIONS}
    # WHEN two executions of that window start at once
    stamp = int(time.time())
    arns = [client.start_execution({"now": window_end}, name=f"it-same-window-{stamp}-{i}") for i in range(2)]
    done = [client.wait_execution(arn, timeout_s=limit_s("daily_run")) for arn in arns]
    # THEN both succeed
    assert [d["status"] for d in done] == ["SUCCEEDED", "SUCCEEDED"], [d.get("cause") for d in done]
    histories = [client.history(arn) for arn in arns]
    # AND the clock moved once, by one step, to the window's end
    clock = json.loads(data.get_object(Bucket=data_bucket, Key="clock/state.json")["Body"].read())
    assert (clock["window_start"], clock["now"]) == (before, window_end)
    # AND each location's raw object was written once (the bucket is versioned: one version)
    for loc in LOCATIONS:
        key = f"raw/location={loc}/end={window_end}.json"
        versions = data.list_object_versions(Bucket=data_bucket, Prefix=key).get("Versions", [])
        assert [v["Key"] for v in versions] == [key], versions
    # AND each location has one new dataset version, the one both runs built and latest.json names
    transformed = [o for h in histories for o in _map_results(h, data)]
    assert len(transformed) == 2 * len(LOCATIONS) and all(o.get("dataset_version") for o in transformed)
    for loc in LOCATIONS:
        built = {o["dataset_version"] for o in transformed if o["location"] == loc}
        assert len(built) == 1, built
        assert _versions(data, data_bucket, loc) - versions_before[loc] == built
        latest = json.loads(
            data.get_object(Bucket=data_bucket, Key=f"datasets/location={loc}/latest.json")["Body"].read()
        )
        assert {latest["version"]} == built
    # AND both trained on the same pooled dataset, and the champion is one of the two runs' or the old one
    outputs = [json.loads(d["output"]) for d in done]
    assert outputs[0]["dataset_version"] == outputs[1]["dataset_version"]
    models, model_bucket = _s3(cloud, "ModelBucket")
    pointer = json.loads(models.get_object(Bucket=model_bucket, Key=POINTER_KEY)["Body"].read())
    assert pointer["dataset_version"] in (outputs[0]["dataset_version"], champion["dataset_version"])
    assert models.head_object(Bucket=model_bucket, Key=urlparse(pointer["model_uri"]).path.lstrip("/"))


def _next_day(time_text: str) -> str:
    from datetime import datetime, timedelta

    return (datetime.fromisoformat(time_text) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")


def _versions(s3: Any, bucket: str, location: str) -> set[str]:
    keys = _keys(s3, bucket, f"datasets/location={location}/version=")
    return {k.split("version=")[1].split("/")[0] for k in keys if k.endswith("/manifest.json")}


def test_500_requests_at_concurrency_8_get_no_5xx(cloud: CloudProcess, champion: dict, bodies: list) -> None:
    # GIVEN a champion and valid bodies WHEN 500 requests (1 in 10 GET /health) come from 8 connections
    result = run_load(cloud.endpoints["http_api_url"], bodies, requests=500, concurrency=8)
    # THEN every one is answered, none with a 5xx: all 200 (the bodies are valid)
    assert result.errors == [] and result.count == 500
    assert result.server_errors == 0 and dict(result.statuses) == {200: 500}, result.statuses
    print(f"500 requests: p50 {result.percentile(50):.1f} ms, p99 {result.percentile(99):.1f} ms")


def test_replacing_the_champion_under_load_fails_no_request(cloud: CloudProcess, champion: dict, bodies: list) -> None:
    models, bucket = _s3(cloud, "ModelBucket")
    original = models.get_object(Bucket=bucket, Key=POINTER_KEY)["Body"].read()
    doc = json.loads(original)
    swapped = threading.Event()
    stop = threading.Event()

    def swap() -> None:
        """A new champion version every half second (one PUT each, as Register replaces it)."""
        i = 0
        while not stop.wait(0.5):
            i += 1
            new = {**doc, "model_version": f"swap-{i}", "promoted_at": f"swap {i}"}
            models.put_object(Bucket=bucket, Key=POINTER_KEY, Body=json.dumps(new).encode())
            swapped.set()

    # GIVEN traffic from 8 connections WHEN the champion pointer is replaced again and again meanwhile,
    # until the API answers with a replaced version (serving checks the pointer every 30 s)
    swapper = threading.Thread(target=swap, daemon=True)
    swapper.start()
    try:
        result = run_load(
            cloud.endpoints["http_api_url"],
            bodies,
            requests=20_000,
            concurrency=8,
            until=lambda r: swapped.is_set() and any(v.startswith("swap-") for v in r.versions),
        )
    finally:
        stop.set()
        swapper.join(timeout=10)
        models.put_object(Bucket=bucket, Key=POINTER_KEY, Body=original)
    # THEN no request failed: every answer a 200, from the old champion or a new one
    assert result.errors == [] and result.server_errors == 0, (result.statuses, result.errors[:3])
    assert set(result.statuses) == {200}, result.statuses
    assert str(doc["model_version"]) in result.versions
    assert any(v.startswith("swap-") for v in result.versions), "no reload happened under load"
    assert result.count < 20_000  # it stopped on the reload, not on the request budget
