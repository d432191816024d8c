"""Monitoring on the local cloud: a winter champion, then summer observations arrive; the drift function
finds the drift, starts the pipeline once for that window, and its metrics put the drift alarm in ALARM.

A cloud of its own: deployed with ``ReplayStart=2013-03-01`` so that the champion's training history is
January-February (with the default start it holds every season of the embedded data; see
docs/monitoring.md), and without schedules so that nothing else moves the clock.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from rps_local.emulator.cloudwatch.alarms import evaluate_alarms
from rps_local.emulator.process import CloudProcess
from rps_local.tools.drift_scenario import run_drift_scenario

from tests.integration.budgets import SMALL_MODEL, limit_s

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("cloud")]

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def winter_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudProcess]:
    cloud = CloudProcess(
        PROJECT,
        tmp_path_factory.mktemp("winter-cloud"),
        "--parameter-overrides",
        "ReplayStart=2013-03-01T00:00",
        *SMALL_MODEL,
        "--no-schedules",
    )
    with cloud.start(timeout_s=limit_s("cloud_start")):  # __enter__ does not start a second process
        yield cloud


def test_another_season_triggers_drift_and_one_retraining(winter_cloud):
    client = winter_cloud.client
    # GIVEN a champion trained on January-February (the first run backfills up to ReplayStart)
    backfill = client.wait_execution(client.start_execution({}, name="it-backfill"), limit_s("backfill"))
    assert backfill["status"] == "SUCCEEDED", backfill
    # WHEN observations up to the end of June arrive and the monitor runs
    lines: list[str] = []
    scenario = run_drift_scenario(client, "2013-06-29T00:00", echo=lines.append, timeout_s=limit_s("daily_run"))
    # THEN the baseline window (February) is stable, and the summer window drifts
    assert scenario.baseline["retrain"] is False, lines
    assert set(scenario.replayed) == {"JFK", "LGA", "EWR"}
    assert all(not v.startswith("rejected") for v in scenario.replayed.values()), scenario.replayed
    assert scenario.drifted["window_end"] == "2013-06-29T00:00"
    assert scenario.drifted["drift"]["share"] > 0.2 and "temperature_2m" in scenario.drifted["drift"]["drifted"]
    assert scenario.retraining_started, lines
    # AND it started the pipeline once for that window, with the reason as the execution's input
    assert scenario.repeat["trigger"]["status"] == "already started"
    assert scenario.execution["status"] == "SUCCEEDED", scenario.execution
    assert json.loads(scenario.execution["input"])["reason"].startswith("data drift:")
    sfn = client.client("stepfunctions")
    names = [e["name"] for e in sfn.list_executions(stateMachineArn=client.state_machine_arn())["executions"]]
    assert names.count("drift-20130629T0000") == 1
    # AND the report of the window is in the data bucket, as the last check of it saw the window
    s3, bucket = client.client("s3"), client.physical_id("DataBucket")
    html = s3.get_object(Bucket=bucket, Key=scenario.drifted["report_key"])["Body"].read().decode()
    assert "<svg" in html and scenario.after["report_key"] == scenario.drifted["report_key"]
    verdict = "Retraining already started" if scenario.after["retrain"] else "No retraining needed"
    assert verdict in html, lines
    # AND the template's drift alarm, computed from the metrics the function emitted, is in ALARM
    states = evaluate_alarms(PROJECT / "template.yaml", client.client("cloudwatch"), resources=client.resources())
    by_id = {s.logical_id: s for s in states}
    assert by_id["DriftShareAlarm"].state == "ALARM", by_id["DriftShareAlarm"].reason
    print("\n".join(lines))  # the scenario as the demo shows it (pytest -rP)
