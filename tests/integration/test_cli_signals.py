"""``rps up`` started in the background by a script stops everything it started on SIGTERM and on SIGINT.

A shell's background job starts with SIGINT ignored, and Python's default SIGTERM exits at once: either
would leave the Lambda workers and the MLflow server running. The cloud is started as a script does,
``rps up ... &`` from ``sh -c``, so it is not this test's child either.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from rps_local.emulator.client import CloudClient

from tests.integration.budgets import limit_s

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("cloud")]

ROOT = Path(__file__).resolve().parents[2]
TOY_DIR = Path(__file__).resolve().parent / "fixtures" / "toy"
MLFLOW = ROOT / ".venv-mlflow" / "bin" / "mlflow"


def start_in_background(state_dir: Path, *up_args: str) -> int:
    """``sh -c 'rps up ... &'``: the shell returns at once; the cloud's pid comes from endpoints.json."""
    log = state_dir / "cloud.log"
    script = '"$@" >"$RPS_LOG" 2>&1 </dev/null &'
    command = [sys.executable, "-m", "rps_local.tools.cli.main", "up", "--project-dir", str(TOY_DIR), *up_args]
    env = {**os.environ, "RPS_LOG": str(log), "RPS_STATE_DIR": str(state_dir), "RPS_MLFLOW_BIN": str(MLFLOW)}
    subprocess.run(["sh", "-c", script, "sh", *command], env=env, check=True, timeout=30)
    endpoints = state_dir / "endpoints.json"
    deadline = time.monotonic() + limit_s("cloud_start")
    while not endpoints.exists():
        text = log.read_text() if log.exists() else ""
        assert time.monotonic() < deadline and "rps up: error" not in text, f"rps up did not start:\n{text}"
        time.sleep(0.1)
    return int(json.loads(endpoints.read_text())["pid"])


@pytest.mark.parametrize(
    ("signum", "up_args"),
    [(signal.SIGTERM, ()), (signal.SIGINT, ("--no-mlflow",))],
    ids=["SIGTERM-with-mlflow", "SIGINT-no-mlflow"],
)
def test_background_rps_up_leaves_nothing_running(tmp_path: Path, signum: int, up_args: tuple[str, ...]) -> None:
    # GIVEN a cloud started in the background (state dir from $RPS_STATE_DIR), with a warm Lambda worker
    assert MLFLOW.exists() or up_args, ".venv-mlflow is missing: run `make venv`"
    pid = start_in_background(tmp_path, "--port", "0", "--no-schedules", *up_args)  # a free port, not 4566
    cloud = psutil.Process(pid)
    children: list[psutil.Process] = []
    try:
        endpoints = json.loads((tmp_path / "endpoints.json").read_text())
        client = CloudClient(endpoints["aws_endpoint_url"], endpoints["stack_name"])
        assert client.invoke("CheckFunction", {"n": 1}).payload == {"n": 1, "checked": True}
        children = cloud.children(recursive=True)
        assert children, "no worker process was started"
        if not up_args:
            assert any("mlflow" in " ".join(c.cmdline()) for c in children), "no MLflow server"
        # WHEN the script signals it
        os.kill(pid, signum)
        # THEN it exits, and every process it started has gone with it
        cloud.wait(timeout=30)
        _, alive = psutil.wait_procs(children, timeout=10)
        assert not alive, f"left running: {[(p.pid, p.cmdline()) for p in alive]}"
        assert not (tmp_path / "endpoints.json").exists()
        assert "stopped" in (tmp_path / "cloud.log").read_text()
    finally:
        for process in [cloud, *children]:
            if process.is_running():
                process.kill()
