"""The whole suite: each pytest-xdist worker is given its share of the machine's CPUs.

`make test` runs two workers on a 2-core machine: one owns the local clouds (and their Lambda workers),
the other runs the unit tests, several of which train models. ``RPS_CPU_SHARE`` tells the product's
thread pools (rps_core.cpus) and the local clouds started from a worker (rps_local.emulator.awslambda.runtime) how many
CPUs that worker may keep busy, so the two never run more compute threads than there are cores.
"""

from __future__ import annotations

import os

from rps_local.emulator.awslambda.runtime import CPU_SHARE_VARIABLE, machine_cpus


def pytest_configure(config) -> None:
    # The handlers' Powertools Tracer: no X-Ray daemon in tests (the local cloud's workers set it too)
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1 and CPU_SHARE_VARIABLE not in os.environ:
        os.environ[CPU_SHARE_VARIABLE] = str(max(1, machine_cpus() // workers))
