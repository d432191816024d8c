"""Realized error: forecasts in S3 joined with the observations that arrived later."""

import json

import numpy as np
import pytest
from rps_core import storage
from rps_core.drift.realized import Forecast, load_forecasts, parse_forecasts, realized_error
from rps_core.errors import PayloadError
from rps_core.forecasts import Forecast as Written
from rps_core.forecasts import forecast_key
from rps_core.schema import Observations

BUCKET = "rps-data"


def observations(start: str, temps: list[float]) -> Observations:
    time = np.datetime64(start, "h") + np.arange(len(temps))
    return Observations("JFK", time, {"temperature_2m": np.array(temps, dtype="float64")})


def forecast(issued: str, target: str, value: float) -> dict:
    return {"location": "JFK", "issued_at": issued, "target_time": target, "value": value, "model_version": "3"}


def put(s3, issued: str, body) -> None:
    s3.put_object(Bucket=BUCKET, Key=f"forecasts/location=JFK/issued={issued}.json", Body=json.dumps(body))


def test_forecasts_join_observations_on_the_target_time(s3):
    # GIVEN three daily forecasts, one of which targets an hour not observed yet
    put(s3, "2013-10-20T00:00", forecast("2013-10-20T00:00", "2013-10-20T06:00", 12.0))
    put(s3, "2013-10-21T00:00", {"forecasts": [forecast("2013-10-21T00:00", "2013-10-21T06:00", 10.0)]})
    put(s3, "2013-10-22T00:00", [forecast("2013-10-22T00:00", "2013-10-22T06:00", 9.0)])
    temps = [np.nan] * 54
    temps[6], temps[30] = 11.0, 13.0  # 2013-10-20T06 and 2013-10-21T06
    obs = observations("2013-10-20T00", temps)
    # WHEN the monitor joins the week ending 2013-10-22T06:00
    found = load_forecasts(s3, BUCKET, "JFK", "2013-10-15T06:00", "2013-10-22T06:00")
    result = realized_error(found, obs, "temperature_2m", "2013-10-15T06:00", "2013-10-22T06:00")
    # THEN the MAE covers the two observed targets and the third is pending
    assert result.count == 2 and result.pending == 1
    assert result.mae == pytest.approx((1.0 + 3.0) / 2)
    assert [p.target_time for p in result.pairs] == ["2013-10-20T06:00", "2013-10-21T06:00"]
    assert result.to_dict()["mae"] == pytest.approx(2.0)


def test_only_target_times_inside_the_window_are_read(s3):
    put(s3, "2013-09-01T00:00", forecast("2013-09-01T00:00", "2013-09-01T06:00", 30.0))
    put(s3, "2013-10-20T00:00", forecast("2013-10-20T00:00", "2013-10-20T06:00", 12.0))
    found = load_forecasts(s3, BUCKET, "JFK", "2013-10-20T06:00", "2013-10-27T00:00")
    assert found == []  # (start, end]: 06:00 itself belongs to the previous window
    found = load_forecasts(s3, BUCKET, "JFK", "2013-10-13T00:00", "2013-10-20T06:00")
    assert [f.value for f in found] == [12.0]


def test_no_forecasts_means_no_error_value():
    result = realized_error(
        [], observations("2013-10-20T00", [1.0]), "temperature_2m", "2013-10-13T00:00", "2013-10-20T00:00"
    )
    assert result.count == 0 and np.isnan(result.mae)
    assert result.to_dict()["mae"] is None


def test_a_malformed_forecast_names_its_object():
    with pytest.raises(PayloadError, match=r"forecasts/x.json\[0\]"):
        parse_forecasts({"location": "JFK", "value": "warm"}, "forecasts/x.json")
    assert parse_forecasts(forecast("2013-10-20T00:00", "2013-10-20T06:00", 1.5)) == [
        Forecast("JFK", "2013-10-20T00:00", "2013-10-20T06:00", 1.5, "3")
    ]


def test_the_forecast_step_s_objects_are_read(s3):
    # The Forecast step writes one object per location and issue time with storage.put_json.
    written = Written("JFK", "2013-10-20T00:00", "2013-10-20T00:00", "2013-10-20T06:00", 12.5, "4", 0.0)
    storage.put_json(BUCKET, forecast_key("JFK", written.issued_at), written.document(), client=s3)
    found = load_forecasts(s3, BUCKET, "JFK", "2013-10-20T00:00", "2013-10-27T00:00")
    assert found == [Forecast("JFK", "2013-10-20T00:00", "2013-10-20T06:00", 12.5, "4")]


# ---------------------------------------------------------------- realized interval coverage (issue 16)
def test_the_forecast_step_s_intervals_are_read_and_joined(s3):
    written = Written(
        "JFK", "2013-10-20T00:00", "2013-10-20T00:00", "2013-10-20T06:00", 12.5, "4", 0.0, 11.0, 14.0, 9.0, 16.0
    )
    storage.put_json(BUCKET, forecast_key("JFK", written.issued_at), written.document(), client=s3)
    found = load_forecasts(s3, BUCKET, "JFK", "2013-10-20T00:00", "2013-10-27T00:00")
    assert found == [Forecast("JFK", "2013-10-20T00:00", "2013-10-20T06:00", 12.5, "4", (11.0, 14.0, 9.0, 16.0))]


def daily(days: int, start: str = "2013-10-01T00") -> tuple[list[Forecast], Observations]:
    """One forecast a day at 06:00 with intervals [v-1, v+1] (80%) and [v-3, v+3] (95%); the observation is
    v + (day % 5) - 2 off: inside the 80% interval on 3 days of 5, inside the 95% interval always."""
    t0 = np.datetime64(start, "h")
    temps = np.full(24 * days + 24, np.nan)
    forecasts = []
    for day in range(days):
        target = t0 + np.timedelta64(24 * day + 6, "h")
        temps[24 * day + 6] = 10.0 + (day % 5) - 2
        text = str(target.astype("datetime64[m]"))
        forecasts.append(Forecast("JFK", text, text, 10.0, "3", (9.0, 11.0, 7.0, 13.0)))
    return forecasts, observations(start, list(temps))


def test_realized_coverage_over_7_and_30_days():
    from rps_core.drift.realized import realized_coverage

    forecasts, obs = daily(30)
    end = "2013-10-31T00:00"
    realized = realized_error(forecasts, obs, "temperature_2m", "2013-10-01T00:00", end)
    month, week = realized_coverage(realized, 720), realized_coverage(realized, 168)
    assert (month.count, month.coverage_80, month.coverage_95) == (30, pytest.approx(0.6), 1.0)
    assert week.count == 7 and week.window_hours == 168
    assert week.to_dict()["coverage_80"] == pytest.approx(
        np.mean([abs((d % 5) - 2) <= 1 for d in range(23, 30)]), abs=1e-4
    )
    # forecasts stored without intervals count for MAE, not coverage
    bare = [Forecast(f.location, f.issued_at, f.target_time, f.value, f.model_version) for f in forecasts]
    none = realized_coverage(realized_error(bare, obs, "temperature_2m", "2013-10-01T00:00", end), 720)
    assert none.count == 0 and none.to_dict()["coverage_80"] is None


def test_the_coverage_metrics_and_the_pooled_alarm_series(monkeypatch, capsys):
    from aws_lambda_powertools import Metrics
    from rps_core.drift.metrics import emit_coverage
    from rps_core.drift.monitor import MonitorResult
    from rps_core.drift.realized import RealizedCoverage

    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "RPS")
    coverage = [
        RealizedCoverage("JFK", 168, 7, 0.57, 1.0),  # too few for a series
        RealizedCoverage("JFK", 720, 30, 0.6, 0.9),
        RealizedCoverage("LGA", 720, 30, 0.7, 0.95),
    ]
    metrics = Metrics(namespace="RPS", service="drift")
    emit_coverage(metrics, MonitorResult("checked", coverage=coverage))
    pooled = metrics.serialize_metric_set()
    assert pooled["PooledRealizedCoverage80"] == [pytest.approx(0.65)]
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    series = {
        (d["Location"], d["Window"], name)
        for d in printed
        for name in ("RealizedCoverage80", "RealizedCoverage95")
        if name in d
    }
    assert series == {
        (loc, "30d", name) for loc in ("JFK", "LGA") for name in ("RealizedCoverage80", "RealizedCoverage95")
    }
