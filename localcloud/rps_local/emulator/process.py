"""``rps up`` as a child process: how the tests, the benchmarks and scripts get a cloud of their own.

A cloud in its own process keeps moto's process-wide state away from code that uses ``mock_aws`` (it
resets every backend), and measures what a user sees: start to ready, and the memory of the whole tree.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rps_local.emulator.client import CloudClient
from rps_local.emulator.errors import LocalCloudError
from rps_local.emulator.procs import tree_rss_mb

__all__ = ["CloudProcess"]


class CloudProcess:
    """``CloudProcess(project_dir, state_dir, "--no-mlflow").start()`` → ``.endpoints``, ``.client``."""

    def __init__(
        self,
        project_dir: Path | str,
        state_dir: Path | str,
        *up_args: str,
        port: int | None = 0,
        via_localstack_client: bool = False,
    ) -> None:
        self.project_dir = Path(project_dir).resolve()
        self.state_dir = Path(state_dir).resolve()
        # ``port`` 0: a free one, since several clouds may run at once; None: rps up's default (4566 if free)
        self.up_args = up_args if port is None else ("--port", str(port), *up_args)
        self.via_localstack_client = via_localstack_client
        self.endpoints: dict[str, Any] = {}
        self.ready_s: float | None = None
        self._process: subprocess.Popen[str] | None = None
        self.log_path = self.state_dir / "cloud.log"

    @property
    def client(self) -> CloudClient:
        return CloudClient(
            self.endpoints["aws_endpoint_url"],
            self.endpoints.get("stack_name", "rps"),
            via_localstack_client=self.via_localstack_client,
        )

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def start(self, timeout_s: float = 120.0) -> CloudProcess:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        endpoints_file = self.state_dir / "endpoints.json"
        endpoints_file.unlink(missing_ok=True)
        command = [
            sys.executable,
            "-m",
            "rps_local.tools.cli.main",
            "up",
            "--project-dir",
            str(self.project_dir),
            "--state-dir",
            str(self.state_dir),
            *self.up_args,
        ]
        started = time.perf_counter()
        with self.log_path.open("w") as log:
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, text=True, cwd=self.project_dir, stdin=subprocess.DEVNULL
            )
        deadline = time.monotonic() + timeout_s
        while not endpoints_file.exists():
            if self._process.poll() is not None:
                raise LocalCloudError(f"rps up exited with {self._process.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                self.stop()
                raise LocalCloudError(f"rps up was not ready within {timeout_s:.0f} s:\n{self.log()}")
            time.sleep(0.05)
        self.ready_s = time.perf_counter() - started
        self.endpoints = json.loads(endpoints_file.read_text())
        return self

    def memory_mb(self) -> float:
        """Resident memory of the cloud process and everything it started (workers, MLflow)."""
        return tree_rss_mb([self.pid])

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def rps(self, *args: str, timeout_s: float = 600.0) -> subprocess.CompletedProcess[str]:
        """Run an ``rps`` command against this cloud."""
        env = {**os.environ, "RPS_STATE_DIR": str(self.state_dir)}
        return subprocess.run(
            [sys.executable, "-m", "rps_local.tools.cli.main", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=self.project_dir,
            timeout=timeout_s,
            check=False,
        )

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> CloudProcess:
        # `with CloudProcess(...).start():` must not start a second cloud
        return self if self._process is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
