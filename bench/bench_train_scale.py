"""Train at scale: the Train step's work (pooled table under the row budget, the default 4-booster model,
ONNX export and parity check, metrics per location) on 3 to 1,000 locations of load data
(rps_local.tools.load_data: the embedded stations moved and shifted; never a quality claim), each case in a
fresh process so that its peak memory is its own.

Lambda's estimate: the Train function has 3008 MB, that is 3008 / 1769 = 1.70 vCPUs; the fit is CPU-bound
and uses every CPU it has (rps_core.cpus), so its time there is about this machine's time x cpus / 1.70.

    .venv/bin/python -m bench train_scale              # 3, 30, 300, 1000 locations
    RPS_BENCH_LOCATIONS=3,30 .venv/bin/python -m bench train_scale
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from typing import Any

LOCATIONS = (3, 30, 300, 1000)
LAMBDA_VCPUS = 3008 / 1769
LAMBDA_LIMITS = {"seconds": 900, "mib": 3008}


def measure(count: int) -> dict[str, Any]:
    """One case, in this process: load data for ``count`` locations, then Train's work on it."""
    from rps_core.config import load_settings
    from rps_core.training.train import train_and_evaluate
    from rps_local.tools.load_data import load_observations

    settings = load_settings({})
    observations = load_observations(count, settings)
    started = time.perf_counter()
    result = train_and_evaluate(observations, settings.target, settings.horizon_hours)
    seconds = time.perf_counter() - started
    per_location = result.metrics["per_location"]
    return {
        "seconds": seconds,
        "rows": result.split["train_rows"] + result.split["test_rows"],
        "rows_per_location": result.split["rows_per_location"],
        "mae": result.metrics["mae"],
        "worst_location_mae": max(s["mae"] for s in per_location.values()),
        "located": len(per_location),
    }


def _case(count: int) -> dict[str, Any]:
    code = f"import json; from bench.bench_train_scale import measure; print(json.dumps(measure({count})))"
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{count} locations: {done.stderr.strip()[-500:]}")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["peak_mib"] = round(max(peak_kib, before) / 1024)  # the largest child so far: cases run smallest first
    return out


def run() -> list[dict[str, Any]]:
    wanted = os.environ.get("RPS_BENCH_LOCATIONS")
    counts = sorted(int(c) for c in wanted.split(",")) if wanted else LOCATIONS
    cpus = len(os.sched_getaffinity(0))
    rows = []
    first_per_location: float | None = None
    for count in counts:
        out = _case(count)
        per_location = out["seconds"] / count
        first_per_location = first_per_location or per_location
        lambda_s = out["seconds"] * cpus / LAMBDA_VCPUS
        rows.append(
            {
                "case": f"Train on {count} load locations (default model, ONNX export)",
                "rows": out["rows"],
                "rows_per_location": min(out["rows_per_location"], out["rows"] // count),
                "median_s": round(out["seconds"], 1),
                "s_per_location": round(per_location, 3),
                "peak_mib": out["peak_mib"],
                "lambda_est_s": round(lambda_s),
                "fits_lambda": lambda_s < LAMBDA_LIMITS["seconds"] and out["peak_mib"] < LAMBDA_LIMITS["mib"],
                "mae_load_data": round(out["mae"], 3),
                "cpus": cpus,
            }
        )
    return rows
