"""The pipeline clock of a test cloud, after a first run if none has happened yet (tests that plant or
backfill windows need to know where the scheduled runs are)."""

from __future__ import annotations

import json

from tests.integration.budgets import limit_s


def pipeline_clock(cloud) -> dict:
    """``clock/state.json`` of ``cloud`` (``{now, window_start, run_id, updated_at}``)."""
    client = cloud.client
    s3, bucket = client.client("s3"), client.physical_id("DataBucket")
    if s3.list_objects_v2(Bucket=bucket, Prefix="clock/state.json").get("KeyCount", 0) == 0:
        done = client.wait_execution(client.start_execution({}), limit_s("backfill"))
        assert done["status"] == "SUCCEEDED", done
    return json.loads(s3.get_object(Bucket=bucket, Key="clock/state.json")["Body"].read())
