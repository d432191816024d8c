"""The project's own template.yaml on the local cloud: it deploys (every function, the state machine,
schedules, HTTP routes, MLflow), and the real pipeline runs to SUCCEEDED."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from rps_local.emulator.cloudformation.template import load_sam_template

from tests.integration.budgets import limit_s
from tests.integration.rps_output import execution_output

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("cloud")]

PROJECT = Path(__file__).resolve().parents[2]


def _sam_ids(kind: str) -> set[str]:
    resources = load_sam_template(PROJECT / "template.yaml")["Resources"]
    return {lid for lid, r in resources.items() if r["Type"] == kind}


def test_the_real_template_deploys(rps_cloud):
    status = json.loads(rps_cloud.rps("status", "--output", "json").stdout)
    assert set(status["functions"]) == _sam_ids("AWS::Serverless::Function")
    assert set(status["state_machines"]) == _sam_ids("AWS::Serverless::StateMachine")
    assert {"PipelineSchedule", "DriftSchedule"} <= set(status["schedules"])
    assert "GET /health" in status["http_routes"]
    config = rps_cloud.client.client("lambda").get_function_configuration(
        FunctionName=status["functions"]["RegisterFunction"]["name"]
    )
    tracking = config["Environment"]["Variables"]["MLFLOW_TRACKING_URI"]
    assert tracking == rps_cloud.endpoints["mlflow_tracking_uri"]
    with urllib.request.urlopen(f"{tracking}/health", timeout=10) as response:
        assert response.status == 200
    assert config["Layers"], "the function's layer was dropped"


def test_the_real_pipeline_runs_to_succeeded(rps_cloud):
    limit = limit_s("backfill")  # the session's first run backfills
    done = rps_cloud.rps("run", "--timeout", str(limit), timeout_s=limit + 60)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    output = execution_output(done.stdout)
    assert output["forecasts"], output
    # every batch forecast carries the champion's calibrated intervals (issue 16)
    for f in output["forecasts"]:
        assert f["lower_95"] <= f["lower_80"] <= f["value"] <= f["upper_80"] <= f["upper_95"], f
    # The per-location steps run in the Distributed Map's child executions, which have their own histories
    for state in ("Plan", "PerLocation", "Train", "Register", "Forecast"):
        assert f"✓ {state}" in done.stdout
    assert output["locations"] == {"total": 3, "succeeded": 3, "quarantined": [], "failed": []}


def test_rps_events_gives_the_steps_after_the_map_real_inputs(rps_cloud, tmp_path):
    """``rps events``: Train's, Register's and Forecast's inputs from the execution above, so that a user's
    ``rps invoke`` / ``sam local invoke`` runs them against this cloud's datasets and models."""
    bad = rps_cloud.rps("events", "--out", str(tmp_path / "none"), "--execution", "no-such-run")
    assert bad.returncode == 2 and "--execution no-such-run: no such execution" in bad.stderr
    assert not (tmp_path / "none").exists()  # nothing written
    done = rps_cloud.rps("events", "--out", str(tmp_path), "--output", "json")
    assert done.returncode == 0, done.stderr
    files = json.loads(done.stdout)["files"]
    assert sorted(Path(f).name for f in files.values()) == ["forecast.json", "register.json", "train.json"]
    train = json.loads((tmp_path / "train.json").read_text())
    s3, bucket = rps_cloud.client.client("s3"), rps_cloud.client.physical_id("DataBucket")
    results = train["map_results"]  # the Map's result files, which Train reads its datasets from
    assert s3.head_object(Bucket=results["ResultWriterDetails"]["Bucket"], Key=results["ResultWriterDetails"]["Key"])
    assert s3.list_objects_v2(Bucket=bucket, Prefix="datasets/")["KeyCount"] > 0
    invoked = rps_cloud.rps("invoke", "ForecastFunction", "--event", files["Forecast"], "--output", "json")
    assert invoked.returncode == 0, invoked.stdout[-2000:] + invoked.stderr[-2000:]
    assert json.loads(invoked.stdout)["payload"]["count"] == 3


def test_health_through_the_http_api(rps_cloud):
    with urllib.request.urlopen(f"{rps_cloud.endpoints['http_api_url']}/health", timeout=60) as response:
        assert response.status == 200
