"""The local cloud's runtime, end to end on the toy application: Step Functions Retry and Catch on
handler errors, timeouts, crashes, logs, EMF metrics, schedules, the HTTP API and redeploys."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.budgets import limit_s
from tests.integration.rps_output import execution_output

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("cloud")]


def _events(client, arn):
    return [e["type"] for e in client.history(arn)]


def test_retry_succeeds_on_the_second_attempt(toy_cloud):
    client = toy_cloud.client
    arn = client.start_execution({"run": f"retry-{uuid.uuid4().hex}"})
    done = client.wait_execution(arn, timeout_s=limit_s("toy_run"))
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"])["flaky"] == "succeeded on retry"
    failures = [e for e in client.history(arn) if e["type"] == "LambdaFunctionFailed"]
    assert [f["lambdaFunctionFailedEventDetails"]["error"] for f in failures] == ["TransientError"]


def test_handler_error_is_caught_by_its_class_name(toy_cloud):
    client = toy_cloud.client
    arn = client.start_execution({"run": f"catch-{uuid.uuid4().hex}", "bad": True})
    done = client.wait_execution(arn, timeout_s=limit_s("toy_run"))
    assert done["status"] == "FAILED"
    assert done["error"] == "DataQualityError"  # the Fail state after Quarantine
    entered = [e["stateEnteredEventDetails"]["name"] for e in client.history(arn) if "stateEnteredEventDetails" in e]
    assert entered[-2:] == ["Quarantine", "Rejected"]


def test_direct_invoke_reports_errors_as_lambda_does(toy_cloud):
    result = toy_cloud.client.invoke("CheckFunction", {"bad": True})
    assert result.function_error
    assert result.payload["errorType"] == "DataQualityError"
    assert "null share" in result.payload["errorMessage"]
    assert any("handlers.py" in frame for frame in result.payload["stackTrace"])


def test_timeout_kills_the_worker_and_the_next_invoke_is_fresh(toy_cloud):
    started = time.monotonic()
    result = toy_cloud.client.invoke("SlowFunction", {"seconds": 30})
    assert time.monotonic() - started < 10
    assert result.payload["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in result.payload["errorMessage"]
    assert toy_cloud.client.invoke("SlowFunction", {"seconds": 0}).payload == {"slept": True}


def test_crash_is_a_runtime_exit_error(toy_cloud):
    result = toy_cloud.client.invoke("CrashFunction", {})
    assert result.payload["errorType"] == "Runtime.ExitError"
    assert "exit status 7" in result.payload["errorMessage"]
    assert "about to exit" in result.log_tail


def test_context_environment_and_layer(toy_cloud):
    payload = toy_cloud.client.invoke("EchoFunction", {"x": 1}).payload
    assert payload["x"] == 1
    assert payload["memory"] == 128
    assert payload["echoed_by"] == toy_cloud.client.physical_id("EchoFunction")


def test_output_goes_to_cloudwatch_logs(toy_cloud):
    client = toy_cloud.client
    client.invoke("CrashFunction", {})
    logs = client.client("logs")
    group = f"/aws/lambda/{client.physical_id('CrashFunction')}"
    messages = [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]]
    assert any(m.startswith("START RequestId:") for m in messages)
    assert "about to exit" in messages
    assert any(m.startswith("REPORT RequestId:") and "Runtime.ExitError" in m for m in messages)


def test_warm_workers_are_reused_and_concurrent_invokes_get_their_own(toy_cloud):
    client = toy_cloud.client
    client.invoke("FlakyFunction", {"run": "warm"})  # the first makes the marker, then warm calls succeed
    first = client.invoke("FlakyFunction", {"run": "warm"})
    again = client.invoke("FlakyFunction", {"run": "warm"})
    assert "Init Duration" not in first.log_tail and "Init Duration" not in again.log_tail
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda _: client.invoke("SlowFunction", {"seconds": 0.5}), range(3)))
    status = json.loads(toy_cloud.rps("status", "--output", "json").stdout)
    assert status["functions"]["SlowFunction"]["idle"] >= 2


def test_emf_metric_is_queried_back(toy_cloud):
    client = toy_cloud.client
    for _ in range(3):
        client.invoke("EchoFunction", {"emf": True})
    cloudwatch = client.client("cloudwatch")
    now = datetime.now(UTC)
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "echoes",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "Toy",
                        "MetricName": "Echoes",
                        "Dimensions": [{"Name": "service", "Value": "echo"}],
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
        ],
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=1),
    )
    assert sum(answer["MetricDataResults"][0]["Values"]) >= 3
    statistics = cloudwatch.get_metric_statistics(
        Namespace="Toy",
        MetricName="Echoes",
        Dimensions=[{"Name": "service", "Value": "echo"}],
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=1),
        Period=60,
        Statistics=["Sum"],
    )
    assert sum(point["Sum"] for point in statistics["Datapoints"]) >= 3


def test_schedule_fires_its_target_with_the_scheduled_event(toy_cloud):
    done = toy_cloud.rps("schedule", "Tick", "--output", "json")
    assert done.returncode == 0, done.stderr
    event = json.loads(done.stdout)[0]["event"]
    s3, bucket = toy_cloud.client.client("s3"), toy_cloud.client.physical_id("ToyBucket")
    key = f"scheduled/{event['id']}.json"
    for _ in range(100):  # EventBridge invokes asynchronously
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=key).get("Contents", [])
        if listed:
            break
        time.sleep(0.1)
    stored = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert stored["detail-type"] == "Scheduled Event"
    assert stored["resources"][0].endswith(toy_cloud.client.physical_id("EchoFunctionTick"))


def test_http_api_request(toy_cloud):
    url = toy_cloud.endpoints["http_api_url"]
    with urllib.request.urlopen(f"{url}/echo/alice", timeout=30) as response:
        assert response.status == 200
        assert json.loads(response.read()) == {"greeting": "hello alice"}
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{url}/nowhere", timeout=30)
    assert missing.value.code == 404


def test_cli_invoke_and_run_exit_codes(toy_cloud, tmp_path):
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"bad": True}))
    failed = toy_cloud.rps("invoke", "CheckFunction", "--event", str(event))
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["errorType"] == "DataQualityError"
    event.write_text("{not json")
    bad = toy_cloud.rps("invoke", "CheckFunction", "--event", str(event))
    assert bad.returncode == 2
    assert str(event) in bad.stderr and "not JSON" in bad.stderr
    run = toy_cloud.rps("run", "--input", json.dumps({"run": f"cli-{uuid.uuid4().hex}", "bad": True}))
    assert run.returncode == 1
    assert "→ Quarantine" in run.stdout
    assert "FAILED in state Rejected: DataQualityError" in run.stderr
    assert re.fullmatch(r"FAILED run-\S+ in \d+\.\d s", run.stdout.splitlines()[-1])
    ok = toy_cloud.rps("run", "--input", json.dumps({"run": f"cli-{uuid.uuid4().hex}"}))
    assert ok.returncode == 0, ok.stderr
    assert "✓ Check" in ok.stdout
    output = execution_output(ok.stdout)
    assert output["checked"] is True
    assert re.fullmatch(r"SUCCEEDED run-\S+ in \d+\.\d s", ok.stdout.splitlines()[-1])


def test_deploy_changes_configuration_without_a_restart(toy_cloud):
    pid = toy_cloud.endpoints["pid"]
    done = toy_cloud.rps("deploy", "--parameter-overrides", "Greeting=bonjour")
    assert done.returncode == 0, done.stderr
    try:
        with urllib.request.urlopen(f"{toy_cloud.endpoints['http_api_url']}/echo/zoe", timeout=30) as response:
            assert json.loads(response.read()) == {"greeting": "bonjour zoe"}
        status = json.loads(toy_cloud.rps("status", "--output", "json").stdout)
        assert status["endpoints"]["pid"] == pid
    finally:
        toy_cloud.rps("deploy", "--parameter-overrides", "Greeting=hello")


def test_a_bad_redeploy_changes_nothing(toy_cloud):
    done = toy_cloud.rps("deploy", "--parameter-overrides", "Nope=1")
    assert done.returncode == 2
    assert "template.yaml: parameter Nope not declared" in done.stderr
    assert toy_cloud.client.invoke("CheckFunction", {"n": 1}).payload == {"n": 1, "checked": True}
