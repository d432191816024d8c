"""Backfill on the local cloud: ``{"backfill": {"start", "end"}}`` (``rps backfill``) collects a past range
for every location through the same Map, ends after it without training, leaves the clock alone, and a
re-run of the same range writes nothing new; a range past the clock is refused at Plan."""

from __future__ import annotations

import json

import pytest
from rps_core.map_results import read_map_results

from tests.integration.budgets import limit_s
from tests.integration.clock import pipeline_clock
from tests.integration.rps_output import execution_output

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("cloud")]

START, END = "2013-09-01T00:00", "2013-09-08T00:00"


def _keys(s3, bucket: str, prefix: str) -> dict[str, str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {o["Key"]: o["ETag"] for page in pages for o in page.get("Contents", [])}


def test_a_past_range_is_collected_once_without_training_or_moving_thepipeline_clock(rps_cloud):
    client = rps_cloud.client
    s3, bucket = client.client("s3"), client.physical_id("DataBucket")
    clock = pipeline_clock(rps_cloud)
    # WHEN a week of September is backfilled with the CLI
    done = rps_cloud.rps(
        "backfill", START, END, "--timeout", str(limit_s("daily_run")), timeout_s=limit_s("daily_run") + 60
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    output = execution_output(done.stdout)
    # THEN every location's range is stored under its own name, and the run ends after the Map
    assert output["backfill"] == {"start": START, "end": END}
    results = read_map_results(output["map_results"]["Bucket"], output["map_results"]["Key"], s3)
    assert sorted(d["location"] for d in results if d.get("dataset_version")) == ["EWR", "JFK", "LGA"]
    for location in ("EWR", "JFK", "LGA"):
        raw = s3.head_object(Bucket=bucket, Key=f"raw/location={location}/end={END}.from={START}.json")
        assert raw["Metadata"]["window-start"] == START
    assert "training" not in output and "Train" not in done.stdout
    assert json.loads(s3.get_object(Bucket=bucket, Key="clock/state.json")["Body"].read()) == clock
    # AND a re-run of the same range writes nothing new
    before = {p: _keys(s3, bucket, p) for p in ("raw/", "datasets/", "quarantine/")}
    again = client.wait_execution(
        client.start_execution({"backfill": {"start": START, "end": END}}), limit_s("daily_run")
    )
    assert again["status"] == "SUCCEEDED", again
    assert {p: _keys(s3, bucket, p) for p in before} == before


def test_a_range_past_the_clock_is_refused_at_plan(rps_cloud):
    client = rps_cloud.client
    clock = pipeline_clock(rps_cloud)
    later = "2013-12-31T00:00" if clock["now"] < "2013-12-31T00:00" else "2014-06-01T00:00"
    done = client.wait_execution(
        client.start_execution({"backfill": {"start": "2013-01-01T00:00", "end": later}}), limit_s("daily_run")
    )
    assert done["status"] == "FAILED" and done["error"] == "InvalidEventError", done
    assert "after the pipeline clock" in done["cause"]
