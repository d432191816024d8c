"""Settings: defaults, parsing, and a named ConfigurationError for every bad value."""

from datetime import UTC, datetime

import pytest
from rps_core.config import load_settings, parse_locations
from rps_core.errors import ConfigurationError
from rps_core.times import parse_time


def test_defaults_are_the_three_new_york_stations_and_six_hours_of_temperature():
    s = load_settings({})
    assert s.location_names == ["JFK", "LGA", "EWR"]
    assert (s.target, s.horizon_hours, s.source) == ("temperature_2m", 6, "replay")
    assert s.replay_start == datetime(2013, 10, 19, tzinfo=UTC)


def test_values_are_read_from_the_environment():
    s = load_settings(
        {
            "LOCATIONS": "A:1:2, B:-3.5:4",
            "HORIZON_HOURS": "1",
            "NULL_THRESHOLD": "0.05",
            "SOURCE": "open-meteo",
            "OPEN_METEO_URL": "http://127.0.0.1:9/",
            "REPLAY_START": "2013-06-01T00:00",
        }
    )
    assert [(loc.name, loc.latitude, loc.longitude) for loc in s.locations] == [("A", 1.0, 2.0), ("B", -3.5, 4.0)]
    assert s.horizon_hours == 1 and s.null_threshold == 0.05
    assert s.open_meteo_url == "http://127.0.0.1:9"
    assert s.replay_start == datetime(2013, 6, 1, tzinfo=UTC)


def test_model_size_overrides_only_what_is_set():
    assert load_settings({}).model_params == {}
    assert load_settings({"ENSEMBLE_SIZE": "", "BOOSTING_ROUNDS": ""}).model_params == {}  # the template's default
    small = load_settings({"ENSEMBLE_SIZE": "1", "BOOSTING_ROUNDS": "50"})
    assert small.model_params == {"ensemble_size": 1, "max_iter": 50}


def test_locations_as_json():
    assert parse_locations('{"X": [10, 20]}')[0].latitude == 10.0


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SOURCE": "ftp"}, "SOURCE"),
        ({"SOURCE": "file"}, "SOURCE_FILE"),
        ({"TARGET": "snow"}, "TARGET"),
        ({"HORIZON_HOURS": "six"}, "HORIZON_HOURS"),
        ({"HORIZON_HOURS": "0"}, "HORIZON_HOURS"),
        ({"NULL_THRESHOLD": "2"}, "NULL_THRESHOLD"),
        ({"LOCATIONS": "A:1"}, "LOCATIONS"),
        ({"LOCATIONS": "A:100:0"}, "LOCATIONS"),
        ({"LOCATIONS": "A:1:2,A:3:4"}, "LOCATIONS"),
        ({"REPLAY_START": "yesterday"}, "REPLAY_START"),
        ({"ENSEMBLE_SIZE": "0"}, "ENSEMBLE_SIZE"),
        ({"ENSEMBLE_SIZE": "four"}, "ENSEMBLE_SIZE"),
        ({"BOOSTING_ROUNDS": "0"}, "BOOSTING_ROUNDS"),
    ],
)
def test_bad_settings_name_the_variable(env, named):
    with pytest.raises(ConfigurationError, match=named):
        load_settings(env)


def test_unknown_location_is_named():
    with pytest.raises(ConfigurationError, match="'XYZ'"):
        load_settings({}).location("XYZ")


def test_naive_times_are_utc():
    assert parse_time("2013-01-01T05:00").tzinfo is UTC
    assert parse_time("2013-01-01T05:00Z") == datetime(2013, 1, 1, 5, tzinfo=UTC)
