"""The Open-Meteo payload contract: strict parsing with named errors, and a lossless round trip."""

import json

import numpy as np
import pytest
from rps_core.errors import PayloadError
from rps_core.schema import VARIABLES, observations_from_payload

from tests.unit.model_data import payload_from_observations


def _payload(n: int = 3) -> dict:
    hourly = {"time": [f"2013-01-01T{h:02d}:00" for h in range(n)]}
    for i, name in enumerate(VARIABLES):
        hourly[name] = [float(i + h) for h in range(n)]
    hourly["pressure_msl"][1] = None
    return {"latitude": 1.0, "longitude": 2.0, "hourly": hourly}


def test_parse_gives_hourly_times_and_nan_for_null():
    obs = observations_from_payload(_payload(), "JFK")
    assert len(obs) == 3
    assert obs.time.dtype == np.dtype("datetime64[h]")
    assert np.isnan(obs.values["pressure_msl"][1])
    assert obs.values["temperature_2m"].tolist() == [0.0, 1.0, 2.0]


def test_round_trip_through_json():
    obs = observations_from_payload(_payload(), "JFK")
    again = observations_from_payload(json.loads(json.dumps(payload_from_observations(obs, 1.0, 2.0))), "JFK")
    assert (again.time == obs.time).all()
    for name in VARIABLES:
        np.testing.assert_array_equal(again.values[name], obs.values[name])


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda p: p.pop("hourly"), "'hourly'"),
        (lambda p: p["hourly"].pop("wind_speed_10m"), "wind_speed_10m"),
        (lambda p: p["hourly"]["time"].__setitem__(1, "2013-01-01 01:00"), r"time\[1\]"),
        (lambda p: p["hourly"]["time"].__setitem__(1, "2013-01-01T01:30"), "on the hour"),
        (lambda p: p["hourly"]["time"].__setitem__(1, "2013-02-30T01:00"), "time"),
        (lambda p: p["hourly"]["temperature_2m"].__setitem__(0, "7"), r"temperature_2m\[0\]"),
        (lambda p: p["hourly"]["temperature_2m"].__setitem__(0, True), r"temperature_2m\[0\]"),
        (lambda p: p["hourly"]["dew_point_2m"].pop(), "2 values for 3 times"),
    ],
)
def test_bad_payloads_are_named(mutate, message):
    payload = _payload()
    mutate(payload)
    with pytest.raises(PayloadError, match=message):
        observations_from_payload(payload, "JFK")


def test_a_payload_must_be_an_object():
    with pytest.raises(PayloadError, match="JSON object"):
        observations_from_payload([1, 2], "JFK")
