"""The local cloud's Distributed Map (rps_local.emulator.moto_hooks.distributed_map) on moto's interpreter, in process:
items read from S3, batched by ItemBatcher, failed batches held against the tolerated share, and the
results written in AWS's ResultWriter format, which rps_core.map_results reads back."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from rps_core.errors import InvalidEventError
from rps_core.map_results import read_map_results, with_map_results
from rps_local.emulator.moto_hooks import distributed_map as moto_distributed_map
from rps_local.emulator.moto_hooks.distributed_map import MapDefinitionError, batches, strip_item_batchers

BUCKET = "map-bucket"
# Each child execution runs its batch through an inline Map, as the pipeline's does; an item with
# "bad": true fails its child execution.
DEFINITION = {
    "StartAt": "PerItem",
    "States": {
        "PerItem": {
            "Type": "Map",
            "ItemReader": {
                "Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "JSON"},
                "Parameters": {"Bucket": BUCKET, "Key.$": "$.items_key"},
            },
            "ItemBatcher": {"MaxItemsPerBatchPath": "$.batch_size"},
            "MaxConcurrencyPath": "$.max_concurrency",
            "ToleratedFailurePercentagePath": "$.tolerated",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Each",
                "States": {
                    "Each": {
                        "Type": "Map",
                        "ItemsPath": "$.Items",
                        "ItemProcessor": {
                            "ProcessorConfig": {"Mode": "INLINE"},
                            "StartAt": "Bad?",
                            "States": {
                                "Bad?": {
                                    "Type": "Choice",
                                    "Choices": [{"Variable": "$.bad", "BooleanEquals": True, "Next": "Boom"}],
                                    "Default": "Done",
                                },
                                "Boom": {"Type": "Fail", "Error": "SourceDown", "Cause": "no answer"},
                                "Done": {
                                    "Type": "Pass",
                                    "Parameters": {"location.$": "$.location", "ok": True},
                                    "End": True,
                                },
                            },
                        },
                        "End": True,
                    }
                },
            },
            "ResultWriter": {
                "Resource": "arn:aws:states:::s3:putObject",
                "Parameters": {"Bucket": BUCKET, "Prefix": "res"},
            },
            "ResultPath": "$.map_results",
            "End": True,
        }
    },
}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    moto_distributed_map.install()
    try:
        with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
            s3 = boto3.client("s3", region_name="us-east-1")
            s3.create_bucket(Bucket=BUCKET)
            yield s3, boto3.client("stepfunctions", region_name="us-east-1")
    finally:
        moto_distributed_map.uninstall()


def _run(s3: Any, sfn: Any, items: list[dict[str, Any]], tolerated: float, name: str) -> dict[str, Any]:
    s3.put_object(Bucket=BUCKET, Key="items.json", Body=json.dumps(items))
    arn = sfn.create_state_machine(
        name=f"m-{name}", definition=json.dumps(DEFINITION), roleArn="arn:aws:iam::123456789012:role/r"
    )["stateMachineArn"]
    run = {"items_key": "items.json", "batch_size": 3, "max_concurrency": 2, "tolerated": tolerated}
    execution = sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(run))["executionArn"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        out = sfn.describe_execution(executionArn=execution)
        if out["status"] != "RUNNING":
            return out
        time.sleep(0.05)
    raise AssertionError(f"{name} still running after 30 s")


def _items(bad: set[int]) -> list[dict[str, Any]]:
    return [{"location": f"L{i}", "bad": i in bad} for i in range(10)]


def test_batches_results_and_a_tolerated_failed_batch(aws: tuple[Any, Any]) -> None:
    s3, sfn = aws
    done = _run(s3, sfn, _items({4}), tolerated=30, name="tolerated")
    assert done["status"] == "SUCCEEDED", done
    details = json.loads(done["output"])["map_results"]["ResultWriterDetails"]
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=details["Key"])["Body"].read())
    assert [len(manifest["ResultFiles"][s]) for s in ("SUCCEEDED", "FAILED", "PENDING")] == [1, 1, 0]
    failed = json.loads(s3.get_object(Bucket=BUCKET, Key=manifest["ResultFiles"]["FAILED"][0]["Key"])["Body"].read())
    assert [json.loads(f["Input"])["Items"] for f in failed] == [_items({4})[3:6]]  # batches of 3, in order
    assert (
        failed[0]["Error"] == "SourceDown"
        and failed[0]["Cause"] == "no answer"
        and ":execution:" in failed[0]["ExecutionArn"]
    )
    # rps_core reads them back: the 7 locations of the other batches, and the failed batch's 3 by name
    results = read_map_results(details["Bucket"], details["Key"], s3)
    assert [r["location"] for r in results if r.get("ok")] == ["L0", "L1", "L2", "L6", "L7", "L8", "L9"]
    assert [(r["location"], r["error"]) for r in results if r.get("failed")] == [
        (f"L{i}", "SourceDown") for i in (3, 4, 5)
    ]
    assert (
        with_map_results({"map_results": json.loads(done["output"])["map_results"], "x": 1}, s3)["datasets"] == results
    )


def test_failed_batches_over_the_tolerated_share_fail_the_map(aws: tuple[Any, Any]) -> None:
    s3, sfn = aws
    done = _run(s3, sfn, _items({0, 9}), tolerated=30, name="over")  # 4 of 10 items in failed batches
    assert done["status"] == "FAILED"
    assert done["error"] == "States.ExceedToleratedFailureThreshold"
    assert "4 of 10 items failed" in done["cause"]


def test_no_tolerance_fails_on_any_failure_and_all_good_succeeds(aws: tuple[Any, Any]) -> None:
    s3, sfn = aws
    assert _run(s3, sfn, _items({9}), tolerated=0, name="strict")["status"] == "FAILED"
    assert _run(s3, sfn, _items(set()), tolerated=0, name="clean")["status"] == "SUCCEEDED"


def test_batches_by_count_and_bytes() -> None:
    items = [{"n": i} for i in range(7)]
    assert [len(b["Items"]) for b in batches(items, {"MaxItemsPerBatch": 3}, {})] == [3, 3, 1]
    assert [len(b["Items"]) for b in batches(items, {"MaxItemsPerBatchPath": "$.size"}, {"size": 5})] == [5, 2]
    assert [len(b["Items"]) for b in batches(items, {"MaxInputBytesPerBatch": 20}, {})] == [2, 2, 2, 1]
    assert batches(items[:1], {"MaxItemsPerBatch": 2, "BatchInput": {"run": "r"}}, {}) == [
        {"BatchInput": {"run": "r"}, "Items": [{"n": 0}]}
    ]
    with pytest.raises(ValueError, match="positive integer"):
        batches(items, {"MaxItemsPerBatchPath": "$.size"}, {"size": 0})


def test_item_batcher_forms_the_local_cloud_cannot_emulate_are_named() -> None:
    machine = json.loads(json.dumps(DEFINITION))
    assert set(strip_item_batchers(machine)) == {"PerItem"} and "ItemBatcher" not in machine["States"]["PerItem"]
    machine = json.loads(json.dumps(DEFINITION))
    machine["States"]["PerItem"]["ItemSelector"] = {"x.$": "$$.Map.Item.Value"}
    with pytest.raises(MapDefinitionError, match="ItemSelector"):
        strip_item_batchers(machine)
    machine["States"]["PerItem"]["ItemBatcher"] = {"MaxItems": 3}
    del machine["States"]["PerItem"]["ItemSelector"]
    with pytest.raises(MapDefinitionError, match="unknown ItemBatcher fields"):
        strip_item_batchers(machine)


def test_map_results_name_a_bad_pointer(aws: tuple[Any, Any]) -> None:
    s3, _ = aws
    with pytest.raises(InvalidEventError, match="manifest"):
        with_map_results({"map_results": {"Bucket": BUCKET}}, s3)
    with pytest.raises(InvalidEventError, match="not a Map run's manifest"):
        read_map_results(BUCKET, "nothing-here.json", s3)
    assert with_map_results({"datasets": []}, s3) == {"datasets": []}
