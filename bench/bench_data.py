"""Ingest + quality gate + transform time against rows: 1 month, 1 year and 10 years of hourly data for
the 3 stations, each as one backfill window, on an in-process S3 (moto). 10 years is the embedded year
repeated with timestamps shifted by its span (8730 h). Goal: a year of 3 stations under 5 s, growing linearly.

    .venv/bin/python -m bench.bench_data
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np

CASES = (("1 month", 744, 1), ("1 year", None, 1), ("10 years", None, 10))
BUCKET = "rps-bench"


def _shifted(payload: dict[str, Any], hours: int | None, years: int) -> dict[str, Any]:
    """The payload cut to its first ``hours`` hours, or repeated ``years`` times back to back."""
    from rps_core.times import format_times

    hourly = payload["hourly"]
    if hours is not None:
        return {**payload, "hourly": {k: v[:hours] for k, v in hourly.items()}}
    base = np.array(hourly["time"], dtype="datetime64[m]")
    # Shift by the data's own span, so each copy follows the previous one without a gap.
    period = int((base[-1] - base[0]) // np.timedelta64(1, "h")) + 1
    times: list[str] = []
    columns: dict[str, list[Any]] = {k: [] for k in hourly if k != "time"}
    for k in range(years):
        times += format_times(base + np.timedelta64(period * k, "h"))
        for name in columns:
            columns[name] += hourly[name]
    return {**payload, "hourly": {"time": times, **columns}}


def _measure(client: Any, label: str, hours: int | None, years: int) -> dict[str, Any]:
    from rps_core.config import load_settings
    from rps_core.contract import LocationWindow
    from rps_core.datasets import run_transform
    from rps_core.quality import run_gate
    from rps_core.sources import FileSource, ingest_window, load_embedded

    payloads = [_shifted(p, hours, years) for p in load_embedded()]
    end = max(p["hourly"]["time"][-1] for p in payloads)
    settings = load_settings({"DATA_BUCKET": BUCKET, "SOURCE": "replay"})
    source = FileSource(payloads=payloads)
    timings = {"ingest_s": 0.0, "gate_s": 0.0, "transform_s": 0.0}
    rows = 0
    for location in settings.location_names:
        request = LocationWindow(location, label, end, None, end)
        started = time.perf_counter()
        event = ingest_window(request, settings, source, client)
        ingested = time.perf_counter()
        _, report = run_gate(event, settings, client)
        gated = time.perf_counter()
        if not report.passed:
            raise RuntimeError(f"bench data rejected: {report.summary()}")
        out = run_transform(event, settings, client)
        done = time.perf_counter()
        timings["ingest_s"] += ingested - started
        timings["gate_s"] += gated - ingested
        timings["transform_s"] += done - gated
        rows += event.rows
        if out.rows < event.rows:
            raise RuntimeError("transform lost rows")
    total = sum(timings.values())
    return {
        "bench": "data",
        "case": label,
        "locations": 3,
        "rows": rows,
        **{k: round(v, 3) for k, v in timings.items()},
        "total_s": round(total, 3),
        "us_per_row": round(1e6 * total / rows, 2),
        "goal": "1 year < 5 s" if label == "1 year" else "",
    }


def run() -> list[dict[str, Any]]:
    """One row per case; each case starts from an empty bucket."""
    import boto3
    from moto import mock_aws

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    rows = []
    for label, hours, years in CASES:
        with mock_aws():
            client = boto3.client("s3", region_name="us-east-1")
            client.create_bucket(Bucket=BUCKET)
            rows.append(_measure(client, label, hours, years))
    return rows


def main() -> None:
    rows = run()
    columns = list(rows[0])
    print(f"data pipeline bench, {datetime.now(UTC):%Y-%m-%dT%H:%M}Z")
    print(" | ".join(columns))
    for row in rows:
        print(" | ".join(str(row[c]) for c in columns))


if __name__ == "__main__":
    main()
