"""Locations as data: the CSV named by LOCATIONS_KEY (template LocationsKey) in the data bucket."""

from __future__ import annotations

import pytest
from rps_core import locations as locations_module
from rps_core.config import Location, load_settings
from rps_core.errors import ConfigurationError
from rps_core.locations import LocationsFileError, parse_locations_csv, read_locations

BUCKET = "rps-locations-test"
KEY = "config/locations.csv"
GOOD = "name,latitude,longitude\nJFK,40.6398,-73.7789\nLGA,40.7772,-73.8726\n"


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch):
    monkeypatch.setattr(locations_module, "_cache", {})


def test_a_good_file_gives_its_locations_in_order():
    assert parse_locations_csv(GOOD) == (Location("JFK", 40.6398, -73.7789), Location("LGA", 40.7772, -73.8726))


def test_spreadsheet_habits_are_accepted():
    # a byte-order mark, CRLF line ends, a capitalised header, spaces and blank lines
    text = "\ufeffName, Latitude ,Longitude\r\n JFK , 40.6398,-73.7789\r\n\r\n,,\r\nLGA,40.7772,-73.8726\r\n"
    assert [loc.name for loc in parse_locations_csv(text)] == ["JFK", "LGA"]


@pytest.mark.parametrize("text", ["", "JFK,40.6,-73.7\n", "name,lat,lon\nJFK,40.6,-73.7\n", "name,latitude\n"])
def test_the_header_is_required(text):
    with pytest.raises(LocationsFileError, match="first line must be the header 'name,latitude,longitude'"):
        parse_locations_csv(text, "s3://b/k.csv")


def test_every_bad_row_is_named_by_its_line_and_nothing_is_read():
    text = (
        "name,latitude,longitude\n"
        "JFK,40.6398,-73.7789\n"  # line 2: good
        "LGA,north,-73.8726\n"  # line 3
        "EWR,40.69\n"  # line 4
        "POLE,91,0\n"  # line 5
        "JFK,1,2\n"  # line 6: duplicate of line 2
        "a/b,1,2\n"  # line 7: a name that cannot be an S3 key part
        "FAR,0,nan\n"  # line 8
    )
    with pytest.raises(LocationsFileError) as failure:
        parse_locations_csv(text, "s3://b/k.csv")
    message = str(failure.value)
    assert message.startswith("s3://b/k.csv: 6 bad rows: line 3: latitude 'north' is not a number")
    for expected in (
        "line 4: expected 3 fields",
        "line 5: latitude 91.0 is outside [-90, 90]",
        "line 6: duplicate name 'JFK' (first on line 2)",
        "line 7: name 'a/b'",
        "line 8: longitude nan is outside",
    ):
        assert expected in message
    assert message.endswith("nothing was read")


def test_a_file_with_many_bad_rows_names_the_first_twenty():
    text = "name,latitude,longitude\n" + "".join(f"S{i},x,0\n" for i in range(50))
    with pytest.raises(LocationsFileError, match=r"50 bad rows: .*line 21: .*\(and 30 more\)") as failure:
        parse_locations_csv(text)
    assert "line 22:" not in str(failure.value)


def test_a_file_with_only_a_header_is_an_error():
    with pytest.raises(LocationsFileError, match="no location in the file"):
        parse_locations_csv("name,latitude,longitude\n\n")


def test_the_error_is_a_configuration_error():
    # Step Functions and the CLI treat it like any other bad setting
    assert issubclass(LocationsFileError, ConfigurationError)


# ---------------------------------------------------------------- from the data bucket
def test_settings_read_the_locations_from_the_bucket_when_the_key_is_set(s3):
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=GOOD.encode())
    env = {"DATA_BUCKET": BUCKET, "LOCATIONS_KEY": KEY, "LOCATIONS": "X:1:2"}
    settings = load_settings(env)
    assert settings.location_names == ["JFK", "LGA"] and settings.locations_key == KEY
    assert load_settings({"DATA_BUCKET": BUCKET, "LOCATIONS": "X:1:2"}).location_names == ["X"]


def test_a_new_upload_is_read_and_an_unchanged_object_is_not_downloaded_again(s3):
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=GOOD.encode())
    first = read_locations(BUCKET, KEY, s3)
    calls: list[dict] = []
    real_get = s3.get_object
    s3.get_object = lambda **kw: calls.append(kw) or real_get(**kw)
    # unchanged: S3 answers 304 to the conditional GET, and the parsed list is reused
    assert read_locations(BUCKET, KEY, s3) is first
    assert calls and calls[-1]["IfNoneMatch"]
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=(GOOD + "EWR,40.6925,-74.1687\n").encode())
    assert [loc.name for loc in read_locations(BUCKET, KEY, s3)] == ["JFK", "LGA", "EWR"]


def test_a_missing_or_bad_object_is_a_named_error(s3):
    with pytest.raises(LocationsFileError, match=f"s3://{BUCKET}/{KEY}: no such object"):
        load_settings({"DATA_BUCKET": BUCKET, "LOCATIONS_KEY": KEY})
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"\xff\xfe\x00")
    with pytest.raises(LocationsFileError, match="not UTF-8"):
        read_locations(BUCKET, KEY, s3)


def test_the_key_needs_the_data_bucket():
    with pytest.raises(ConfigurationError, match="DATA_BUCKET: required"):
        load_settings({"LOCATIONS_KEY": KEY})
