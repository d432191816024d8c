"""The Lambda runtime of the local cloud: pools of warm workers per function, the Lambda environment
variables, and the log lines Lambda writes (START, END, REPORT). ``LambdaRuntime.invoke`` is the
invoker that ``moto_hooks.install`` routes every Lambda invocation to."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rps_local.emulator.awslambda.spec import FunctionSpec, InvokeOutcome
from rps_local.emulator.awslambda.workers import RawResult, Worker, WorkerConfig, code_paths
from rps_local.emulator.cloudformation.template import code_dir_of_key

__all__ = ["LambdaRuntime"]

logger = logging.getLogger(__name__)

_LOG_TAIL_BYTES = 4096  # Invoke's LogResult carries the last 4 KB, as on AWS
_PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
# The share of the cloud's CPUs an invocation may keep busy, which the product's thread pools honour
# (rps_core.cpus): Lambda gives every execution environment vCPUs of its own; here workers share the machine.
CPU_SHARE_VARIABLE = "RPS_CPU_SHARE"


def default_concurrency(cpus: int) -> int:
    """Concurrent executions the local cloud allows by default: enough for the pipeline's Map, the HTTP API
    and the monitors at once, few enough that a Map of 1,000 items never starts 1,000 processes."""
    return max(8, 4 * cpus)


def machine_cpus() -> int:
    """The CPUs this process may use: its affinity mask, and its own ``RPS_CPU_SHARE`` when one is given."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    share = os.environ.get(CPU_SHARE_VARIABLE, "").strip()
    return max(1, min(cpus, int(share))) if share.isdigit() and int(share) > 0 else cpus


class LambdaRuntime:
    """Runs invocations in warm workers; ``endpoint_url`` is the local cloud every function talks to."""

    def __init__(
        self,
        endpoint_url: str,
        *,
        idle_timeout_s: float = 600.0,
        on_output: Callable[[FunctionSpec, str], None] | None = None,
        cpus: int | None = None,
        concurrency: int | None = None,
    ) -> None:
        self.endpoint_url = endpoint_url
        self.cpus = max(1, cpus) if cpus else machine_cpus()
        # Like an account's concurrency limit: at most this many executions (and worker processes) at once.
        # Lambda would throttle the rest and Step Functions retry them; here they wait for a free slot.
        self.concurrency = max(1, concurrency) if concurrency else default_concurrency(self.cpus)
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self.idle_timeout_s = idle_timeout_s
        self.on_output = on_output
        self._idle: dict[WorkerConfig, list[Worker]] = {}
        self._busy: set[Worker] = set()
        self._generation = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._reaper = threading.Thread(target=self._reap_loop, name="worker-reaper", daemon=True)
        self._reaper.start()

    # ------------------------------------------------------------------ invoking

    def invoke(self, spec: FunctionSpec, event: Any) -> InvokeOutcome:
        request_id = str(uuid.uuid4())
        config = self.worker_config(spec)
        with self._slots:
            worker = self._acquire(config)
            started_ms = int(time.time() * 1000)
            result = worker.invoke(request_id, json.dumps(event), spec.arn, cpus=self.cpu_share())
            self._release(worker)
        lines = self._log_lines(spec, request_id, started_ms, result)
        text = "\n".join(line for _, line in result.output)
        if self.on_output is not None and text:
            try:
                self.on_output(spec, text)
            except Exception:
                logger.warning("output processing failed for %s", spec.name, exc_info=True)
        tail = "\n".join(line for _, line in lines).encode()[-_LOG_TAIL_BYTES:].decode(errors="ignore")
        return InvokeOutcome(
            payload=result.payload,
            errored=result.status != "ok",
            log_stream=worker.log_stream,
            log_lines=lines,
            log_tail=tail,
        )

    def cpu_share(self) -> int:
        """The CPUs each busy worker may use now: the cloud's CPUs divided among them, at least one."""
        with self._lock:
            busy = max(1, len(self._busy))
        return max(1, self.cpus // busy)

    def worker_config(self, spec: FunctionSpec) -> WorkerConfig:
        code_dir = code_dir_of_key(spec.code_key or "")
        if code_dir is None:
            raise RuntimeError(f"{spec.name}: its code is not a local directory (S3Key {spec.code_key!r})")
        layers = [d for d in (code_dir_of_key(k) for k in spec.layer_keys) if d is not None]
        return WorkerConfig(
            function_name=spec.name,
            handler=spec.handler,
            code_paths=code_paths(code_dir, layers),
            environment=tuple(sorted(self._environment(spec, code_dir).items())),
            timeout_s=float(spec.timeout),
            memory_mb=spec.memory_mb,
        )

    def _environment(self, spec: FunctionSpec, code_dir: Path) -> dict[str, str]:
        env = {k: os.environ[k] for k in _PASSED_THROUGH if k in os.environ}
        # No X-Ray daemon here: Powertools Tracer stays off, as under `sam local invoke`
        env.update({"TZ": "UTC", "POWERTOOLS_TRACE_DISABLED": "true"})
        env.update(spec.environment)
        # The template declares AWS_ENDPOINT_URL empty (for `sam local --env-vars`): here it is this cloud
        env["AWS_ENDPOINT_URL"] = spec.environment.get("AWS_ENDPOINT_URL") or self.endpoint_url
        env.update(
            {  # reserved: the template cannot override these on AWS either
                "_HANDLER": spec.handler,
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
                "AWS_LAMBDA_FUNCTION_NAME": spec.name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
                "AWS_LAMBDA_FUNCTION_VERSION": spec.version if spec.version != "1" else "$LATEST",
                "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
                "AWS_REGION": spec.region,
                "AWS_DEFAULT_REGION": spec.region,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
                "LAMBDA_TASK_ROOT": str(code_dir),
            }
        )
        return env

    def _log_lines(
        self, spec: FunctionSpec, request_id: str, started_ms: int, result: RawResult
    ) -> list[tuple[int, str]]:
        version = "$LATEST"
        init = f"\tInit Duration: {result.init_ms:.2f} ms" if result.init_ms is not None else ""
        if result.status == "timeout":
            status = "\tStatus: timeout"
        elif result.status == "exit":
            status = "\tStatus: error\tError Type: Runtime.ExitError"
        else:
            status = ""
        now = int(time.time() * 1000)
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {result.duration_ms:.2f} ms\t"
            f"Billed Duration: {int(result.duration_ms) + 1} ms\tMemory Size: {spec.memory_mb} MB\t"
            f"Max Memory Used: {result.max_rss_mb} MB{init}{status}"
        )
        return [
            (started_ms, f"START RequestId: {request_id} Version: {version}"),
            *result.output,
            (now, f"END RequestId: {request_id}"),
            (now, report),
        ]

    # ------------------------------------------------------------------ the pool

    def _acquire(self, config: WorkerConfig) -> Worker:
        with self._lock:
            idle = self._idle.get(config, [])
            while idle:
                worker = idle.pop()
                if worker.alive:
                    self._busy.add(worker)
                    return worker
                worker.kill()
            evicted = self._evict_for_cold_start()
        if evicted is not None:
            evicted.kill()
        worker = Worker(config)  # a cold start, outside the lock: other functions keep going
        worker.generation = self._generation
        with self._lock:
            stopping = self._stop.is_set()
            if not stopping:
                self._busy.add(worker)
        if stopping:  # close() ran during the cold start: it could not see this worker, so end it here
            worker.kill()
            raise RuntimeError("the local cloud is stopping")
        return worker

    def _evict_for_cold_start(self) -> Worker | None:
        """With the lock held: the least recently used idle worker, taken out of the pool, when a cold start
        would make more worker processes than ``concurrency`` (each holds its function's memory)."""
        idle = [w for workers in self._idle.values() for w in workers]
        if len(idle) + len(self._busy) < self.concurrency or not idle:
            return None
        oldest = min(idle, key=lambda w: w.last_used)
        self._idle[oldest.config].remove(oldest)
        return oldest

    def _release(self, worker: Worker) -> None:
        with self._lock:
            self._busy.discard(worker)
            keep = worker.alive and worker.generation == self._generation and not self._stop.is_set()
            if keep:
                self._idle.setdefault(worker.config, []).append(worker)
        if not keep:
            worker.kill()

    def restart(self) -> None:
        """After a redeploy: stop idle workers now, busy ones when they finish; the next invoke is cold."""
        with self._lock:
            self._generation += 1
            stale = [w for workers in self._idle.values() for w in workers]
            self._idle.clear()
        for worker in stale:
            worker.kill()

    def stats(self) -> dict[str, dict[str, Any]]:
        """Per function: idle and busy worker counts and their process ids."""
        with self._lock:
            out: dict[str, dict[str, Any]] = {}
            for config, workers in self._idle.items():
                if not workers:
                    continue
                entry = out.setdefault(config.function_name, {"idle": 0, "busy": 0, "pids": []})
                entry["idle"] += len(workers)
                entry["pids"] += [w.process.pid for w in workers]
            for worker in self._busy:
                entry = out.setdefault(worker.config.function_name, {"idle": 0, "busy": 0, "pids": []})
                entry["busy"] += 1
                entry["pids"].append(worker.process.pid)
            return out

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            workers = [w for ws in self._idle.values() for w in ws] + list(self._busy)
            self._idle.clear()
        for worker in workers:
            worker.kill()

    def _reap_loop(self) -> None:
        while not self._stop.wait(min(5.0, self.idle_timeout_s)):
            cutoff = time.monotonic() - self.idle_timeout_s
            with self._lock:
                expired = [w for ws in self._idle.values() for w in ws if w.last_used < cutoff or not w.alive]
                for config, workers in list(self._idle.items()):
                    kept = [w for w in workers if w not in expired]
                    if kept:
                        self._idle[config] = kept
                    else:
                        del self._idle[config]
            for worker in expired:
                worker.kill()
