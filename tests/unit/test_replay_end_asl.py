"""The replay's end in the shipped state machine (issue 16, item 6), on moto's Step Functions interpreter in
process: a plan with ``replay_ended`` ends the execution right after Plan, SUCCEEDED with the status
"replay ended" (no Map: nothing ingested, no DataQualityError, nothing quarantined); any other plan goes on
to the per-location Map. Plan is the real definition's state with its Task made a Pass of a plan that
``plan_run`` produced, and the Map a Pass."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from rps_core.config import load_settings
from rps_core.sources import plan_run

ASL = Path(__file__).resolve().parents[2] / "statemachine" / "pipeline.asl.json"
BUCKET = "rps-replay-end"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        yield s3, boto3.client("stepfunctions", region_name="us-east-1")


def definition_with_plan(plan: dict[str, Any]) -> str:
    """The shipped definition, placeholders filled, its Plan Task replaced by a Pass of ``plan``."""
    text = re.sub(
        r"\$\{(\w+)\}",
        lambda m: BUCKET if m.group(1).endswith("Name") else f"arn:aws:lambda:us-east-1:123456789012:function:{m[1]}",
        ASL.read_text(),
    )
    states = json.loads(text)["States"]
    states["Plan"] = {"Type": "Pass", "Result": plan, "Next": states["Plan"]["Next"]}
    # The Map is not under test (the local cloud's Distributed Map: test_localcloud_distributed_map)
    states["PerLocation"] = {"Type": "Pass", "Next": states["PerLocation"]["Next"]}
    return json.dumps({**json.loads(text), "States": states})


def run(sfn: Any, plan: dict[str, Any], name: str) -> tuple[dict[str, Any], list[str]]:
    arn = sfn.create_state_machine(
        name=name, definition=definition_with_plan(plan), roleArn="arn:aws:iam::123456789012:role/r"
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, name=name, input="{}")["executionArn"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        out = sfn.describe_execution(executionArn=execution)
        if out["status"] != "RUNNING":
            events = sfn.get_execution_history(executionArn=execution)["events"]
            entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
            return out, entered
        time.sleep(0.05)
    raise AssertionError(f"{name} still running after 30 s")


def test_a_run_after_the_replays_end_succeeds_with_that_status_right_after_plan(aws) -> None:
    s3, sfn = aws
    settings = load_settings({"DATA_BUCKET": BUCKET})
    plan_run({"now": "2013-12-31T00:00"}, settings, s3)
    ended = plan_run({}, settings, s3).to_dict()
    assert ended["replay_ended"] is True
    done, entered = run(sfn, ended, "ended")
    assert done["status"] == "SUCCEEDED", done
    assert json.loads(done["output"]) == {
        "run_id": ended["run_id"],
        "status": "replay ended",
        "now": ended["now"],
        "data_end": "2013-12-30T23:00",
    }
    assert entered == ["Plan", "ReplayEnded?", "ReplayEnded"]  # no Map, no gate, no quarantine


def test_a_run_within_the_data_goes_on_to_the_map(aws) -> None:
    s3, sfn = aws
    plan = plan_run({"now": "2013-12-01T00:00"}, load_settings({"DATA_BUCKET": BUCKET}), s3).to_dict()
    assert plan["replay_ended"] is False
    _, entered = run(sfn, plan, "within")
    assert entered[:3] == ["Plan", "ReplayEnded?", "PerLocation"]
