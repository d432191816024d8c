"""The CPUs this process really has, and thread pools sized to them.

HistGradientBoosting runs OpenMP threads, one per CPU the library sees by default. When other processes
use some of those CPUs (a busy laptop, a CI runner, the local cloud's other workers), the threads wait for
each other at every barrier: measured on 2 cores with one kept busy, `rps evaluate` took 52.8 s with the
default threads and 26.8 s with one. So compute runs inside ``thread_limits()``: as many threads as the
smallest of

- the CPUs in the process's affinity mask (``os.sched_getaffinity``: taskset, cpusets, container CPU sets);
- the cgroup v2 CPU quota (``cpu.max``: ``docker --cpus``, Kubernetes limits);
- on Lambda, the vCPUs of the function's memory size (1,769 MB per vCPU, at most 6);
- ``RPS_CPU_SHARE`` when set: the share of the machine that whoever runs this process gives it (the local
  cloud sets it per invocation, from its CPUs and the workers busy at the time, as Lambda gives each
  execution environment vCPUs of its own);
- for a long computation (a fit), the CPUs of those that other processes left idle over a short sample
  (``idle_cpus``: /proc/stat while this process sleeps), so a laptop busy with something else gets one
  thread per free core instead of threads that wait for each other.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from rps_core.config import number_setting

__all__ = [
    "SHARE_VARIABLE",
    "available_cpus",
    "cgroup_cpus",
    "fit_threads",
    "idle_cpus",
    "lambda_vcpus",
    "thread_limits",
]

SHARE_VARIABLE = "RPS_CPU_SHARE"
LAMBDA_MB_PER_VCPU = 1769  # AWS: "at 1,769 MB, a function has the equivalent of one vCPU"
LAMBDA_MAX_VCPUS = 6  # at 10,240 MB
_CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
_PROC_STAT = Path("/proc/stat")
IDLE_SAMPLE_S = 0.25  # long enough to see a busy process, short beside a fit (seconds to minutes)


def lambda_vcpus(memory_mb: int) -> int:
    """The vCPUs Lambda gives a function of ``memory_mb`` (a fraction of one below 1,769 MB counts as one)."""
    return max(1, min(LAMBDA_MAX_VCPUS, math.ceil(memory_mb / LAMBDA_MB_PER_VCPU)))


def cgroup_cpus(cpu_max: Path = _CGROUP_CPU_MAX) -> int | None:
    """The cgroup v2 CPU quota in whole CPUs (at least 1), or None when there is none or no cgroup v2."""
    try:
        quota, period = cpu_max.read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    try:
        return max(1, int(int(quota) / int(period)))
    except (ValueError, ZeroDivisionError):
        return None


def available_cpus(env: Mapping[str, str] | None = None, cpu_max: Path = _CGROUP_CPU_MAX) -> int:
    """How many CPUs this process may keep busy: the smallest of the limits in the module's docstring."""
    env = os.environ if env is None else env
    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    limits = [len(affinity) if affinity else os.cpu_count() or 1]
    quota = cgroup_cpus(cpu_max)
    if quota is not None:
        limits.append(quota)
    memory_mb = number_setting(env, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", int, None, 128, 10_240)
    if memory_mb is not None:
        limits.append(lambda_vcpus(memory_mb))
    share = number_setting(env, SHARE_VARIABLE, int, None, 1, 4096)
    if share is not None:
        limits.append(share)
    return max(1, min(limits))


def _cpu_times(cpus: set[int], proc_stat: Path) -> tuple[float, float] | None:
    """(busy, total) jiffies of ``cpus`` from /proc/stat, or None where there is no /proc/stat."""
    busy = total = 0.0
    try:
        lines = proc_stat.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        name, *values = line.split()
        if not name.startswith("cpu") or name == "cpu" or int(name[3:]) not in cpus:
            continue
        numbers = [float(v) for v in values[:8]]  # user nice system idle iowait irq softirq steal
        total += sum(numbers)
        busy += sum(numbers) - numbers[3] - numbers[4]
    return busy, total


def idle_cpus(sample_s: float = IDLE_SAMPLE_S, proc_stat: Path = _PROC_STAT) -> float | None:
    """How many of this process's CPUs others left idle over ``sample_s`` (while this process sleeps);
    None where it cannot be measured (no /proc/stat, no affinity mask)."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    cpus = os.sched_getaffinity(0)
    before = _cpu_times(cpus, proc_stat)
    time.sleep(sample_s)
    after = _cpu_times(cpus, proc_stat)
    if before is None or after is None or after[1] <= before[1]:
        return None
    busy_share = (after[0] - before[0]) / (after[1] - before[1])
    return len(cpus) * (1.0 - busy_share)


def fit_threads(env: Mapping[str, str] | None = None) -> int:
    """Threads for a long computation: ``available_cpus()``, and no more than the CPUs idle right now."""
    budget = available_cpus(env)
    idle = idle_cpus() if budget > 1 else None
    return budget if idle is None else max(1, min(budget, round(idle)))


@contextmanager
def thread_limits(threads: int | None = None) -> Iterator[int]:
    """Run the block with the native thread pools (OpenMP, BLAS) at ``threads`` (default: ``available_cpus()``).

    threadpoolctl (a scikit-learn dependency) sets the pools of the libraries loaded so far: enter this
    after importing the estimator. Yields the thread count.
    """
    from threadpoolctl import threadpool_limits  # lazy: only the functions that ship scikit-learn have it

    count = available_cpus() if threads is None else max(1, int(threads))
    with threadpool_limits(limits=count):
        yield count
