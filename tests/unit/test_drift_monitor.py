"""One monitoring run on moto: champion pointer and dataset versions in S3, forecasts, report, retraining."""

import json

import numpy as np
import pytest
from rps_core import storage
from rps_core.config import load_settings
from rps_core.datasets import build_version
from rps_core.datasets.store import point_latest, write_version
from rps_core.drift.monitor import MonitorRequest, parse_request, run_monitor
from rps_core.errors import InvalidEventError
from rps_core.features import build_features, feature_names
from rps_core.schema import Observations
from rps_core.training.reference import reference_stats

from tests.support import mocked_pipeline_aws
from tests.unit.test_drift_compare import season

DATA, MODELS = "rps-data", "rps-models"
TARGET = "temperature_2m"
ENV = {
    "DATA_BUCKET": DATA,
    "MODEL_BUCKET": MODELS,
    "LOCATIONS": "JFK:40.6398:-73.7789",
    "DRIFT_SHARE_THRESHOLD": "0.2",
}


@pytest.fixture
def aws(monkeypatch):
    with mocked_pipeline_aws(monkeypatch, ENV) as (s3, sfn, arn):
        yield s3, sfn, arn


def put_champion(s3, obs: Observations) -> None:
    reference = reference_stats(build_features(obs, TARGET), feature_names(TARGET))
    pointer = {
        "model_version": "1",
        "model_id": "m1",
        "target": TARGET,
        "dataset_version": "abc",
        "reference": reference,
    }
    storage.put_json(MODELS, "champion/pointer.json", pointer, client=s3)


def put_dataset(s3, obs: Observations) -> None:
    """A dataset version written the way Transform writes it (content-addressed, then latest.json)."""
    npz, manifest, profile = build_version(None, obs, load_settings(), None, "raw/test.json", "run-1")
    write_version(DATA, obs.location, npz, manifest, profile, s3)
    point_latest(DATA, obs.location, {"version": manifest["version"]}, "", s3)


def shifted(obs: Observations, start: str) -> Observations:
    """The same weather on a later calendar (the live data follows the training data)."""
    return obs.with_rows(np.datetime64(start, "h") + np.arange(len(obs)), obs.values)


def test_another_season_triggers_retraining_once(aws):
    s3, sfn, arn = aws
    # GIVEN a champion trained on winter and 40 days of summer in the latest dataset version
    put_champion(s3, season(0.0, 3.0, 70.0, seed=1))
    put_dataset(s3, shifted(season(24.0, 8.0, 45.0, hours=24 * 40, seed=3), "2013-06-01T00"))
    # WHEN the scheduled monitor runs
    result = run_monitor(load_settings(), parse_request({}), s3, sfn)
    # THEN the window ends at the newest observation, drift is found and retraining starts with the reason
    assert result.window_end == "2013-07-10T23:00" and result.window_start == "2013-06-10T23:00"
    assert result.decision.retrain and result.trigger.status == "started"
    execution = sfn.describe_execution(executionArn=result.trigger.execution_arn)
    assert execution["name"] == "drift-20130710T2300"
    assert json.loads(execution["input"]) == {
        "now": "2013-07-10T23:00",
        "run_id": "drift-20130710T2300",
        "reason": result.decision.reasons[0],
    }
    html = s3.get_object(Bucket=DATA, Key=result.report_key)["Body"].read().decode()
    assert "Retraining started" in html and "<svg" in html and "temperature_2m" in html
    summary = json.loads(s3.get_object(Bucket=DATA, Key=result.report_key.replace(".html", ".json"))["Body"].read())
    assert summary["retrain"] is True and summary["drift"]["share"] > 0.2
    # AND a second run for the same window starts nothing new
    again = run_monitor(load_settings(), parse_request({}), s3, sfn)
    assert again.trigger.status == "already started"
    assert len(sfn.list_executions(stateMachineArn=arn)["executions"]) == 1


def test_the_same_season_needs_no_retraining(aws):
    s3, sfn, arn = aws
    put_champion(s3, season(0.0, 3.0, 70.0, seed=1))
    put_dataset(s3, shifted(season(0.0, 3.0, 70.0, hours=24 * 40, seed=5), "2013-03-01T00"))
    result = run_monitor(load_settings(), MonitorRequest(), s3, sfn)
    assert result.status == "checked" and not result.decision.retrain
    assert result.trigger.status == "not needed"
    assert sfn.list_executions(stateMachineArn=arn)["executions"] == []


def test_realized_error_alone_triggers_retraining(aws):
    s3, sfn, _ = aws
    obs = shifted(season(0.0, 3.0, 70.0, hours=24 * 40, seed=5), "2013-03-01T00")
    put_champion(s3, season(0.0, 3.0, 70.0, seed=1))
    put_dataset(s3, obs)
    # Forecasts 6 h ahead, issued daily in the last week, each 5 degrees off.
    for day in range(33, 39):
        issued = obs.time[day * 24]
        target = issued + np.timedelta64(6, "h")
        actual = float(obs.values[TARGET][day * 24 + 6])
        item = {
            "location": "JFK",
            "issued_at": str(issued)[:13] + ":00",
            "target_time": str(target)[:13] + ":00",
            "value": actual + 5.0,
            "model_version": "1",
        }
        storage.put_json(DATA, f"forecasts/location=JFK/issued={item['issued_at']}.json", item, client=s3)
    result = run_monitor(load_settings(), MonitorRequest(), s3, sfn)
    assert result.realized[0].count == 6 and result.realized[0].mae == pytest.approx(5.0)
    assert result.trigger.status == "started"
    assert any(r.startswith("realized error: JFK MAE 5.00") for r in result.decision.reasons)


def test_realized_coverage_is_reported_over_7_and_30_days(aws):
    s3, sfn, _ = aws
    obs = shifted(season(0.0, 3.0, 70.0, hours=24 * 40, seed=5), "2013-03-01T00")
    put_champion(s3, season(0.0, 3.0, 70.0, seed=1))
    put_dataset(s3, obs)
    # GIVEN daily forecasts over 30 days whose 80% interval misses every third observation
    for day in range(10, 40):
        issued = obs.time[day * 24]
        actual = float(obs.values[TARGET][day * 24 + 6])
        off = 2.0 if day % 3 == 0 else 0.0  # outside [v - 1, v + 1], inside [v - 3, v + 3]
        item = {
            "location": "JFK",
            "issued_at": str(issued)[:13] + ":00",
            "target_time": str(issued + np.timedelta64(6, "h"))[:13] + ":00",
            "value": actual + off,
            "lower_80": actual + off - 1.0,
            "upper_80": actual + off + 1.0,
            "lower_95": actual + off - 3.0,
            "upper_95": actual + off + 3.0,
            "model_version": "1",
        }
        storage.put_json(DATA, f"forecasts/location=JFK/issued={item['issued_at']}.json", item, client=s3)
    result = run_monitor(load_settings(), MonitorRequest(), s3, sfn)
    # THEN the week and the 30 days are reported per location, in the report's data and page
    by_window = {c.window_hours: c for c in result.coverage}
    assert by_window[720].count == 30 and by_window[720].coverage_80 == pytest.approx(20 / 30)
    assert by_window[720].coverage_95 == 1.0 and by_window[168].count in (6, 7)
    report = storage.get_json(DATA, result.report_key.replace("report.html", "report.json"), client=s3)
    assert {(c["location"], c["window_hours"]) for c in report["coverage"]} == {("JFK", 168), ("JFK", 720)}
    page = s3.get_object(Bucket=DATA, Key=result.report_key)["Body"].read().decode()
    assert "Realized interval coverage" in page and "67%" in page


def test_the_clock_sets_the_window_end(aws):
    s3, sfn, _ = aws
    put_champion(s3, season(0.0, 3.0, 70.0, seed=1))
    put_dataset(s3, shifted(season(0.0, 3.0, 70.0, hours=24 * 40, seed=5), "2013-03-01T00"))
    storage.put_json(DATA, "clock/state.json", {"now": "2013-04-01T00:00"}, client=s3)
    assert run_monitor(load_settings(), MonitorRequest(), s3, sfn).window_end == "2013-04-01T00:00"
    assert (
        run_monitor(load_settings(), MonitorRequest(now="2013-03-30T00:00"), s3, sfn).window_end == "2013-03-30T00:00"
    )


def test_nothing_to_compare_before_the_first_champion(aws):
    s3, sfn, _ = aws
    assert run_monitor(load_settings(), MonitorRequest(), s3, sfn).status == "no champion"
    put_champion(s3, season(0.0, 3.0, 70.0, seed=1))
    assert run_monitor(load_settings(), MonitorRequest(), s3, sfn).status == "no data"


@pytest.mark.parametrize(
    "event, message",
    [
        ([], "expected a JSON object"),
        ({"nope": 1}, "unknown keys"),
        ({"now": "yesterday"}, "now: not a time"),
        ({"window_hours": 2}, "window_hours"),
        ({"detail-type": "Scheduled Event", "source": "aws.s3"}, "source: Input should be 'aws.events' or"),
    ],
)
def test_bad_events_are_named(event, message):
    with pytest.raises(InvalidEventError, match=message):
        parse_request(event)
