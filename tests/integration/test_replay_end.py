"""The replay's end on the local cloud (issue 16, item 6): with the pipeline clock past the embedded data's
last hour (2013-12-30T23:00), a scheduled run ends right after Plan, SUCCEEDED with the status "replay ended",
and nothing is ingested or quarantined for it; the clock stays where it was."""

from __future__ import annotations

import json

import pytest

from tests.integration.budgets import limit_s

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("cloud")]

CLOCK = "clock/state.json"


def _keys(s3, bucket: str, prefix: str) -> set[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


def test_a_run_past_the_data_ends_with_replay_ended_and_quarantines_nothing(rps_cloud):
    client = rps_cloud.client
    s3, bucket = client.client("s3"), client.physical_id("DataBucket")
    found = _keys(s3, bucket, CLOCK)
    before_clock = s3.get_object(Bucket=bucket, Key=CLOCK)["Body"].read() if found else None
    # GIVEN the clock at the end of the data (the last daily run collected 2013-12-30)
    ended_clock = {"now": "2013-12-31T00:00", "window_start": "2013-12-30T00:00", "run_id": "", "updated_at": ""}
    s3.put_object(Bucket=bucket, Key=CLOCK, Body=json.dumps(ended_clock).encode())
    try:
        before = {p: _keys(s3, bucket, p) for p in ("raw/", "quarantine/", "datasets/")}
        # WHEN the next scheduled run comes
        done = client.wait_execution(client.start_execution({}), limit_s("daily_run"))
        # THEN it succeeds right after Plan with the replay's end as its status
        assert done["status"] == "SUCCEEDED", (done.get("error"), done.get("cause"))
        output = json.loads(done["output"])
        assert output["status"] == "replay ended" and output["data_end"] == "2013-12-30T23:00", output
        history = client.history(done["executionArn"])
        entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
        assert entered == ["Plan", "ReplayEnded?", "ReplayEnded"], entered  # no Map, no gate, no Quarantine
        # AND nothing was ingested or quarantined, and the clock did not move
        assert {p: _keys(s3, bucket, p) for p in before} == before
        assert json.loads(s3.get_object(Bucket=bucket, Key=CLOCK)["Body"].read()) == ended_clock
    finally:
        if before_clock is None:
            s3.delete_object(Bucket=bucket, Key=CLOCK)
        else:
            s3.put_object(Bucket=bucket, Key=CLOCK, Body=before_clock)
