"""Load on the local HTTP API: 10,000 requests at concurrency 8 (POST /predict with valid bodies, and one
in ten GET /health) against a local cloud serving a champion the pipeline trained; zero 5xx is the goal,
with latency percentiles and throughput. Traffic goes only to 127.0.0.1.

The cloud is the project's template.yaml without MLflow and schedules, with ``ReplayStart=2013-01-25``
so that the one pipeline run that makes the champion trains on three weeks (about a minute here). Every
request goes API → a warm serving worker process (Mangum, FastAPI, ONNX) → back, as ``rps up`` serves it.
``RPS_BENCH_LOAD_REQUESTS`` and ``RPS_BENCH_LOAD_CONCURRENCY`` change the size.

    .venv/bin/python -m bench load

``run_load`` and ``request_bodies`` are also what tests/integration/test_reliability_pipeline.py uses.
"""

from __future__ import annotations

import http.client
import json
import os
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

PROJECT = Path(__file__).resolve().parents[1]
REQUESTS = int(os.environ.get("RPS_BENCH_LOAD_REQUESTS", "10000"))
CONCURRENCY = int(os.environ.get("RPS_BENCH_LOAD_CONCURRENCY", "8"))
HEALTH_EVERY = 10  # one request in ten is GET /health
EMBEDDED_ORDER = ("JFK", "LGA", "EWR")  # the stations of rps_core.sources.load_embedded(), in order
REPLAY_START = "2013-01-25T00:00"
CLOUD_ARGS = ("--no-mlflow", "--no-schedules", "--parameter-overrides", f"ReplayStart={REPLAY_START}")


def request_bodies(count: int, location: str = "JFK", before: str = REPLAY_START) -> list[dict[str, Any]]:
    """``count`` valid /predict bodies: windows of the embedded observations (cleaned to the hourly grid,
    as Transform keeps them) that end before ``before``, each with a known last target value."""
    from rps_core.datasets import clean_window, to_hourly_grid
    from rps_core.features import HISTORY_HOURS
    from rps_core.schema import observations_from_payload
    from rps_core.sources import load_embedded
    from rps_serving.inputs import observation_rows

    payload = load_embedded()[EMBEDDED_ORDER.index(location)]
    obs = to_hourly_grid(clean_window(observations_from_payload(payload, location))[0])
    limit = int(np.searchsorted(obs.time, np.datetime64(before, "h"), side="right"))
    target = obs.values["temperature_2m"]
    ends = [e for e in range(HISTORY_HOURS, limit + 1) if not np.isnan(target[e - 1])][-count:]
    return [{"location": location, "observations": observation_rows(obs.slice(e - HISTORY_HOURS, e))} for e in ends]


@dataclass
class LoadResult:
    """Statuses and latencies of a load run; ``versions`` counts the model versions /predict answered with."""

    statuses: Counter[int] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    versions: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)  # transport errors (no HTTP answer)
    seconds: float = 0.0

    @property
    def count(self) -> int:
        return sum(self.statuses.values()) + len(self.errors)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else float("nan")


def run_load(
    base_url: str,
    bodies: list[dict[str, Any]],
    requests: int,
    concurrency: int,
    health_every: int = HEALTH_EVERY,
    until: Callable[[LoadResult], bool] | None = None,
) -> LoadResult:
    """Send ``requests`` requests (or until ``until(result)`` holds) from ``concurrency`` threads, each on
    its own keep-alive connection; request i is GET /health when i % health_every == 0, else POST /predict."""
    url = urlparse(base_url)
    if url.hostname not in ("127.0.0.1", "localhost"):
        raise ValueError(f"load goes to the local cloud only, not {base_url}")
    encoded = [json.dumps(b).encode() for b in bodies]
    result, lock, counter = LoadResult(), threading.Lock(), iter(range(requests))
    stop = threading.Event()

    def next_index() -> int | None:
        with lock:
            return None if stop.is_set() else next(counter, None)

    def worker() -> None:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        try:
            while (i := next_index()) is not None:
                health = health_every > 0 and i % health_every == 0
                started = time.perf_counter()
                try:
                    if health:
                        conn.request("GET", "/health")
                    else:
                        body = encoded[i % len(encoded)]
                        conn.request("POST", "/predict", body, {"content-type": "application/json"})
                    response = conn.getresponse()
                    data = response.read()
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
                    with lock:
                        result.errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                version = None
                if not health and response.status == 200:
                    version = str(json.loads(data).get("model_version"))
                with lock:
                    result.statuses[response.status] += 1
                    result.latencies_ms.append(elapsed)
                    if version is not None:
                        result.versions[version] += 1
                    if until is not None and until(result):
                        stop.set()
        finally:
            conn.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(worker) for _ in range(concurrency)]:
            future.result()
    result.seconds = time.perf_counter() - started
    return result


@contextmanager
def cloud_with_champion(state_dir: Path) -> Iterator[Any]:
    """A local cloud (``CLOUD_ARGS``) after one pipeline run, so that serving has a champion."""
    from rps_local.emulator.process import CloudProcess

    cloud = CloudProcess(PROJECT, state_dir, *CLOUD_ARGS)
    cloud.start(timeout_s=180)
    try:
        ensure_champion(cloud)
        yield cloud
    finally:
        cloud.stop()


def ensure_champion(cloud: Any, timeout_s: float = 600) -> dict[str, Any]:
    """The champion pointer of the cloud, after running the pipeline once if there is none yet."""
    client = cloud.client
    s3, bucket = client.client("s3"), client.physical_id("ModelBucket")
    if s3.list_objects_v2(Bucket=bucket, Prefix="champion/pointer.json").get("KeyCount", 0) == 0:
        done = client.wait_execution(client.start_execution({}), timeout_s=timeout_s)
        if done["status"] != "SUCCEEDED":
            raise RuntimeError(f"the pipeline did not make a champion: {done.get('error')}: {done.get('cause')}")
    return json.loads(s3.get_object(Bucket=bucket, Key="champion/pointer.json")["Body"].read())


def run() -> list[dict[str, Any]]:
    bodies = request_bodies(200)
    with tempfile.TemporaryDirectory() as tmp, cloud_with_champion(Path(tmp)) as cloud:
        url = cloud.endpoints["http_api_url"]
        run_load(url, bodies, 4 * CONCURRENCY, CONCURRENCY)  # warm one worker per connection first
        load = os.getloadavg()[0]
        result = run_load(url, bodies, REQUESTS, CONCURRENCY)
    ok = result.server_errors == 0 and not result.errors
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(result.statuses.items()))
    return [
        {
            "case": f"HTTP API: {result.count:,} requests, concurrency {CONCURRENCY}, 1 in {HEALTH_EVERY} /health",
            "p50_ms": round(result.percentile(50), 2),
            "p90_ms": round(result.percentile(90), 2),
            "p99_ms": round(result.percentile(99), 2),
            "max_ms": round(max(result.latencies_ms, default=float("nan")), 1),
            "rps": round(result.count / result.seconds, 1),
            "goal": "zero 5xx, no transport errors",
            "met": ok,
            "note": f"statuses {statuses}; {len(result.errors)} transport errors; "
            f"load average {load:.1f} on {os.cpu_count()} CPUs",
        }
    ]


if __name__ == "__main__":
    for row in run():
        print(json.dumps(row))
