"""One bad location no longer stops the others: on the local cloud, a station whose window the gate rejects
is quarantined and left out, and the run SUCCEEDS within the tolerated share (34% of 3 stations, set by
the ``rps_cloud`` fixture); above it the run FAILS with DataQualityError naming the stations."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from tests.integration.budgets import limit_s
from tests.integration.clock import pipeline_clock

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("cloud")]

HTML = b"<html>502 Bad Gateway</html>"


def _next_window_end(rps_cloud) -> str:
    """The window the next scheduled run collects (after a first run, if none has happened yet)."""
    clock = pipeline_clock(rps_cloud)
    return (datetime.fromisoformat(clock["now"]) + timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M")


def _plant_bad_windows(rps_cloud, locations: list[str], window_end: str) -> None:
    # Ingest writes raw objects once and reuses a stored one: an HTML page stored first is what the gate judges
    client = rps_cloud.client
    s3, bucket = client.client("s3"), client.physical_id("DataBucket")
    for location in locations:
        s3.put_object(Bucket=bucket, Key=f"raw/location={location}/end={window_end}.json", Body=HTML)


def test_a_bad_station_is_quarantined_and_the_run_goes_on(rps_cloud):
    client = rps_cloud.client
    end = _next_window_end(rps_cloud)
    _plant_bad_windows(rps_cloud, ["EWR"], end)
    # WHEN the next run collects that window
    done = client.wait_execution(client.start_execution({}, name=f"it-one-bad-{end[:10]}"), limit_s("daily_run"))
    # THEN it succeeds without EWR, and says so
    assert done["status"] == "SUCCEEDED", (done.get("error"), done.get("cause"))
    output = json.loads(done["output"])
    assert output["locations"] == {"total": 3, "succeeded": 2, "quarantined": ["EWR"], "failed": []}
    assert sorted(f["location"] for f in output["forecasts"]) == ["JFK", "LGA"]
    # AND EWR's window is quarantined as before: a write-once copy with the gate's cause
    s3, bucket = client.client("s3"), client.physical_id("DataBucket")
    copy = s3.get_object(Bucket=bucket, Key=f"quarantine/location=EWR/end={end}.json")
    assert copy["Body"].read() == HTML and "schema" in copy["Metadata"]["cause"]


def test_above_the_tolerated_share_the_run_fails_naming_the_stations(rps_cloud):
    client = rps_cloud.client
    end = _next_window_end(rps_cloud)
    _plant_bad_windows(rps_cloud, ["EWR", "LGA"], end)
    done = client.wait_execution(client.start_execution({}, name=f"it-two-bad-{end[:10]}"), limit_s("daily_run"))
    assert done["status"] == "FAILED", done
    assert done["error"] == "DataQualityError"
    assert "2 of 3 locations quarantined (66.7%, tolerated 34%)" in done["cause"]
    assert "EWR rejected by the quality gate" in done["cause"] and "LGA rejected" in done["cause"]
