"""The local cloud: ``rps up`` start to ready (goal < 10 s), warm invoke overhead against calling the
handler in-process (goal < 5 ms), cold invoke, and the resident memory of the whole cloud with every
function warm (goal < 2.5 GB). Medians; ``RPS_BENCH_REPEAT`` sets the repetitions of ``rps up`` (3).

    .venv/bin/python -m bench localcloud
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from rps_local.emulator.endpoints import control_request
from rps_local.emulator.process import CloudProcess
from rps_local.emulator.procs import tree_pss_mb

PROJECT = Path(__file__).resolve().parents[1]
TOY = PROJECT / "tests" / "integration" / "fixtures" / "toy"
WARM_CALLS = 200


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _startup(work: Path, repeat: int) -> list[dict[str, Any]]:
    times = []
    for i in range(repeat):
        with CloudProcess(PROJECT, work / f"up-{i}") as cloud:
            times.append(cloud.ready_s or 0.0)
    return [
        {
            "case": "rps up: start to ready (moto + deploy + MLflow)",
            "median": statistics.median(times),
            "unit": "s",
            "goal": "< 10",
            "n": repeat,
            "samples": " ".join(f"{t:.1f}" for t in times),
        }
    ]


class _Context:
    aws_request_id = "bench"
    function_name = "bench"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def _in_process_ms() -> float:
    sys.path[:0] = [str(TOY / "functions"), str(TOY / "layer")]
    try:
        import handlers  # the toy handler, called directly

        samples = []
        for _ in range(WARM_CALLS):
            started = time.perf_counter()
            handlers.check({"n": 1}, _Context())
            samples.append(time.perf_counter() - started)
        return _median_ms(samples)
    finally:
        del sys.path[:2]


def _worker_ms() -> float:
    from rps_local.emulator.awslambda.workers import Worker, WorkerConfig, code_paths

    env = (("PATH", os.environ.get("PATH", "")), ("_HANDLER", "handlers.check"))
    worker = Worker(
        WorkerConfig("bench", "handlers.check", code_paths(TOY / "functions", [TOY / "layer"]), env, 10.0, 128)
    )
    try:
        worker.invoke("cold", "{}", "arn")
        samples = []
        for i in range(WARM_CALLS):
            started = time.perf_counter()
            worker.invoke(str(i), '{"n": 1}', "arn")
            samples.append(time.perf_counter() - started)
        return _median_ms(samples)
    finally:
        worker.kill()


def _invokes(work: Path) -> list[dict[str, Any]]:
    rows = []
    with CloudProcess(TOY, work / "toy", "--no-mlflow", "--no-schedules") as cloud:
        client = cloud.client
        client.invoke("CheckFunction", {"n": 0})  # cold start out of the way
        samples = []
        for _ in range(WARM_CALLS):
            started = time.perf_counter()
            client.invoke("CheckFunction", {"n": 1})
            samples.append(time.perf_counter() - started)
        lam, name = client.client("lambda"), client.physical_id("CheckFunction")
        api = []
        for _ in range(WARM_CALLS):
            started = time.perf_counter()
            lam.get_function_configuration(FunctionName=name)
            api.append(time.perf_counter() - started)
        warm, direct = _median_ms(samples), _in_process_ms()
        rows.append(
            {
                "case": "warm invoke through the AWS API (boto3 → moto → worker)",
                "median": warm,
                "unit": "ms",
                "n": WARM_CALLS,
            }
        )
        rows.append({"case": "handler called in-process", "median": direct, "unit": "ms", "n": WARM_CALLS})
        rows.append(
            {"case": "warm invoke overhead (the two above)", "median": warm - direct, "unit": "ms", "goal": "< 5"}
        )
        rows.append(
            {
                "case": "  of which any moto API call (GetFunctionConfiguration)",
                "median": _median_ms(api),
                "unit": "ms",
                "n": WARM_CALLS,
            }
        )
        rows.append(
            {
                "case": "  of which the worker round trip (pipe, handler, result)",
                "median": _worker_ms(),
                "unit": "ms",
                "n": WARM_CALLS,
            }
        )
        cold = []
        for _ in range(5):
            control_request(cloud.endpoints, "POST", "/deploy", {})  # restarts the workers
            started = time.perf_counter()
            client.invoke("EchoFunction", {"n": 1})
            cold.append(time.perf_counter() - started)
        rows.append(
            {
                "case": "cold invoke (toy handler importing boto3)",
                "median": _median_ms(cold),
                "unit": "ms",
                "n": len(cold),
            }
        )
    return rows


def _all_warm(work: Path) -> list[dict[str, Any]]:
    with CloudProcess(PROJECT, work / "warm") as cloud:
        client = cloud.client
        arn = client.start_execution({})
        described = client.wait_execution(arn, timeout_s=900)
        functions = client.resources("AWS::Lambda::Function")
        status = control_request(cloud.endpoints, "GET", "/status")
        for logical_id in functions:
            if status["functions"][logical_id]["idle"] == 0:
                event_file = PROJECT / "events" / f"{_snake(logical_id)}.json"
                event = json.loads(event_file.read_text()) if event_file.exists() else {}
                client.invoke(logical_id, event)
        with urllib.request.urlopen(cloud.endpoints["http_api_url"] + "/health", timeout=30):
            pass
        status = control_request(cloud.endpoints, "GET", "/status")
        warm = [lid for lid, info in status["functions"].items() if info["idle"] + info["busy"] > 0]
        workers = sum(info["idle"] + info["busy"] for info in status["functions"].values())
        return [
            {
                "case": f"memory, whole cloud, {len(warm)}/{len(functions)} functions warm ({workers} workers)",
                "median": cloud.memory_mb() / 1024,
                "unit": "GB",
                "goal": "< 2.5",
                "samples": f"pipeline {described['status']}",
            },
            {
                "case": "  the same as PSS (shared pages counted once)",
                "median": tree_pss_mb([cloud.pid]) / 1024,
                "unit": "GB",
            },
        ]


def _snake(logical_id: str) -> str:
    name = logical_id.removesuffix("Function")
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))


def run() -> list[dict[str, Any]]:
    repeat = int(os.environ.get("RPS_BENCH_REPEAT", "3"))
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for part in (lambda: _startup(work, repeat), lambda: _invokes(work), lambda: _all_warm(work)):
            try:
                rows += part()
            except Exception as exc:  # the real template may not deploy yet: keep the other numbers
                rows.append({"case": "failed", "error": f"{type(exc).__name__}: {str(exc)[:160]}"})
    return rows


if __name__ == "__main__":
    for row in run():
        print(json.dumps(row))
