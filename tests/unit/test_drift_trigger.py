"""The retraining decision, and its start: at most one pipeline execution per drift window."""

import json

import boto3
import pytest
from rps_core.drift.compare import DriftSummary, FeatureDrift
from rps_core.drift.realized import RealizedError, RealizedPair
from rps_core.drift.trigger import decide, execution_name, marker_key, start_retraining

from tests.support import mocked_aws

BUCKET = "rps-data"
DEFINITION = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}


@pytest.fixture
def aws(monkeypatch):
    with mocked_aws(monkeypatch):
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        arn = sfn.create_state_machine(
            name="rps-pipeline",
            definition=json.dumps(DEFINITION),
            roleArn="arn:aws:iam::123456789012:role/rps-pipeline",
        )["stateMachineArn"]
        yield s3, sfn, arn


def summary(statuses: list[str]) -> DriftSummary:
    features = [
        FeatureDrift(f"f{i}", s, 0.3 if s == "drift" else 0.0, 0.1, 100, 0.0, 0.0) for i, s in enumerate(statuses)
    ]
    return DriftSummary(features, 0.25, 0.1)


def realized(errors: list[float]) -> RealizedError:
    pairs = [RealizedPair(f"2013-10-2{i}T06:00", 10.0 + e, 10.0, "3") for i, e in enumerate(errors)]
    return RealizedError("JFK", "2013-10-19T00:00", "2013-10-26T00:00", pairs)


def test_the_decision_names_each_reason():
    assert not decide(summary(["ok", "drift", "ok", "ok"]), [realized([1.0] * 5)], 0.3, 3.0).retrain
    data = decide(summary(["drift", "drift", "ok", "calendar"]), [], 0.3, 3.0)
    assert data.retrain and data.reasons == ["data drift: 2 of 3 features (67%) have PSI >= 0.25, above the share 0.3"]
    error = decide(summary(["ok"]), [realized([4.0, 5.0, 3.0])], 0.3, 3.0)
    assert error.retrain and "realized error: JFK MAE 4.00 over 3 forecasts" in error.reasons[0]


def test_too_few_forecasts_do_not_trigger():
    assert not decide(summary(["ok"]), [realized([9.0, 9.0])], 0.3, 3.0).retrain


def test_the_execution_name_comes_from_the_window():
    assert execution_name("2013-10-26T00:00") == "drift-20131026T0000"


def test_a_window_starts_retraining_once(aws):
    s3, sfn, arn = aws
    name = execution_name("2013-10-26T00:00")
    payload = {"now": "2013-10-26T00:00", "run_id": name, "reason": "data drift"}
    # GIVEN a first run that decided to retrain
    first = start_retraining(sfn, s3, BUCKET, arn, name, payload)
    assert first.status == "started" and first.execution_arn.endswith(":execution:rps-pipeline:" + name)
    # WHEN the monitor runs again for the same window (a retry, or a second schedule)
    second = start_retraining(sfn, s3, BUCKET, arn, name, payload)
    # THEN no second execution starts, and the reason is on record in the execution input
    assert second.status == "already started"
    executions = sfn.list_executions(stateMachineArn=arn)["executions"]
    assert len(executions) == 1
    assert json.loads(sfn.describe_execution(executionArn=first.execution_arn)["input"]) == payload


def test_without_the_marker_step_functions_still_refuses_the_name(aws):
    s3, sfn, arn = aws
    name = execution_name("2013-10-26T00:00")
    start_retraining(sfn, s3, BUCKET, arn, name, {"now": "2013-10-26T00:00", "reason": "a"})
    s3.delete_object(Bucket=BUCKET, Key=marker_key(name))  # e.g. a crash between start and marker
    again = start_retraining(sfn, s3, BUCKET, arn, name, {"now": "2013-10-26T00:00", "reason": "b"})
    assert again.status == "already started"
    assert len(sfn.list_executions(stateMachineArn=arn)["executions"]) == 1


def test_no_state_machine_means_disabled(aws):
    s3, sfn, _ = aws
    assert start_retraining(sfn, s3, BUCKET, "", "drift-x", {}).status == "disabled"
