"""The sun's position features: elevation against known values, the insolation windows, the coordinates
they need, and coordinates carried from payload and dataset version to the features."""

from __future__ import annotations

import numpy as np
import pytest
from rps_core.datasets import decode_observations, encode_observations
from rps_core.errors import DatasetError
from rps_core.features import build_features, feature_names
from rps_core.features.solar import sin_elevation, solar_columns, solar_names
from rps_core.schema import Observations, observations_from_payload

from tests.unit.model_data import payload_from_observations
from tests.unit.test_features import TARGET, make_obs

JFK = (40.64, -73.78)


def hours(start: str, n: int) -> np.ndarray:
    return np.datetime64(start, "h").astype("int64") + np.arange(n)


def highest_elevation(day: str, latitude: float, longitude: float) -> tuple[float, float]:
    """(degrees, UTC hour) of the highest sun of a day, sampled each minute."""
    minutes = np.datetime64(day, "h").astype("int64") + np.arange(24 * 60) / 60
    s = sin_elevation(minutes, latitude, longitude)
    return float(np.degrees(np.arcsin(s.max()))), float(minutes[s.argmax()] % 24)


@pytest.mark.parametrize(
    ("day", "latitude", "longitude", "degrees", "noon_utc"),
    [
        ("2013-06-21T00", *JFK, 90 - 40.64 + 23.44, 16.9),  # summer solstice, New York: noon 12:57 EDT
        ("2013-12-21T00", *JFK, 90 - 40.64 - 23.44, 16.8),  # winter solstice
        ("2013-03-20T00", *JFK, 90 - 40.64, 17.0),  # equinox
        ("2013-12-21T00", -33.87, 151.21, 90 - 33.87 + 23.44, 1.9),  # Sydney's summer: noon 12:53 AEDT
        ("2013-04-15T00", 0.0, 0.0, 90 - 9.9, 12.0),  # equator, Greenwich: the equation of time is ~0
    ],
)
def test_the_highest_sun_matches_the_almanac(day, latitude, longitude, degrees, noon_utc) -> None:
    elevation, noon = highest_elevation(day, latitude, longitude)
    assert elevation == pytest.approx(degrees, abs=0.6)
    assert noon == pytest.approx(noon_utc, abs=0.1)


def test_insolation_windows_have_their_meaning() -> None:
    t = hours("2013-06-01T00", 48)
    cols = dict(zip(solar_names(), solar_columns(t, *JFK), strict=True))
    # 04:00 UTC is midnight in New York: no sun in the next 6 h (sunrise about 09:30 UTC), some in the last 24 h
    night = 28
    assert cols["insolation_next_6h"][night] == 0.0
    assert cols["insolation_last_24h"][night] > 0.2
    assert cols["sun_elevation_sin_0h"][night] < 0
    # 13:00 UTC, morning: more sun ahead than behind
    morning = 37
    assert cols["insolation_change_6h"][morning] > 0.3
    expected = np.mean(np.maximum(sin_elevation(t[morning] + np.arange(6) + 0.5, *JFK), 0))
    assert cols["insolation_next_6h"][morning] == pytest.approx(expected)
    # a June day is longer than a December one
    december = solar_columns(hours("2013-12-01T00", 48), *JFK)
    assert cols["insolation_day"].mean() > 2 * december[solar_names().index("insolation_day")].mean()


def test_another_longitude_moves_the_sun_not_the_weather() -> None:
    # The same observations 90° further west: the weather columns stay, the sun comes 6 hours later.
    obs = make_obs(300, nan_share=0.0)
    west = obs.at(obs.latitude, obs.longitude - 90)
    names = feature_names(TARGET)
    here, there = build_features(obs, TARGET), build_features(west, TARGET)
    sun = [names.index(n) for n in solar_names()]
    weather = [j for j in range(len(names)) if j not in sun]
    np.testing.assert_array_equal(here[:, weather], there[:, weather])
    elevation = names.index("sun_elevation_sin_0h")
    np.testing.assert_allclose(there[206:, elevation], here[200:-6, elevation], atol=0.01)


def test_features_without_coordinates_are_a_named_error() -> None:
    obs = make_obs(30)
    nowhere = Observations(obs.location, obs.time, obs.values)
    with pytest.raises(DatasetError, match="no coordinates"):
        build_features(nowhere, TARGET)


def test_coordinates_come_from_the_payload_when_valid() -> None:
    obs = make_obs(30)
    payload = payload_from_observations(obs, 40.64, -73.78)
    parsed = observations_from_payload(payload, "JFK")
    assert (parsed.latitude, parsed.longitude) == (40.64, -73.78)
    for bad in ({"latitude": None}, {"latitude": 91.0}, {"longitude": "x"}, {"longitude": True}):
        parsed = observations_from_payload({**payload, **bad}, "JFK")
        assert (parsed.latitude, parsed.longitude) == (None, None)


def test_dataset_versions_keep_the_coordinates() -> None:
    obs = make_obs(30)
    back = decode_observations(encode_observations(obs), "TEST")
    assert (back.latitude, back.longitude) == (obs.latitude, obs.longitude)
    # a version written before coordinates were stored still loads; the features then name the gap
    old = decode_observations(encode_observations(Observations(obs.location, obs.time, obs.values)), "TEST")
    assert old.latitude is None and len(old) == len(obs)


def test_a_damaged_coordinate_in_a_version_is_a_named_error() -> None:
    import io
    import zipfile

    data = encode_observations(make_obs(30))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            body = src.read(item)
            if item.filename == "latitude.npy":
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, np.array([np.nan]))
                body = buffer.getvalue()
            dst.writestr(item, body)
    with pytest.raises(DatasetError, match="latitude is not one finite number"):
        decode_observations(out.getvalue(), "TEST")
