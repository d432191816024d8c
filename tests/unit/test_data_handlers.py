"""The data steps' handlers in-process against moto's mock_aws: Plan -> Ingest -> QualityGate ->
(Quarantine | Transform), with the sample events of ``events/`` and the EMF metrics they print."""

from __future__ import annotations

import json

import boto3
import pytest
from rps_core import storage
from rps_core.config import load_settings
from rps_core.contract import latest_key
from rps_core.datasets import load_version
from rps_core.errors import DataQualityError, DatasetError, InvalidEventError, SourceError, TransientSourceError
from rps_core.schema import observations_from_payload

from tests.support import LambdaContext, load_event, load_handler, mocked_aws
from tests.unit.model_data import payload_from_observations

BUCKET = "rps-data-test"


@pytest.fixture
def s3(monkeypatch):
    env = {
        "DATA_BUCKET": BUCKET,
        "SOURCE": "replay",
        "REPLAY_START": "2013-10-19T00:00",
        "POWERTOOLS_METRICS_NAMESPACE": "RPS",
        "MIN_ROWS": "18",
    }
    with mocked_aws(monkeypatch, env):
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


@pytest.fixture
def handlers():
    return {step: load_handler(step) for step in ("plan", "ingest", "quality_gate", "transform")}


def keys(client, prefix: str) -> list[str]:
    return [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]


def plan_items(plan: dict) -> dict[str, dict]:
    """The Map's items that Plan wrote (what the ItemReader reads), by location."""
    return {item["location"]: item for item in storage.get_json(BUCKET, plan["items_key"])}


def run_location(handlers, plan: dict, location: str) -> dict:
    item = plan_items(plan)[location]
    ingested = handlers["ingest"].lambda_handler(item, LambdaContext())
    gated = handlers["quality_gate"].lambda_handler(ingested, LambdaContext())
    return handlers["transform"].lambda_handler(gated, LambdaContext())


def test_backfill_then_one_day_builds_versions_holding_all_history(s3, handlers, capsys):
    # GIVEN a fresh bucket WHEN the first scheduled run happens THEN it backfills up to REPLAY_START
    plan = handlers["plan"].lambda_handler(load_event("plan.json"), LambdaContext())
    assert plan["window_start"] is None and plan["window_end"] == "2013-10-19T00:00" and plan["backfill"] is True
    assert list(plan_items(plan)) == ["JFK", "LGA", "EWR"] and plan["run_id"] == load_event("plan.json")["id"]
    assert plan["location_count"] == 3 and plan["items_key"] == f"runs/run={plan['run_id']}/items.json"
    first = {loc: run_location(handlers, plan, loc) for loc in plan_items(plan)}
    assert first["EWR"]["time_start"] == "2013-01-01T06:00" and first["EWR"]["time_end"] == "2013-10-19T00:00"
    # WHEN the next run happens THEN the clock moves 24 h and the new version holds all history
    plan2 = handlers["plan"].lambda_handler(load_event("plan_rule.json"), LambdaContext())
    assert (plan2["window_start"], plan2["window_end"]) == ("2013-10-19T00:00", "2013-10-20T00:00")
    second = run_location(handlers, plan2, "EWR")
    assert second["time_start"] == "2013-01-01T06:00" and second["time_end"] == "2013-10-20T00:00"
    assert second["rows"] == first["EWR"]["rows"] + 24
    assert second["dataset_version"] != first["EWR"]["dataset_version"]
    manifest = storage.get_json(BUCKET, second["dataset_prefix"] + "manifest.json", client=s3)
    assert manifest["parent"] == first["EWR"]["dataset_version"]
    assert manifest["source_objects"] == ["raw/location=EWR/end=2013-10-19T00:00.json", plan_raw(plan2, "EWR")]
    assert manifest["cleaning"]["masked_out_of_range"]["wind_speed_10m"] == 1  # the 1048 mph reading
    # The configured coordinates (not the payload's grid cell) are stored with the version, for the sun features
    ewr = load_settings().location("EWR")
    assert (manifest["latitude"], manifest["longitude"]) == (ewr.latitude, ewr.longitude)
    stored = load_version(BUCKET, "EWR", second["dataset_version"], client=s3)
    assert (stored.latitude, stored.longitude) == (ewr.latitude, ewr.longitude)
    latest = storage.get_json(BUCKET, "datasets/location=EWR/latest.json", client=s3)
    assert latest["version"] == second["dataset_version"]
    emitted = capsys.readouterr().out
    assert '"RowsIngested"' in emitted and '"QualityPassed"' in emitted and '"DatasetRows"' in emitted


def _dimension_sets(stdout: str) -> list[list[str]]:
    blobs = [json.loads(line) for line in stdout.splitlines() if line.startswith('{"_aws"')]
    return [dims for blob in blobs for metric in blob["_aws"]["CloudWatchMetrics"] for dims in metric["Dimensions"]]


@pytest.mark.parametrize(("setting", "by_location"), [("true", True), ("false", False)])
def test_metrics_are_split_by_location_unless_the_deployment_turns_it_off(
    s3, handlers, capsys, monkeypatch, setting, by_location
):
    monkeypatch.setenv("METRICS_BY_LOCATION", setting)
    plan = handlers["plan"].lambda_handler({}, LambdaContext())
    capsys.readouterr()
    run_location(handlers, plan, "JFK")
    sets = _dimension_sets(capsys.readouterr().out)
    assert len(sets) == 3  # Ingest, QualityGate, Transform
    assert all(("location" in dims) is by_location for dims in sets), sets


def plan_raw(plan: dict, location: str) -> str:
    return f"raw/location={location}/end={plan['window_end']}.json"


def test_rerun_of_a_window_writes_nothing_new(s3, handlers):
    plan = handlers["plan"].lambda_handler({}, LambdaContext())
    out = run_location(handlers, plan, "JFK")
    before = {k: s3.head_object(Bucket=BUCKET, Key=k)["ETag"] for k in keys(s3, "raw/") + keys(s3, "datasets/")}
    again = run_location(handlers, plan, "JFK")
    after = {k: s3.head_object(Bucket=BUCKET, Key=k)["ETag"] for k in keys(s3, "raw/") + keys(s3, "datasets/")}
    assert again == out and before == after


def test_rejected_window_is_quarantined_and_nothing_downstream_is_written(s3, handlers):
    # GIVEN a raw day whose target is null (as a source with a broken sensor would answer), at a location
    # with a dataset already (a new one's first window would be its whole history)
    event = load_event("quality_gate.json")
    s3.put_object(Bucket=BUCKET, Key=latest_key("EWR"), Body=b'{"version": "v1"}')
    good = handlers["ingest"].lambda_handler(load_event("ingest.json"), LambdaContext())
    payload = json.loads(storage.get_bytes(BUCKET, good["raw_key"], client=s3))
    obs = observations_from_payload(payload, "EWR")
    obs.values["temperature_2m"][:12] = float("nan")
    s3.delete_object(Bucket=BUCKET, Key=good["raw_key"])
    storage.put_json(BUCKET, event["raw_key"], payload_from_observations(obs, 40.69, -74.17), client=s3)
    # WHEN the gate runs THEN it raises DataQualityError naming the check, after writing the report
    with pytest.raises(DataQualityError, match="null_share") as failure:
        handlers["quality_gate"].lambda_handler(event, LambdaContext())
    report = storage.get_json(BUCKET, "quality/location=EWR/end=2013-10-20T00:00.json", client=s3)
    assert report["passed"] is False and report["failed_checks"] == ["null_share"]
    assert keys(s3, "quarantine/") == []  # one location, invoked directly: the caller decides
    # WHEN the same window comes in a batch of the Distributed Map THEN the gate quarantines it (the
    # payload byte for byte, with the cause) and passes no window on
    batch = handlers["quality_gate"].lambda_handler({"Items": [event]}, LambdaContext())
    key = "quarantine/location=EWR/end=2013-10-20T00:00.json"
    assert batch["Items"] == [] and [q["location"] for q in batch["quarantined"]] == ["EWR"]
    assert batch["quarantined"][0]["quarantine_key"] == key and batch["quarantined"][0]["quarantined"] is True
    assert "null_share" in batch["quarantined"][0]["cause"] == str(failure.value)
    kept = s3.get_object(Bucket=BUCKET, Key=key)
    assert kept["Body"].read() == storage.get_bytes(BUCKET, event["raw_key"], client=s3)
    assert "null_share" in kept["Metadata"]["cause"]
    # AND Transform writes nothing for it: the batch's results name it as quarantined
    assert handlers["transform"].lambda_handler(batch, LambdaContext()) == batch["quarantined"]
    assert keys(s3, "datasets/") == [latest_key("EWR")]  # the one planted above, untouched


def test_a_backfill_of_months_merges_each_month_into_the_locations_dataset(s3, handlers):
    # GIVEN the clock past the range WHEN a backfill of two months runs as the Map would run it (one batch)
    handlers["plan"].lambda_handler({"now": "2013-10-20T00:00"}, LambdaContext())
    plan = handlers["plan"].lambda_handler(
        {"backfill": {"start": "2013-05-01T00:00", "end": "2013-07-01T00:00"}}, LambdaContext()
    )
    items = storage.get_json(BUCKET, plan["items_key"])
    assert len(items) == 6  # 3 locations x 2 months
    ingested = handlers["ingest"].lambda_handler({"Items": items}, LambdaContext())
    results = handlers["transform"].lambda_handler(
        handlers["quality_gate"].lambda_handler(ingested, LambdaContext()), LambdaContext()
    )
    # THEN each location's newest version holds both months (June's merged after May's)
    jfk = [r for r in results if r["location"] == "JFK"]
    assert [r["time_end"] for r in jfk] == ["2013-06-01T00:00", "2013-07-01T00:00"]
    assert jfk[1]["rows"] >= jfk[0]["rows"] + 29 * 24
    latest = storage.get_json(BUCKET, latest_key("JFK"))
    assert latest["version"] == jfk[1]["dataset_version"]


def test_a_locations_own_error_leaves_it_out_and_the_batch_goes_on(s3, handlers, monkeypatch):
    # GIVEN a batch where the source refuses LGA's request and EWR's history cannot be read
    plan = handlers["plan"].lambda_handler(load_event("plan.json"), LambdaContext())
    ingest, transform = handlers["ingest"], handlers["transform"]
    real_ingest, real_transform = ingest.ingest_window, transform.run_transform

    def refuse_lga(request, settings):
        if request.location == "LGA":
            raise SourceError("LGA: HTTP 400 from the API: Latitude must be in range")
        return real_ingest(request, settings)

    def unreadable_ewr(request, settings):
        if request.location == "EWR":
            raise DatasetError("EWR: the latest version is corrupt")
        return real_transform(request, settings)

    monkeypatch.setattr(ingest, "ingest_window", refuse_lga)
    monkeypatch.setattr(transform, "run_transform", unreadable_ewr)
    # WHEN the batch runs THEN JFK's dataset is built, and LGA and EWR are left out with their errors
    ingested = ingest.lambda_handler({"Items": list(plan_items(plan).values())}, LambdaContext())
    results = transform.lambda_handler(
        handlers["quality_gate"].lambda_handler(ingested, LambdaContext()), LambdaContext()
    )
    assert [(r["location"], r.get("failed", False), r.get("error")) for r in results] == [
        ("JFK", False, None),
        ("EWR", True, "DatasetError"),
        ("LGA", True, "SourceError"),
    ]

    # AND a transient error still fails the whole batch, for the state machine's Retry
    def throttled(request, settings):
        raise TransientSourceError("HTTP 429 after retries")

    monkeypatch.setattr(ingest, "ingest_window", throttled)
    with pytest.raises(TransientSourceError):
        ingest.lambda_handler({"Items": list(plan_items(plan).values())}, LambdaContext())


def test_a_batch_runs_each_location_through_the_same_steps(s3, handlers, capsys):
    # GIVEN the first run's items for the three stations, one of them with a bad raw answer stored first
    plan = handlers["plan"].lambda_handler(load_event("plan.json"), LambdaContext())
    items = list(plan_items(plan).values())
    s3.put_object(Bucket=BUCKET, Key=plan_raw(plan, "LGA"), Body=b"<html>502</html>")
    capsys.readouterr()
    # WHEN one batch goes through Ingest, QualityGate and Transform, one invocation each
    ingested = handlers["ingest"].lambda_handler({"Items": items}, LambdaContext())
    gated = handlers["quality_gate"].lambda_handler(ingested, LambdaContext())
    results = handlers["transform"].lambda_handler(gated, LambdaContext())
    # THEN the batch's results are a dataset version per good location and the bad one quarantined
    assert [r["location"] for r in ingested["Items"]] == ["JFK", "LGA", "EWR"]
    assert [(r["location"], "dataset_version" in r, r.get("quarantined", False)) for r in results] == [
        ("JFK", True, False),
        ("EWR", True, False),
        ("LGA", False, True),
    ]
    assert keys(s3, "quarantine/") == [f"quarantine/location=LGA/end={plan['window_end']}.json"]
    # AND each location's metrics are a set of their own, split by location
    sets = _dimension_sets(capsys.readouterr().out)
    # 3 ingested, 3 judged, 1 quarantined, 2 built
    assert [sorted(dims) for dims in sets] == [["location", "service"]] * 9, sets


def test_sample_transform_event_runs_after_ingest(s3, handlers):
    handlers["ingest"].lambda_handler(load_event("ingest.json"), LambdaContext())
    out = handlers["transform"].lambda_handler(load_event("transform.json"), LambdaContext())
    assert out["rows"] == 24 and out["time_end"] == "2013-10-20T00:00"


@pytest.mark.parametrize(
    ("step", "event"),
    [
        ("plan", {"detail-type": "Object Created", "source": "aws.s3", "time": "2013-10-20T00:00:00Z"}),
        ("plan", {"now": "yesterday"}),
        ("plan", {"nwo": "2013-10-20T00:00"}),
        ("plan", []),
        ("ingest", {"location": "EWR"}),
        ("ingest", {**load_event("ingest.json"), "location": "ORD"}),
        ("ingest", {**load_event("ingest.json"), "window_start": "2013-10-21T00:00"}),
        ("quality_gate", load_event("ingest.json")),
        ("transform", {"location": "EWR", "raw_key": "x"}),
        ("quality_gate", {"Items": "not a list"}),
        ("transform", {"Items": [], "quarantined": "not a list"}),
    ],
)
def test_bad_events_raise_invalid_event_error(s3, handlers, step, event):
    with pytest.raises(InvalidEventError):
        handlers[step].lambda_handler(event, LambdaContext())
