"""The pipeline at scale on the local cloud: a cloud deployed with ``LocationsKey``, N load locations
(rps_local.tools.load_data: the embedded stations moved and shifted, never a quality claim) uploaded as the CSV,
one of them planted with a bad first window, then the first run (backfill of Jan-Oct 2013) from start to
SUCCEEDED. Reports the run's time, the time per location, the Map and Train states' durations, the
quarantined location and the forecasts, the peak memory (PSS) of the whole cloud sampled during the run,
and the largest state input/output (Step Functions' limit is 256 KB; moto's interpreter enforces it too).

The model is the default one unless ``RPS_BENCH_SMALL_MODEL=1`` (one booster of 100 rounds); Train's row
budget (rps_core.training.split.ROW_BUDGET) bounds its table at any N.

    RPS_BENCH_LOCATIONS=30,300 .venv/bin/python -m bench pipeline_scale     # default: 30
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from rps_core.config import load_settings
from rps_local.emulator.process import CloudProcess
from rps_local.emulator.procs import tree_pss_mb
from rps_local.tools.load_data import load_locations, locations_csv

PROJECT = Path(__file__).resolve().parents[1]
KEY = "config/locations.csv"
FIRST_WINDOW_END = "2013-10-19T00:00"  # the template's ReplayStart: the first run backfills up to it


def _state_seconds(history: list[dict[str, Any]], name: str) -> float | None:
    entered = [e["timestamp"] for e in history if e.get("stateEnteredEventDetails", {}).get("name") == name]
    exited = [e["timestamp"] for e in history if e.get("stateExitedEventDetails", {}).get("name") == name]
    return (max(exited) - min(entered)).total_seconds() if entered and exited else None


def _task_seconds(history: list[dict[str, Any]]) -> dict[str, float]:
    """Mean seconds of each task state (Ingest, QualityGate, Transform...) over its runs in the execution."""
    by_id = {e["id"]: e for e in history}
    spans: dict[str, list[float]] = {}
    for event in history:
        if event["type"] != "TaskStateExited":
            continue
        name = event["stateExitedEventDetails"]["name"]
        entered = by_id.get(event.get("previousEventId", -1))
        while entered is not None and entered["type"] != "TaskStateEntered":
            entered = by_id.get(entered.get("previousEventId", -1))
        if entered is not None:
            spans.setdefault(name, []).append((event["timestamp"] - entered["timestamp"]).total_seconds())
    return {name: sum(values) / len(values) for name, values in spans.items()}


def _largest_state_kb(history: list[dict[str, Any]]) -> float:
    """The largest input or output a state had, in KB (Step Functions refuses more than 256 KB)."""
    sizes = [
        len(details.get(field, "") or "")
        for event in history
        for key, details in event.items()
        if key.endswith("EventDetails") and isinstance(details, dict)
        for field in ("input", "output")
    ]
    return max(sizes, default=0) / 1024


def _run(count: int, work: Path, small_model: bool) -> dict[str, Any]:
    overrides = [f"LocationsKey={KEY}", "ToleratedFailurePercentage=10"]
    if small_model:
        overrides += ["EnsembleSize=1", "BoostingRounds=100"]
    with CloudProcess(
        PROJECT, work / f"cloud-{count}", "--parameter-overrides", *overrides, "--no-schedules", "--no-mlflow"
    ) as cloud:
        client = cloud.client
        s3, bucket = client.client("s3"), client.physical_id("DataBucket")
        settings = load_settings({})
        s3.put_object(Bucket=bucket, Key=KEY, Body=locations_csv(count, settings).encode())
        bad = load_locations(count, settings)[-1].name
        s3.put_object(Bucket=bucket, Key=f"raw/location={bad}/end={FIRST_WINDOW_END}.json", Body=b"<html>502</html>")
        peak = [0.0]
        done_sampling = threading.Event()

        def sample() -> None:
            while not done_sampling.wait(1.0):
                peak[0] = max(peak[0], tree_pss_mb([cloud.pid]))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.perf_counter()
        arn = client.start_execution({}, name=f"bench-{count}")
        done = client.wait_execution(arn, timeout_s=3 * 3600)
        seconds = time.perf_counter() - started
        done_sampling.set()
        sampler.join()
        history = client.history(arn)
        output = json.loads(done.get("output") or "{}")
        locations = output.get("locations", {})
        return {
            "status": done["status"],
            "seconds": seconds,
            "map_s": _state_seconds(history, "PerLocation"),
            "train_s": _state_seconds(history, "Train"),
            "quarantined": ",".join(locations.get("quarantined", [])) == bad,
            "forecasts": output.get("forecast_count", 0),
            "peak_mb": peak[0],
            "largest_state_kb": _largest_state_kb(history),
            "task_s": _task_seconds(history),
            "error": done.get("error"),
        }


def run() -> list[dict[str, Any]]:
    wanted = os.environ.get("RPS_BENCH_LOCATIONS", "30")
    small = os.environ.get("RPS_BENCH_SMALL_MODEL") == "1"
    rows = []
    with tempfile.TemporaryDirectory(prefix="rps-bench-scale-") as tmp:
        for count in sorted(int(c) for c in wanted.split(",")):
            out = _run(count, Path(tmp), small)
            rows.append(
                {
                    "case": f"pipeline, {count} load locations, 1 planted bad, backfill to SUCCEEDED"
                    + (" (small model)" if small else ""),
                    "status": out["status"] if not out["error"] else f"{out['status']} {out['error']}",
                    "median_s": round(out["seconds"], 1),
                    "s_per_location": round(out["seconds"] / count, 2),
                    "map_s": round(out["map_s"] or 0.0, 1),
                    "train_s": round(out["train_s"] or 0.0, 1),
                    "bad_one_quarantined": out["quarantined"],
                    "forecasts": out["forecasts"],
                    "cloud_peak_pss_mb": round(out["peak_mb"]),
                    "largest_state_kb": round(out["largest_state_kb"], 1),
                    "mean_task_s": " ".join(f"{k}={v:.2f}" for k, v in sorted(out["task_s"].items())),
                }
            )
    return rows
