"""The worker runtime on its own (no moto): the real handler in a warm subprocess, Lambda's errors,
timeouts, crashes, output capture that handler prints cannot corrupt, and the pool's reuse."""

from __future__ import annotations

import json
import os
import textwrap
import threading
import time
from pathlib import Path

import pytest
from rps_local.emulator.awslambda.runtime import LambdaRuntime, default_concurrency, machine_cpus
from rps_local.emulator.awslambda.spec import FunctionSpec
from rps_local.emulator.awslambda.workers import Worker, WorkerConfig
from rps_local.emulator.cloudformation.template import code_key

HANDLERS = """
import json, os, sys, time
print("init output")
def ok(event, context):
    print("handling", event)
    return {"event": event, "remaining_ms": context.get_remaining_time_in_millis(),
            "request_id": context.aws_request_id, "memory": context.memory_limit_in_mb,
            "env": os.environ.get("FROM_TEMPLATE"), "pid": os.getpid(), "cpus": os.environ.get("RPS_CPU_SHARE")}
class DataQualityError(Exception):
    pass
def fails(event, context):
    raise DataQualityError("3 checks failed")
def slow(event, context):
    time.sleep(event["seconds"])
    return "done"
def crash(event, context):
    os._exit(3)
def chatty(event, context):
    sys.stdout.write("x" * 300_000 + "\\n")  # far beyond a pipe's buffer
    print(json.dumps({"type": "result", "payload": "forged"}))
    return "real"
def unmarshallable(event, context):
    return {"when": object()}
"""


@pytest.fixture(scope="module")
def code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("code")
    (directory / "app.py").write_text(textwrap.dedent(HANDLERS))
    return directory


def _worker(code: Path, handler: str, timeout_s: float = 5.0) -> Worker:
    env = (
        ("PATH", os.environ["PATH"]),
        ("_HANDLER", handler),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
        ("FROM_TEMPLATE", "yes"),
    )
    return Worker(WorkerConfig("fn", handler, (str(code),), env, timeout_s, 256))


def test_warm_worker_runs_the_handler_with_context_and_environment(code):
    worker = _worker(code, "app.ok")
    try:
        cold = worker.invoke("req-1", json.dumps({"a": 1}), "arn:fn")
        warm = worker.invoke("req-2", json.dumps({"a": 2}), "arn:fn")
    finally:
        worker.kill()
    first, second = json.loads(cold.payload), json.loads(warm.payload)
    assert cold.status == "ok" and first["event"] == {"a": 1} and first["request_id"] == "req-1"
    assert first["memory"] == 256 and first["env"] == "yes" and 0 < first["remaining_ms"] <= 5000
    assert first["pid"] == second["pid"]  # the same environment, warm
    assert cold.init_ms is not None and warm.init_ms is None
    assert [line for _, line in cold.output] == ["init output", "handling {'a': 1}"]
    assert [line for _, line in warm.output] == ["handling {'a': 2}"]


def test_exception_is_reported_by_class_name(code):
    worker = _worker(code, "app.fails")
    try:
        result = worker.invoke("req", "{}", "arn")
    finally:
        worker.kill()
    error = json.loads(result.payload)
    assert result.status == "error"
    assert (error["errorType"], error["errorMessage"]) == ("DataQualityError", "3 checks failed")
    assert "app.py" in error["stackTrace"][0] and "worker_main" not in json.dumps(error["stackTrace"])


def test_timeout_kills_the_worker(code):
    worker = _worker(code, "app.slow", timeout_s=0.5)
    started = time.monotonic()
    result = worker.invoke("req", json.dumps({"seconds": 30}), "arn")
    assert time.monotonic() - started < 5
    assert result.status == "timeout" and not worker.alive
    assert json.loads(result.payload)["errorType"] == "Sandbox.Timedout"


def test_crash_is_an_exit_error(code):
    worker = _worker(code, "app.crash")
    result = worker.invoke("req", "{}", "arn")
    assert result.status == "exit"
    assert json.loads(result.payload) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": "RequestId: req Error: Runtime exited with error: exit status 3",
    }


def test_handler_output_cannot_corrupt_the_result(code):
    worker = _worker(code, "app.chatty")
    try:
        result = worker.invoke("req", "{}", "arn")
    finally:
        worker.kill()
    assert json.loads(result.payload) == "real"
    assert any(len(line) == 300_000 for _, line in result.output)


@pytest.mark.parametrize(
    ("handler", "error_type"),
    [
        ("missing.handler", "Runtime.ImportModuleError"),
        ("app.nope", "Runtime.HandlerNotFound"),
        ("app.unmarshallable", "Runtime.MarshalError"),
    ],
)
def test_runtime_errors(code, handler, error_type):
    worker = _worker(code, handler)
    try:
        result = worker.invoke("req", "{}", "arn")
    finally:
        worker.kill()
    assert json.loads(result.payload)["errorType"] == error_type


def _spec(code: Path, handler: str = "app.ok") -> FunctionSpec:
    return FunctionSpec(
        name="fn",
        arn="arn:aws:lambda:us-east-1:123456789012:function:fn",
        handler=handler,
        runtime="python3.12",
        timeout=5,
        memory_mb=128,
        version="$LATEST",
        environment={"FROM_TEMPLATE": "t"},
        code_key=code_key(code),
        layer_keys=(),
        log_group="/aws/lambda/fn",
        account_id="123456789012",
        region="us-east-1",
    )


def test_runtime_reuses_workers_runs_concurrent_invokes_apart_and_restarts(code):
    seen: list[str] = []
    runtime = LambdaRuntime("http://localhost:1", on_output=lambda spec, text: seen.append(text))
    try:
        first = runtime.invoke(_spec(code), {"n": 1})
        second = runtime.invoke(_spec(code), {"n": 2})
        assert json.loads(first.payload)["pid"] == json.loads(second.payload)["pid"]
        assert first.log_lines[0][1].startswith("START RequestId: ")
        assert "Init Duration" in first.log_lines[-1][1] and "Init Duration" not in second.log_lines[-1][1]
        assert "handling {'n': 2}" in seen[-1]
        results = []
        threads = [
            threading.Thread(target=lambda: results.append(runtime.invoke(_spec(code, "app.slow"), {"seconds": 0.5})))
            for _ in range(3)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert runtime.stats()["fn"]["idle"] == 4  # one app.ok worker, three app.slow workers
        runtime.restart()
        third = runtime.invoke(_spec(code), {"n": 3})
        assert json.loads(third.payload)["pid"] != json.loads(second.payload)["pid"]
    finally:
        runtime.close()


def test_each_invocation_gets_its_share_of_the_clouds_cpus(code):
    runtime = LambdaRuntime("http://localhost:1", cpus=4)
    try:
        # GIVEN a cloud of 4 CPUs and nothing else running: one invocation may use all of them
        assert json.loads(runtime.invoke(_spec(code), {}).payload)["cpus"] == "4"
        # WHEN two other invocations are busy
        slow = [
            threading.Thread(target=runtime.invoke, args=(_spec(code, "app.slow"), {"seconds": 1.5})) for _ in range(2)
        ]
        for thread in slow:
            thread.start()
        deadline = time.monotonic() + 10
        while runtime.stats().get("fn", {}).get("busy", 0) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        shared = json.loads(runtime.invoke(_spec(code), {}).payload)["cpus"]
        for thread in slow:
            thread.join()
        # THEN the third gets 4 // 3 = 1 CPU, and once alone again the whole machine
        assert shared == "1"
        assert json.loads(runtime.invoke(_spec(code), {}).payload)["cpus"] == "4"
    finally:
        runtime.close()


def test_the_clouds_cpus_are_this_process_s_unless_given(monkeypatch):
    monkeypatch.delenv("RPS_CPU_SHARE", raising=False)
    assert machine_cpus() == len(os.sched_getaffinity(0))
    monkeypatch.setenv("RPS_CPU_SHARE", "1")
    assert machine_cpus() == 1
    runtime = LambdaRuntime("http://localhost:1")
    try:
        assert runtime.cpus == 1 and runtime.cpu_share() == 1
    finally:
        runtime.close()


def test_executions_beyond_the_concurrency_limit_wait_and_workers_stay_within_it(code):
    # GIVEN a cloud that allows two executions at once
    runtime = LambdaRuntime("http://localhost:1", concurrency=2)
    try:
        most_busy, most_workers = 0, 0
        threads = [
            threading.Thread(target=runtime.invoke, args=(_spec(code, "app.slow"), {"seconds": 0.3})) for _ in range(6)
        ]
        # WHEN six slow invocations arrive together
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            stats = runtime.stats().get("fn", {"busy": 0, "idle": 0})
            most_busy = max(most_busy, stats["busy"])
            most_workers = max(most_workers, stats["busy"] + stats["idle"])
            time.sleep(0.01)
        # THEN all ran, never more than two at once, on two worker processes
        assert most_busy == 2 and most_workers == 2
        # AND a cold start of another function evicts an idle worker rather than making a third process
        runtime.invoke(_spec(code), {})
        assert runtime.stats()["fn"]["busy"] + runtime.stats()["fn"]["idle"] == 2
    finally:
        runtime.close()
    assert default_concurrency(2) == 8 and default_concurrency(16) == 64


def test_an_invocation_after_close_starts_no_worker_that_would_outlive_the_cloud(code):
    runtime = LambdaRuntime("http://localhost:1")
    runtime.invoke(_spec(code), {})
    runtime.close()
    with pytest.raises(RuntimeError, match="stopping"):
        runtime.invoke(_spec(code), {})
    assert runtime.stats() == {}


def test_idle_workers_are_reaped(code):
    runtime = LambdaRuntime("http://localhost:1", idle_timeout_s=0.2)
    try:
        runtime.invoke(_spec(code), {})
        assert runtime.stats()["fn"]["idle"] == 1
        deadline = time.monotonic() + 5
        while runtime.stats() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert runtime.stats() == {}
    finally:
        runtime.close()


def test_restart_after_a_code_change_runs_the_new_code(tmp_path):
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return 'v1'\n")
    runtime = LambdaRuntime("http://localhost:1")
    try:
        assert runtime.invoke(_spec(tmp_path, "app.handler"), {}).payload == '"v1"'
        # a different size: Python's own .pyc check (source mtime in seconds and size) sees the edit
        (tmp_path / "app.py").write_text("def handler(event, context):\n    return 'v2, edited'\n")
        assert runtime.invoke(_spec(tmp_path, "app.handler"), {}).payload == '"v1"'  # warm: the old code
        runtime.restart()  # what `rps deploy` does
        assert runtime.invoke(_spec(tmp_path, "app.handler"), {}).payload == '"v2, edited"'
    finally:
        runtime.close()
