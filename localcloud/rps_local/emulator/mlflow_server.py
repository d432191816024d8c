"""The MLflow tracking server of the local cloud: SQLite backend store, artifacts in a bucket of the cloud.

It runs from its own environment (``.venv-mlflow``, made by ``make venv``) with the flags that keep it
at one process and about 0.5 GB (see DESIGN.md)."""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from rps_local.emulator.errors import MlflowServerError
from rps_local.emulator.network import CONTAINER_HOST_NAMES

__all__ = ["ARTIFACT_BUCKET", "MlflowServer", "find_mlflow"]

ARTIFACT_BUCKET = "rps-mlflow-artifacts"


def _die_with_parent() -> None:
    """Linux: the server gets SIGTERM when the cloud's process dies, even by SIGKILL (no orphan server).
    The signal follows the thread that started it: start the cloud from a thread that lives as long."""
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def find_mlflow(project_dir: Path) -> Path:
    candidate = Path(os.environ.get("RPS_MLFLOW_BIN") or project_dir / ".venv-mlflow" / "bin" / "mlflow")
    if not os.access(candidate, os.X_OK):
        raise MlflowServerError(f"{candidate}: the MLflow server is not installed: run make venv")
    return candidate


class MlflowServer:
    def __init__(
        self, executable: Path, state_dir: Path, port: int, s3_endpoint_url: str, host: str = "127.0.0.1"
    ) -> None:
        self.executable = executable
        self.host = host  # where it listens: the cloud's --host (0.0.0.0 lets containers reach it)
        self.state_dir = state_dir
        self.port = port
        self.s3_endpoint_url = s3_endpoint_url
        self.log_path = state_dir / "mlflow.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the server; it begins fresh, like the rest of the cloud (the S3 artifacts are in memory)."""
        db = self.state_dir / "mlflow.db"
        db.unlink(missing_ok=True)
        template = self._empty_db()
        if template.exists():  # a migrated empty database: the server skips creating its tables (seconds)
            shutil.copyfile(template, db)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MLFLOW_"))}
        env.update(
            {
                "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
                "MLFLOW_S3_ENDPOINT_URL": self.s3_endpoint_url,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1",
            }
        )
        command = [
            str(self.executable),
            "server",
            "--workers",
            "1",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--backend-store-uri",
            f"sqlite:///{db}",
            "--artifacts-destination",
            f"s3://{ARTIFACT_BUCKET}/mlflow",
        ]
        if self.host not in ("127.0.0.1", "localhost"):
            # MLflow refuses Host headers other than localhost and private IPs (DNS rebinding): a container
            # calls it by the name its engine gives this machine
            allowed = (
                "localhost",
                "localhost:*",
                "127.0.0.1",
                "127.0.0.1:*",
                *(f"{n}:*" for n in CONTAINER_HOST_NAMES),
            )
            command += ["--allowed-hosts", ",".join(allowed)]
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # one prctl call before exec
            )

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                raise MlflowServerError(f"the MLflow server exited; see {self.log_path}:\n{self._log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.uri}/health", timeout=1) as response:  # noqa: S310 - our URL
                    if response.status == 200:
                        self._keep_empty_db()
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise MlflowServerError(f"the MLflow server did not answer within {timeout_s:.0f} s; see {self.log_path}")

    def _empty_db(self) -> Path:
        """Where an empty database made by this MLflow installation is kept, for the next start."""
        executable = self.executable.resolve()
        stat = executable.stat()
        key = hashlib.sha256(f"{executable}:{stat.st_mtime_ns}:{stat.st_size}".encode()).hexdigest()[:16]
        cache = Path(os.environ.get("RPS_CACHE_DIR") or Path.home() / ".cache" / "rps-local")
        return cache / f"mlflow-empty-{key}.db"

    def _keep_empty_db(self) -> None:
        template = self._empty_db()
        if template.exists():
            return
        try:
            template.parent.mkdir(parents=True, exist_ok=True)
            partial = template.with_suffix(f".{os.getpid()}.tmp")
            with sqlite3.connect(self.state_dir / "mlflow.db") as source, sqlite3.connect(partial) as copy:
                source.backup(copy)  # consistent even while the server runs
            partial.replace(template)
        except (OSError, sqlite3.Error):
            pass  # only a cache: the next start creates the tables itself

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        # the server runs its workers as children: signal its whole process group
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-15:])
        except OSError:
            return ""
