"""The drift handler in-process on moto: sample events, the EMF metrics it prints, and the template's
alarms evaluated over those metrics (names and dimensions must agree end to end)."""

import json
from datetime import UTC, datetime

import boto3
import pytest
from rps_local.emulator.cloudwatch.alarms import evaluate_alarms
from rps_local.emulator.cloudwatch.emf import publish_emf_lines

from tests.support import ROOT, LambdaContext, load_event, load_handler, mocked_pipeline_aws
from tests.unit.test_drift_compare import season
from tests.unit.test_drift_monitor import ENV, put_champion, put_dataset, shifted


@pytest.fixture
def app():
    return load_handler("drift")


@pytest.fixture
def aws(monkeypatch):
    with mocked_pipeline_aws(monkeypatch, {**ENV, "POWERTOOLS_METRICS_NAMESPACE": "RPS"}) as (s3, sfn, arn):
        yield s3, sfn, arn


def value(record: dict, name: str) -> float:
    """A metric's value in an EMF record (Powertools writes a list when it holds several)."""
    v = record[name]
    return v[0] if isinstance(v, list) else v


def emf_metrics(stdout: str) -> dict[str, list[dict]]:
    """{metric name: [the records (dimension values included) that carry it]}."""
    found: dict[str, list[dict]] = {}
    for line in stdout.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            record = json.loads(line)
            for directive in record["_aws"]["CloudWatchMetrics"]:
                for metric in directive["Metrics"]:
                    found.setdefault(metric["Name"], []).append(record)
    return found


def test_a_season_change_emits_drift_metrics_starts_retraining_and_raises_the_alarm(aws, app, capsys):
    s3, _, arn = aws
    # GIVEN a winter champion and 40 days of summer up to the event's "now"
    put_champion(s3, season(0.0, 3.0, 70.0, seed=1))
    put_dataset(s3, shifted(season(24.0, 8.0, 45.0, hours=24 * 40, seed=3), "2013-11-18T01"))
    # WHEN the drift function runs with the sample event
    output = app.lambda_handler(load_event("drift_now.json"), LambdaContext("rps-DriftFunction"))
    # THEN it reports, retrains once, and prints the metrics the alarms read
    assert output["status"] == "checked" and output["retrain"] is True
    assert output["trigger"]["status"] == "started" and output["trigger"]["execution_name"] == "drift-20131228T0000"
    assert output["report_key"] == "drift/window_end=2013-12-28T00:00/report.html"
    assert "features" not in output["drift"]  # the Lambda result stays small; the report has them all
    stdout = capsys.readouterr().out
    metrics = emf_metrics(stdout)
    assert metrics["DriftedFeatureShare"][0]["service"] == "drift"
    assert value(metrics["DriftedFeatureShare"][0], "DriftedFeatureShare") > 0.2
    assert value(metrics["RetrainTriggered"][0], "RetrainTriggered") == 1
    psi = {r["Feature"]: value(r, "FeaturePSI") for r in metrics["FeaturePSI"]}
    assert psi["temperature_2m"] > 0.25 and "doy_sin" not in psi
    assert [r["Location"] for r in metrics["RealizedForecasts"]] == ["JFK"]
    # AND the template's drift alarm, evaluated over those metrics, is in ALARM
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    assert publish_emf_lines(stdout, cloudwatch) > 0
    states = evaluate_alarms(
        ROOT / "template.yaml",
        cloudwatch,
        datetime.now(UTC),
        resources={"PipelineStateMachine": arn},
        estimate_percentiles=True,
    )
    by_id = {s.logical_id: s.state for s in states}
    assert by_id["DriftShareAlarm"] == "ALARM"
    assert by_id["RealizedMaeAlarm"] == "OK"  # no forecasts yet: no MaxRealizedMAE, not breaching


def test_the_scheduled_event_before_any_champion_does_nothing(aws, app, capsys):
    output = app.lambda_handler(load_event("drift.json"), LambdaContext("rps-DriftFunction"))
    assert output["status"] == "no champion" and output["trigger"] is None
    assert "DriftedFeatureShare" not in emf_metrics(capsys.readouterr().out)
