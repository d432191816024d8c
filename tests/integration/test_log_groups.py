"""The local cloud deploys template.yaml's log groups, with their retention, and the functions log to them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from rps_local.emulator.process import CloudProcess

from tests.integration.budgets import limit_s

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("cloud")]

PROJECT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT / "tools"))
from cfn_template import load_template, resources_of_type  # noqa: E402


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudProcess]:
    cloud = CloudProcess(
        PROJECT,
        tmp_path_factory.mktemp("logs-cloud"),
        "--no-mlflow",
        "--no-schedules",
        "--parameter-overrides",
        "LogRetentionDays=7",
    )
    with cloud.start(timeout_s=limit_s("cloud_start")):
        yield cloud


def test_each_function_logs_to_its_group_with_the_retention(cloud: CloudProcess) -> None:
    client = cloud.client
    logs = client.client("logs")
    groups = {g["logGroupName"]: g for g in logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/")["logGroups"]}
    functions = client.resources("AWS::Lambda::Function")
    assert set(functions) == set(
        resources_of_type(load_template(PROJECT / "template.yaml"), "AWS::Serverless::Function")
    )
    for logical_id, name in functions.items():
        assert groups[f"/aws/lambda/{name}"].get("retentionInDays") == 7, logical_id
    client.invoke("PlanFunction", {})
    streams = logs.describe_log_streams(logGroupName=f"/aws/lambda/{functions['PlanFunction']}")["logStreams"]
    assert streams, "the invocation's log stream is not in the function's group"
