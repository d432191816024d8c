"""Training under CPU contention: the fit that ``rps evaluate`` and the Train step run (the pooled year of the
3 stations, 4 boosters; 100 rounds each to keep the bench short), with OpenMP's default threads (one per
CPU, what the code did before rps_core.cpus) and with the thread policy (``training.model.fit``), alone
and with one core kept busy by another process. Rounds interleave the cases; medians of ``REPEATS``.

    .venv/bin/python -m bench threads
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from typing import Any

REPEATS = 3
ROUNDS = 100


def _table() -> tuple[Any, Any]:
    """The training rows of ``rps evaluate`` on the embedded year (the Train step's pooled table)."""
    from rps_core.config import load_settings
    from rps_core.training.evaluation import observations_from_file
    from rps_core.training.split import build_table, time_split

    settings = load_settings({})
    table = build_table(observations_from_file(None, settings), settings.target, settings.horizon_hours)
    train, _ = time_split(table, settings.horizon_hours)
    return table.x[train], table.delta[train]


def _fit_default(x: Any, y: Any) -> int:
    from rps_core.training import model as estimator
    from threadpoolctl import threadpool_info

    model = estimator.make_model(len(x), max_iter=ROUNDS)
    model.fit(x, y)  # no limits: OpenMP's default, one thread per CPU
    return max(p["num_threads"] for p in threadpool_info() if p["user_api"] == "openmp")


def _fit_policy(x: Any, y: Any) -> int:
    from rps_core.cpus import fit_threads
    from rps_core.training import model as estimator

    threads = fit_threads()  # what fit() decides now (it samples again itself)
    estimator.fit(x, y, max_iter=ROUNDS)
    return threads


def _busy_core() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def run() -> list[dict[str, Any]]:
    x, y = _table()
    os.environ.pop("RPS_CPU_SHARE", None)  # the bench measures the machine, not a test worker's share
    cases = {"default (OpenMP: one thread per CPU)": _fit_default, "thread policy (rps_core.cpus)": _fit_policy}
    times: dict[tuple[str, str], list[float]] = {}
    threads: dict[tuple[str, str], set[int]] = {}
    for _ in range(REPEATS):
        for load in ("alone", "one core busy"):
            busy = _busy_core() if load != "alone" else None
            try:
                time.sleep(0.5 if busy else 0.0)  # let the busy process show in the policy's sample
                for label, fit in cases.items():
                    started = time.perf_counter()
                    used = fit(x, y)
                    times.setdefault((load, label), []).append(time.perf_counter() - started)
                    threads.setdefault((load, label), set()).add(used)
            finally:
                if busy:
                    busy.kill()
                    busy.wait()
    rows = []
    for (load, label), seconds in times.items():
        default = statistics.median(times[(load, next(iter(cases)))])
        median = statistics.median(seconds)
        rows.append(
            {
                "case": f"fit, {len(x)} rows x 4 boosters x {ROUNDS} rounds, {load}: {label}",
                "threads": "/".join(str(t) for t in sorted(threads[(load, label)])),
                "median_s": round(median, 2),
                "vs_default": round(median / default, 2),
                "cpus": len(os.sched_getaffinity(0)),
                "load_avg_1m": round(os.getloadavg()[0], 1),
            }
        )
    return rows
