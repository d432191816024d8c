"""Worker processes: one Lambda execution environment each, for one function's code and configuration.

A worker is started by ``spawn`` (the cold start), imports the handler, then serves invocations one at a
time (warm). Requests and results travel on a ``multiprocessing.connection`` pipe; the process's stdout and
stderr share one pipe, read here while waiting so that a chatty handler never blocks on a full pipe.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import selectors
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

__all__ = ["RawResult", "Worker", "WorkerConfig"]

_DRAIN_S = 2.0  # how long output may trail a result before it is given up


@dataclass(frozen=True)
class WorkerConfig:
    """Everything a worker's process is started with; equal configs can share warm workers."""

    function_name: str
    handler: str
    code_paths: tuple[str, ...]
    environment: tuple[tuple[str, str], ...]
    timeout_s: float
    memory_mb: int


@dataclass
class RawResult:
    """One invocation as the worker ended it: ``status`` is ok, error, timeout or exit."""

    status: str
    payload: str
    output: list[tuple[int, str]] = field(default_factory=list)
    duration_ms: float = 0.0
    init_ms: float | None = None
    max_rss_mb: int = 0


class Worker:
    def __init__(self, config: WorkerConfig, python: str = sys.executable) -> None:
        self.config = config
        self.log_stream = time.strftime("%Y/%m/%d/[$LATEST]", time.gmtime()) + uuid.uuid4().hex
        self.last_used = time.monotonic()
        self.generation = 0
        self._nonce = secrets.token_hex(16).encode()
        self._buffer = bytearray()
        self._lines: list[tuple[int, str]] = []
        self._ready: dict[str, Any] | None = None
        self._closed = False
        request_r, request_w = os.pipe()
        reply_r, reply_w = os.pipe()
        env = dict(config.environment)
        env["RPS_CODE_PATHS"] = os.pathsep.join(config.code_paths)
        env["AWS_LAMBDA_LOG_STREAM_NAME"] = self.log_stream
        self.process = subprocess.Popen(
            [
                python,
                "-u",
                "-m",
                "rps_local.emulator.awslambda.worker_main",
                str(request_r),
                str(reply_w),
                self._nonce.decode(),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=config.code_paths[0] if config.code_paths else None,
            pass_fds=(request_r, reply_w),
            start_new_session=True,  # Ctrl-C in the terminal goes to the cloud, which stops workers itself
        )
        os.close(request_r)
        os.close(reply_w)
        self._requests = Connection(request_w, readable=False)
        self._replies = Connection(reply_r, writable=False)
        assert self.process.stdout is not None
        self._stdout = self.process.stdout.fileno()
        os.set_blocking(self._stdout, False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._stdout, selectors.EVENT_READ, "out")
        self._selector.register(self._replies.fileno(), selectors.EVENT_READ, "reply")

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def invoke(self, request_id: str, event_json: str, arn: str, cpus: int | None = None) -> RawResult:
        """Run one invocation; init (on the first one) is given its own 10 s plus the function's timeout.

        ``cpus``: the share of the machine this invocation may keep busy (``RPS_CPU_SHARE`` inside).
        """
        init_ms = None
        if self._ready is None:
            reply = self._wait_reply(time.monotonic() + 10 + self.config.timeout_s)
            if not isinstance(reply, dict):
                return self._ended(reply, request_id, 0.0)
            self._ready, init_ms = reply, reply["init_ms"]
        started = time.monotonic()
        deadline_ms = int(time.time() * 1000 + self.config.timeout_s * 1000)
        request = {"request_id": request_id, "event": event_json, "deadline_ms": deadline_ms, "arn": arn, "cpus": cpus}
        try:
            self._requests.send_bytes(json.dumps(request).encode())
        except OSError:
            return self._ended("exit", request_id, 0.0)
        reply = self._wait_reply(started + self.config.timeout_s)
        duration_ms = (time.monotonic() - started) * 1000
        self.last_used = time.monotonic()
        if not isinstance(reply, dict):
            return self._ended(reply, request_id, duration_ms)
        result = RawResult(
            status="error" if reply["errored"] else "ok",
            payload=reply["payload"],
            output=self._take_lines(),
            duration_ms=duration_ms,
            init_ms=init_ms,
            max_rss_mb=reply["max_rss_mb"],
        )
        if self._ready.get("error") is not None:
            self.kill()  # an environment whose init failed is not reused
        return result

    def kill(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._selector.close()
        for closable in (self._requests, self._replies, self.process.stdout):
            with contextlib.suppress(OSError):
                closable.close()  # type: ignore[union-attr]

    # ------------------------------------------------------------------ internals

    def _wait_reply(self, deadline: float) -> dict[str, Any] | str:
        """The next message, or "timeout" / "exit"; reads output meanwhile, then up to the end marker."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout"
            for key, _ in self._selector.select(remaining):
                if key.data == "out":
                    self._read_output()
                    continue
                try:
                    message = json.loads(self._replies.recv_bytes())
                except (EOFError, OSError):
                    return "exit"
                self._drain_to_marker(time.monotonic() + _DRAIN_S)
                return message
            if not self.alive and not self._replies.poll(0):
                return "exit"

    def _read_output(self) -> bool:
        try:
            chunk = os.read(self._stdout, 65536)
        except BlockingIOError:
            return True
        if not chunk:
            self._selector.unregister(self._stdout)
            return False
        self._buffer += chunk
        return True

    def _drain_to_marker(self, deadline: float) -> None:
        while self._nonce not in self._buffer and time.monotonic() < deadline:
            if self._stdout not in self._selector.get_map():
                break
            if self._selector.select(max(0.0, deadline - time.monotonic())):
                self._read_output()
        before, _marker, after = bytes(self._buffer).partition(self._nonce)
        self._buffer = bytearray(after)
        self._split(before)

    def _split(self, data: bytes) -> None:
        now = int(time.time() * 1000)
        text = data.decode("utf-8", errors="replace")
        self._lines.extend((now, line) for line in text.splitlines() if line.strip())

    def _take_lines(self) -> list[tuple[int, str]]:
        lines, self._lines = self._lines, []
        return lines

    def _ended(self, reason: str, request_id: str, duration_ms: float) -> RawResult:
        """The worker timed out or exited: kill it, keep what it printed, answer as Lambda does."""
        self.kill_and_collect()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        if reason == "timeout":
            message = f"Task timed out after {self.config.timeout_s:.2f} seconds"
            self._lines.append((int(time.time() * 1000), f"{stamp}Z {request_id} {message}"))
            error = {"errorType": "Sandbox.Timedout", "errorMessage": f"RequestId: {request_id} Error: {message}"}
        else:
            code = self.process.returncode
            status = f"signal: {signal.Signals(-code).name}" if code and code < 0 else f"exit status {code}"
            message = f"Runtime exited with error: {status}"
            self._lines.append((int(time.time() * 1000), f"RequestId: {request_id} Error: {message}"))
            error = {"errorType": "Runtime.ExitError", "errorMessage": f"RequestId: {request_id} Error: {message}"}
        return RawResult(status=reason, payload=json.dumps(error), output=self._take_lines(), duration_ms=duration_ms)

    def kill_and_collect(self) -> None:
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        deadline = time.monotonic() + 0.5
        while self._stdout in self._selector.get_map() and time.monotonic() < deadline:
            if self._selector.select(0.1) and not self._read_output():
                break
        self._split(bytes(self._buffer).replace(self._nonce, b"\n"))
        self._buffer.clear()
        self.kill()


def code_paths(code_dir: Path, layer_dirs: list[Path]) -> tuple[str, ...]:
    """The function's code first, then each layer (its ``python/`` folder when it has one, as in /opt/python)."""
    paths = [str(code_dir)]
    for layer in layer_dirs:
        paths.extend(str(p) for p in (layer / "python", layer) if p.is_dir())
    return tuple(paths)
