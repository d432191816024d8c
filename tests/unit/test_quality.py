"""The quality gate: every check passing and failing, the report, and the real defects of the data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rps_core.config import load_settings
from rps_core.quality import CHECKS, PHYSICAL_RANGES, evaluate, key_columns, render_text
from rps_core.schema import VARIABLES
from rps_core.sources import Window, load_embedded

SETTINGS = load_settings({"MIN_ROWS": "12"})
START = datetime(2013, 10, 19, tzinfo=UTC)
END = START + timedelta(days=1)
DAY = Window(START, END)


def day_payload() -> dict:
    """A clean 24-hour payload (JFK, 2013-10-19 01:00 to 10-20 00:00, no gaps, no nulls)."""
    payload = json.loads(json.dumps(load_embedded()[0]))
    times = payload["hourly"]["time"]
    lo, hi = times.index("2013-10-19T01:00"), times.index("2013-10-20T00:00") + 1
    payload["hourly"] = {k: v[lo:hi] for k, v in payload["hourly"].items()}
    payload["hourly"]["pressure_msl"] = [1015.0] * 24
    payload["hourly"]["wind_direction_10m"] = [180.0] * 24
    return payload


def run(payload: dict | bytes, window: Window = DAY, now: datetime = END, settings_=SETTINGS):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return evaluate(body, "JFK", window, now, settings_)


def drop_hours(payload: dict, indexes: list[int]) -> dict:
    keep = [i for i in range(len(payload["hourly"]["time"])) if i not in indexes]
    payload["hourly"] = {k: [v[i] for i in keep] for k, v in payload["hourly"].items()}
    return payload


def test_a_clean_window_passes_every_check():
    report = run(day_payload())
    assert report.passed and [c.name for c in report.checks] == list(CHECKS)
    assert report.to_dict()["metrics"]["QualityPassed"] == 1.0


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda p: p["hourly"].pop("dew_point_2m"), "hourly.dew_point_2m: missing"),
        (lambda p: p["hourly"]["temperature_2m"].__setitem__(3, "12.5"), "is not a number or null"),
        (lambda p: p["hourly"]["time"].__setitem__(0, "2013-10-19 01:00"), "YYYY-MM-DDTHH:MM"),
        (lambda p: p["hourly_units"].__setitem__("temperature_2m", "°F"), "expected '°C'"),
        (lambda p: p["hourly"]["precipitation"].pop(), "23 values for 24 times"),
    ],
)
def test_schema_failures_name_the_problem_and_skip_the_rest(mutate, reason):
    payload = day_payload()
    mutate(payload)
    report = run(payload)
    assert report.failed_checks == ["schema"] and len(report.checks) == 1
    assert reason in report.checks[0].detail


def test_non_json_bodies_fail_the_schema_check():
    assert "not valid JSON" in run(b'{"hourly": {"ti').checks[0].detail
    assert "an HTML page" in run(b"<html><body>502</body></html>").checks[0].detail


def test_min_rows():
    report = run(drop_hours(day_payload(), list(range(8))), settings_=load_settings({"MIN_ROWS": "20"}))
    assert "min_rows" in report.failed_checks and "16 rows" in report.check("min_rows").detail


def test_time_index_rejects_duplicates_and_disorder():
    payload = day_payload()
    payload["hourly"]["time"][5] = payload["hourly"]["time"][4]
    assert "1 duplicate hours" in run(payload).check("time_index").detail
    payload = day_payload()
    t = payload["hourly"]["time"]
    t[5], t[6] = t[6], t[5]
    assert run(payload).failed_checks == ["time_index"]


def test_gaps_up_to_the_maximum_pass_and_longer_ones_fail():
    assert run(drop_hours(day_payload(), list(range(5, 11)))).passed  # 6 missing hours: MAX_GAP_HOURS
    report = run(drop_hours(day_payload(), list(range(5, 12))))
    assert report.failed_checks == ["time_index"] and "a gap of 7 missing hours" in report.check("time_index").detail


def test_a_leading_gap_counts_from_the_window_start():
    report = run(drop_hours(day_payload(), list(range(7))))  # first observation at 08:00, start 00:00
    assert report.check("time_index").data["longest_gap_hours"] == 7 and not report.passed


def test_nulls_in_the_key_column_fail_above_the_threshold():
    payload = day_payload()
    payload["hourly"]["temperature_2m"][3] = None
    report = run(payload)
    assert report.failed_checks == ["null_share"] and "temperature_2m 4.2% null" in report.summary()
    loose = load_settings({"MIN_ROWS": "12", "NULL_THRESHOLD": "0.05"})
    assert run(payload, settings_=loose).passed


def test_nulls_in_other_columns_are_reported_not_failed():
    payload = day_payload()
    payload["hourly"]["pressure_msl"] = [None] * 24
    report = run(payload)
    assert report.passed and report.check("null_share").data["null_share"]["pressure_msl"] == 1.0


def test_the_target_decides_the_key_column():
    assert key_columns("temperature_2m") == ("temperature_2m",)
    payload = day_payload()
    payload["hourly"]["pressure_msl"][0] = None
    assert run(payload, settings_=load_settings({"MIN_ROWS": "12", "TARGET": "pressure_msl"})).failed_checks == [
        "null_share"
    ]


def test_an_out_of_range_key_value_fails_even_once():
    payload = day_payload()
    payload["hourly"]["temperature_2m"][2] = 75.0
    report = run(payload)
    assert report.failed_checks == ["physical_range"]
    assert report.check("physical_range").data["out_of_range"][0] | {"value": 0} == {
        "column": "temperature_2m",
        "time": "2013-10-19T03:00",
        "value": 0,
        "low": -90.0,
        "high": 60.0,
        "key": True,
    }


def test_out_of_range_values_in_other_columns_fail_only_above_the_threshold():
    payload = day_payload()
    payload["hourly"]["relative_humidity_2m"][0] = 140.0
    assert run(payload).failed_checks == ["physical_range"]  # 1 of 24 rows = 4.2% > 1%
    loose = load_settings({"MIN_ROWS": "12", "NULL_THRESHOLD": "0.05"})
    report = run(payload, settings_=loose)
    assert report.passed and report.metrics()["OutOfRangeValues"] == 1


def test_the_real_1048_mph_wind_is_caught_reported_and_tolerated_in_the_backfill():
    # GIVEN the real EWR history up to the replay start (1 bad wind reading in about 6,967 rows)
    body = json.dumps(load_embedded()[2]).encode()
    report = evaluate(body, "EWR", Window(None, START), START, SETTINGS)
    # THEN the gate passes (wind is not a key column, 1 value is far below 1%) but names the value
    assert report.passed
    (item,) = report.check("physical_range").data["out_of_range"]
    assert item["column"] == "wind_speed_10m" and item["time"] == "2013-02-12T08:00" and item["value"] > 1600
    assert report.metrics()["OutOfRangeValues"] == 1 and "1687.2" in render_text(report)
    # AND in a day window around it, the same value fails the window
    around = Window(datetime(2013, 2, 12, tzinfo=UTC), datetime(2013, 2, 13, tzinfo=UTC))
    assert "physical_range" in evaluate(body, "EWR", around, around.end, SETTINGS).failed_checks


def test_freshness_is_judged_against_now():
    assert run(day_payload(), now=END + timedelta(hours=3)).passed
    report = run(day_payload(), now=END + timedelta(hours=4))
    assert report.failed_checks == ["freshness"] and "4 h before now" in report.check("freshness").detail


def test_an_empty_window_fails_rows_and_freshness():
    report = run(day_payload(), window=Window(END, END + timedelta(days=1)), now=END + timedelta(days=1))
    assert report.failed_checks == ["min_rows", "freshness"]


def test_hours_outside_the_window_are_ignored():
    payload = json.loads(json.dumps(load_embedded()[0]))  # the whole year; the window is one day of it
    assert run(payload).check("min_rows").data["rows"] == 24


def test_every_variable_has_a_physical_range():
    assert set(PHYSICAL_RANGES) == set(VARIABLES)
    assert all(b.low < b.high for b in PHYSICAL_RANGES.values())


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 24), min_size=1, max_size=24, unique=True))
def test_the_longest_gap_is_the_longest_run_of_absent_hours(present):
    payload = drop_hours(day_payload(), [i for i in range(24) if i + 1 not in present])
    hours = sorted(present)
    expected = max(b - a - 1 for a, b in zip([0, *hours], hours, strict=False))  # hour 0 is the window start
    assert run(payload).check("time_index").data["longest_gap_hours"] == expected
    assert ("time_index" in run(payload).failed_checks) == (expected > SETTINGS.max_gap_hours)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([None, -5.0, 10.0, 999.0]), min_size=24, max_size=24))
def test_null_share_and_out_of_range_counts_match_the_data(values):
    payload = day_payload()
    payload["hourly"]["wind_speed_10m"] = values
    report = run(payload)
    column = np.array([np.nan if v is None else v for v in values])
    assert report.check("null_share").data["null_share"]["wind_speed_10m"] == pytest.approx(
        np.isnan(column).mean(), abs=1e-4
    )
    assert report.check("physical_range").data["out_of_range_count"]["wind_speed_10m"] == int(
        np.sum((column < 0) | (column > 410))
    )
