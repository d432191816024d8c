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
