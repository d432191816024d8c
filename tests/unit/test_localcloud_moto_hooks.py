"""The moto internals the local cloud hooks (moto is pinned exactly): this fails loudly on an upgrade
that changes them, and the hooks do what they are for on moto's own models."""

from __future__ import annotations

import io
import json
import time
import zipfile
from datetime import UTC, datetime, timedelta

import boto3
import moto
import pytest
from moto import mock_aws
from moto.awslambda.models import LambdaFunction
from rps_local.emulator import moto_hooks
from rps_local.emulator.moto_hooks import PINNED_MOTO_VERSION, InvokeOutcome, check_internals


def test_pinned_moto_internals_are_unchanged():
    problems = check_internals()
    assert problems == [], "moto's internals changed; fix rps_local/emulator/moto_hooks/__init__.py: " + "; ".join(
        problems
    )
    assert moto.__version__ == PINNED_MOTO_VERSION


def test_the_canary_notices_a_changed_signature(monkeypatch):
    def changed(self, event=None, context=None):  # one parameter more than the pinned version
        return "", False, ""

    monkeypatch.setattr(LambdaFunction, "_invoke_lambda", changed)
    assert any("_invoke_lambda" in p for p in check_internals())


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("x.txt", "x")
    return buffer.getvalue()


@pytest.fixture
def hooked():
    calls = []

    def invoker(spec, event):
        calls.append((spec, event))
        return InvokeOutcome(json.dumps({"echo": event}), False, "stream", [(int(time.time() * 1000), "hello")], "tail")

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        moto_hooks.install(invoker)
        try:
            yield calls
        finally:
            moto_hooks.uninstall()


def test_invoke_goes_to_the_invoker_with_the_function_spec(hooked):
    s3, awslambda = boto3.client("s3", region_name="us-east-1"), boto3.client("lambda", region_name="us-east-1")
    role = boto3.client("iam", region_name="us-east-1").create_role(
        RoleName="fn-role", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )["Role"]["Arn"]
    s3.create_bucket(Bucket="code")
    s3.put_object(Bucket="code", Key="code/fn.zip", Body=_zip())
    s3.put_object(Bucket="code", Key="code/layer.zip", Body=_zip())
    layer = awslambda.publish_layer_version(LayerName="lib", Content={"S3Bucket": "code", "S3Key": "code/layer.zip"})
    awslambda.create_function(
        FunctionName="fn",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"S3Bucket": "code", "S3Key": "code/fn.zip"},
        Timeout=7,
        MemorySize=256,
        Environment={"Variables": {"A": "1"}},
        Layers=[layer["LayerVersionArn"]],
    )
    answer = awslambda.invoke(FunctionName="fn", Payload=b'{"k": 2}')
    assert json.loads(answer["Payload"].read()) == {"echo": {"k": 2}}
    spec, event = hooked[0]
    assert event == {"k": 2}
    assert (spec.name, spec.handler, spec.timeout, spec.memory_mb) == ("fn", "app.handler", 7, 256)
    assert spec.environment == {"A": "1"}
    assert spec.code_key == "code/fn.zip"
    assert spec.layer_keys == ("code/layer.zip",)
    logs = boto3.client("logs", region_name="us-east-1")
    events = logs.get_log_events(logGroupName="/aws/lambda/fn", logStreamName="stream")["events"]
    assert [e["message"] for e in events] == ["hello"]
    # the HTTP API's path: the same function, spec and log group, without the Invoke API
    direct = moto_hooks.invoke_function("fn", {"k": 3}, hooked_invoker(hooked))
    assert json.loads(direct.payload) == {"echo": {"k": 3}} and hooked[-1][0] == spec
    events = logs.get_log_events(logGroupName="/aws/lambda/fn", logStreamName="stream")["events"]
    assert [e["message"] for e in events] == ["hello", "hello"]


def hooked_invoker(calls):
    def invoker(spec, event):
        calls.append((spec, event))
        return InvokeOutcome(json.dumps({"echo": event}), False, "stream", [(int(time.time() * 1000), "hello")], "")

    return invoker


def test_metrics_put_in_process_read_back_as_through_the_api(hooked):
    """CloudWatchMetrics (the EMF lines' path) stores what PutMetricData would: same statistics, same units."""
    now = datetime.now(UTC)
    datum = {"MetricName": "Latency", "Dimensions": [{"Name": "service", "Value": "serving"}], "Unit": "Milliseconds"}
    moto_hooks.CloudWatchMetrics().put_metric_data(
        Namespace="RPS", MetricData=[{**datum, "Timestamp": now, "Values": [1.0, 3.0], "Counts": [1.0, 2.0]}]
    )
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    cloudwatch.put_metric_data(Namespace="RPS", MetricData=[{**datum, "Timestamp": now, "Value": 5.0}])
    stats = cloudwatch.get_metric_statistics(
        Namespace="RPS", MetricName="Latency", Dimensions=datum["Dimensions"], StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=5), Period=600, Statistics=["SampleCount", "Sum", "Maximum"],
    )["Datapoints"]  # fmt: skip
    assert [(d["SampleCount"], d["Sum"], d["Maximum"], d["Unit"]) for d in stats] == [(4.0, 12.0, 5.0, "Milliseconds")]
    with pytest.raises(Exception, match="MetricName"):  # moto validates as its API does
        moto_hooks.CloudWatchMetrics().put_metric_data(Namespace="RPS", MetricData=[{"Value": 1.0}])


def test_state_machine_from_cloudformation_runs_with_substitutions(hooked):
    definition = json.dumps(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"word": "${Word}"}, "End": True}}}
    )
    template = {
        "Resources": {
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "StateMachineName": "m",
                    "RoleArn": "arn:aws:iam::123456789012:role/x",
                    "DefinitionString": definition,
                    "DefinitionSubstitutions": {"Word": "substituted"},
                },
            }
        }
    }
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName="s", TemplateBody=json.dumps(template)
    )
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    machine = sfn.list_state_machines()["stateMachines"][0]["stateMachineArn"]
    assert "substituted" in sfn.describe_state_machine(stateMachineArn=machine)["definition"]
    arn = sfn.start_execution(stateMachineArn=machine, name="run")["executionArn"]

    for _ in range(100):
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            break
        time.sleep(0.05)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"word": "substituted"}


def test_alarms_are_created_from_cloudformation(hooked):
    template = {
        "Resources": {
            "Alarm": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "AlarmName": "latency",
                    "Namespace": "RPS",
                    "MetricName": "Latency",
                    "Dimensions": [{"Name": "service", "Value": "serving"}],
                    "ExtendedStatistic": "p99",
                    "Period": 60,
                    "EvaluationPeriods": 5,
                    "DatapointsToAlarm": 3,
                    "Threshold": 500,
                    "ComparisonOperator": "GreaterThanThreshold",
                },
            },
            "Board": {
                "Type": "AWS::CloudWatch::Dashboard",
                "Properties": {"DashboardBody": {"Fn::Sub": '{"widgets": [], "alarm": "${Alarm.Arn}"}'}},
            },
        }
    }
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName="alarms", TemplateBody=json.dumps(template)
    )
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    alarm = cloudwatch.describe_alarms(AlarmNames=["latency"])["MetricAlarms"][0]
    assert (alarm["Threshold"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (500, 5, 3)
    board = cloudwatch.list_dashboards()["DashboardEntries"][0]["DashboardName"]
    body = cloudwatch.get_dashboard(DashboardName=board)["DashboardBody"]
    assert alarm["AlarmArn"] in body
