"""Locations as data on the local cloud: deployed with ``LocationsKey``, the pipeline forecasts the places
a CSV in the data bucket names (12 here: four near each embedded station, so the replay source serves
them), one planted bad window is quarantined while the other eleven go on, and a bad file or a missing
one stops the run at Plan with a named error that lists the bad lines.

A cloud of its own (no MLflow, no schedules): only these runs move its clock.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from rps_local.emulator.process import CloudProcess

from tests.integration.budgets import SMALL_MODEL, limit_s

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("cloud")]

PROJECT = Path(__file__).resolve().parents[2]
KEY = "config/locations.csv"
STATIONS = {"JFK": (40.6398, -73.7789), "LGA": (40.7772, -73.8726), "EWR": (40.6925, -74.1687)}
# The first run backfills up to the template's ReplayStart
FIRST_WINDOW_END = "2013-10-19T00:00"
BAD = "EWR-3"


def _csv() -> str:
    rows = [
        f"{station}-{i},{lat + 0.01 * i:.4f},{lon - 0.01 * i:.4f}"
        for station, (lat, lon) in STATIONS.items()
        for i in range(4)
    ]
    return "name,latitude,longitude\n" + "\n".join(rows) + "\n"


@pytest.fixture(scope="module")
def csv_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudProcess]:
    cloud = CloudProcess(
        PROJECT,
        tmp_path_factory.mktemp("csv-cloud"),
        "--parameter-overrides",
        f"LocationsKey={KEY}",
        "ToleratedFailurePercentage=10",
        *SMALL_MODEL,
        "--no-schedules",
        "--no-mlflow",
    )
    with cloud.start(timeout_s=limit_s("cloud_start")):
        yield cloud


def _run(cloud: CloudProcess, name: str) -> dict:
    client = cloud.client
    return client.wait_execution(client.start_execution({}, name=name), limit_s("backfill") * 2)


def test_without_the_file_the_run_stops_at_plan_naming_the_key(csv_cloud):
    done = _run(csv_cloud, "it-no-file")
    assert done["status"] == "FAILED" and done["error"] == "LocationsFileError", done
    assert f"{KEY}: no such object" in done["cause"]


def test_the_locations_of_the_file_are_forecast_and_a_bad_one_is_left_out(csv_cloud):
    client = csv_cloud.client
    s3, bucket = client.client("s3"), client.physical_id("DataBucket")
    # the bucket as README finds it: the stack's DataBucketName output
    stack = client.client("cloudformation").describe_stacks(StackName="rps")["Stacks"][0]
    assert {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["DataBucketName"] == bucket
    # GIVEN the CSV uploaded with a plain S3 client, and one location whose first window is an error page
    s3.put_object(Bucket=bucket, Key=KEY, Body=_csv().encode())
    s3.put_object(Bucket=bucket, Key=f"raw/location={BAD}/end={FIRST_WINDOW_END}.json", Body=b"<html>502</html>")
    # WHEN the pipeline runs
    done = _run(csv_cloud, "it-csv-first")
    # THEN it succeeds for the other eleven (1 of 12 is 8.3%, within the tolerated 10%)
    assert done["status"] == "SUCCEEDED", (done.get("error"), done.get("cause"))
    output = json.loads(done["output"])
    assert output["locations"] == {"total": 12, "succeeded": 11, "quarantined": [BAD], "failed": []}
    forecast = sorted(f["location"] for f in output["forecasts"])
    assert len(forecast) == 11 and BAD not in forecast and "JFK-0" in forecast
    assert s3.head_object(Bucket=bucket, Key=f"quarantine/location={BAD}/end={FIRST_WINDOW_END}.json")


def test_a_bad_file_stops_the_next_run_at_plan_listing_its_lines(csv_cloud):
    client = csv_cloud.client
    s3, bucket = client.client("s3"), client.physical_id("DataBucket")
    s3.put_object(Bucket=bucket, Key=KEY, Body=b"name,latitude,longitude\nA,40.6,-73.7\nB,north,-73.8\nA,1,2\n")
    done = _run(csv_cloud, "it-csv-bad")
    assert done["status"] == "FAILED" and done["error"] == "LocationsFileError", done
    assert "2 bad rows: line 3: latitude 'north' is not a number; line 4: duplicate name 'A'" in done["cause"]
