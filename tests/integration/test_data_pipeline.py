"""The data steps on the local cloud, deployed from template.yaml: Plan -> Ingest -> QualityGate ->
Transform for one location, and a rejected window quarantined with nothing downstream written."""

from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("cloud")]

LOCATION = "EWR"


def _ok(result):
    assert result.function_error is None, result.payload
    return result.payload


def test_ingest_gate_transform_end_to_end(rps_cloud):
    client = rps_cloud.client
    s3, bucket = client.client("s3"), client.physical_id("DataBucket")
    plan = _ok(client.invoke("PlanFunction", {}))
    assert plan["location_count"] == 3 and plan["window_end"] == plan["now"]
    items = json.loads(s3.get_object(Bucket=bucket, Key=plan["items_key"])["Body"].read())  # the Map's items
    (item,) = [i for i in items if i["location"] == LOCATION]
    ingested = _ok(client.invoke("IngestFunction", item))
    raw = s3.head_object(Bucket=bucket, Key=ingested["raw_key"])
    assert raw["Metadata"]["window-end"] == plan["window_end"] and ingested["rows"] > 0
    gated = _ok(client.invoke("QualityGateFunction", ingested))
    assert gated["passed"] is True
    out = _ok(client.invoke("TransformFunction", gated))
    assert out["time_end"] == plan["window_end"]
    latest = json.loads(s3.get_object(Bucket=bucket, Key=f"datasets/location={LOCATION}/latest.json")["Body"].read())
    assert latest["version"] == out["dataset_version"]
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=out["dataset_prefix"] + "manifest.json")["Body"].read())
    assert ingested["raw_key"] in manifest["source_objects"] and manifest["features"]


def test_a_rejected_window_is_quarantined_and_nothing_downstream_is_written(rps_cloud):
    client = rps_cloud.client
    s3, bucket = client.client("s3"), client.physical_id("DataBucket")
    # GIVEN a raw object for a window far in the future that holds an HTML error page
    end = "2099-01-02T00:00"
    event = {
        "location": LOCATION,
        "run_id": "it-reject",
        "now": end,
        "window_start": "2099-01-01T00:00",
        "window_end": end,
        "raw_key": f"raw/location={LOCATION}/end={end}.json",
        "rows": 0,
        "created": True,
    }
    s3.put_object(Bucket=bucket, Key=event["raw_key"], Body=b"<html>502 Bad Gateway</html>")
    before = s3.list_objects_v2(Bucket=bucket, Prefix="datasets/").get("KeyCount", 0)
    # WHEN the gate judges it THEN it fails with DataQualityError naming the check
    gated = client.invoke("QualityGateFunction", event)
    assert gated.error_type == "DataQualityError" and "schema" in gated.payload["errorMessage"]
    # AND in a batch (the Map's) the gate keeps the payload in quarantine, and Transform writes nothing
    batch = _ok(client.invoke("QualityGateFunction", {"Items": [event]}))
    assert batch["Items"] == [] and [q["location"] for q in batch["quarantined"]] == [LOCATION]
    kept = s3.get_object(Bucket=bucket, Key=batch["quarantined"][0]["quarantine_key"])["Body"].read()
    assert kept == b"<html>502 Bad Gateway</html>"
    assert _ok(client.invoke("TransformFunction", batch)) == batch["quarantined"]
    assert s3.list_objects_v2(Bucket=bucket, Prefix="datasets/").get("KeyCount", 0) == before
