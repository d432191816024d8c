"""Sources: the embedded data, replay and file windows, the pipeline clock and the Plan event shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st
from rps_core import storage
from rps_core.config import Location, load_settings
from rps_core.contract import LocationWindow, latest_key
from rps_core.errors import ConfigurationError, InvalidEventError, PayloadError, SourceError
from rps_core.schema import UNITS, observations_from_payload
from rps_core.sources import (
    CLOCK_KEY,
    FileSource,
    ReplaySource,
    Window,
    advance_clock,
    ingest_window,
    load_embedded,
    match_location,
    parse_plan_event,
    plan_run,
    read_clock,
    slice_payload,
)

from tests.support import load_event

BUCKET = "rps-sources-test"
SETTINGS = load_settings({})


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# ---------------------------------------------------------------- the embedded data
def test_embedded_data_is_the_real_2013_year_in_open_meteo_units():
    payloads = load_embedded()
    assert [match_location(list(payloads), loc) for loc in SETTINGS.locations] == list(payloads)
    sizes = [len(p["hourly"]["time"]) for p in payloads]
    assert sizes == [8706, 8706, 8703]  # JFK, LGA, EWR: the station gaps are absent hours
    for p in payloads:
        assert p["hourly_units"] == {"time": "iso8601", **UNITS}
        assert p["hourly"]["time"][0] == "2013-01-01T06:00" and p["hourly"]["time"][-1] == "2013-12-30T23:00"
    ewr = observations_from_payload(payloads[2], "EWR")
    i = list(payloads[2]["hourly"]["time"]).index("2013-02-12T08:00")
    assert ewr.values["wind_speed_10m"][i] == pytest.approx(1048.36 * 1.609344, abs=0.1)  # kept as found


def test_embedded_data_converted_units_are_plausible():
    jfk = observations_from_payload(load_embedded()[0], "JFK")
    t = jfk.values["temperature_2m"]
    assert -20 < t[~(t != t)].min() < -10 and 30 < t[~(t != t)].max() < 40  # °C, not °F
    pressure = jfk.values["pressure_msl"]
    assert 0.05 < (pressure != pressure).mean() < 0.15  # about 10% missing, as in the source


# ---------------------------------------------------------------- windows
def test_replay_hands_out_exactly_the_window_start_exclusive_end_inclusive():
    window = Window(utc("2013-10-19T00:00"), utc("2013-10-20T00:00"))
    payload = json.loads(ReplaySource().fetch(SETTINGS.location("JFK"), window).body)
    times = payload["hourly"]["time"]
    assert times[0] == "2013-10-19T01:00" and times[-1] == "2013-10-20T00:00" and len(times) == 24
    assert all(len(payload["hourly"][v]) == 24 for v in UNITS)


def test_backfill_window_holds_all_history_up_to_its_end():
    payload = json.loads(ReplaySource().fetch(SETTINGS.location("EWR"), Window(None, utc("2013-10-19T00:00"))).body)
    assert payload["hourly"]["time"][0] == "2013-01-01T06:00" and payload["hourly"]["time"][-1] == "2013-10-19T00:00"


@settings(max_examples=50, deadline=None)
@given(start=st.integers(0, 9000), length=st.integers(1, 500))
def test_consecutive_windows_partition_the_data(start, length):
    payload = load_embedded()[0]
    base = utc("2013-01-01T00:00")
    a, b, c = (base + timedelta(hours=h) for h in (start, start + length, start + 2 * length))
    first = slice_payload(payload, Window(a, b))["hourly"]["time"]
    second = slice_payload(payload, Window(b, c))["hourly"]["time"]
    both = slice_payload(payload, Window(a, c))["hourly"]["time"]
    assert first + second == both
    assert all(Window(a, c).contains(t) for t in both)


def test_window_rejects_an_end_before_its_start():
    with pytest.raises(InvalidEventError, match="not before end"):
        Window(utc("2013-10-20T00:00"), utc("2013-10-19T00:00"))


def test_file_source_reads_a_single_payload_file(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(load_embedded()[1]))
    body = FileSource(path).fetch(SETTINGS.location("LGA"), Window(None, utc("2013-01-02T00:00"))).body
    assert json.loads(body)["hourly"]["time"][-1] == "2013-01-02T00:00"


def test_file_source_errors_are_named(tmp_path):
    with pytest.raises(SourceError, match="cannot read"):
        FileSource(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(PayloadError, match="not valid JSON"):
        FileSource(tmp_path / "bad.json")
    far = Location("SYD", -33.9, 151.2)
    with pytest.raises(SourceError, match="no payload within"):
        FileSource(payloads=list(load_embedded())).fetch(far, Window(None, utc("2013-02-01T00:00")))


# ---------------------------------------------------------------- the clock and Plan
def test_clock_backfills_first_then_advances_the_step(s3):
    first = advance_clock(BUCKET, SETTINGS, client=s3)
    assert first == Window(None, utc("2013-10-19T00:00"))
    second = advance_clock(BUCKET, SETTINGS, client=s3)
    assert second == Window(utc("2013-10-19T00:00"), utc("2013-10-20T00:00"))
    assert read_clock(BUCKET, s3).now == utc("2013-10-20T00:00")


def test_clock_loser_of_a_race_reuses_the_winners_window(s3):
    advance_clock(BUCKET, SETTINGS, client=s3)
    stale = read_clock(BUCKET, s3)
    winner = advance_clock(BUCKET, SETTINGS, run_id="winner", client=s3)
    # GIVEN a run that read the clock before the winner wrote it WHEN it writes THEN If-Match fails
    with pytest.raises(ClientError, match="PreconditionFailed"):
        s3.put_object(Bucket=BUCKET, Key=CLOCK_KEY, Body=b"{}", IfMatch=stale.etag)
    # AND advance_clock turns that failure into the winner's window (simulated by a stale read)
    original = s3.get_object

    def stale_get(**kwargs):
        response = original(**kwargs)
        if kwargs["Key"] == CLOCK_KEY and not getattr(stale_get, "done", False):
            stale_get.done = True
            response["ETag"] = stale.etag
            response["Body"] = _Body(json.dumps({"now": "2013-10-19T00:00", "window_start": None}).encode())
        return response

    s3.get_object = stale_get
    assert advance_clock(BUCKET, SETTINGS, run_id="loser", client=s3) == winner
    state = storage.get_json(BUCKET, CLOCK_KEY, client=s3)
    assert state["run_id"] == "winner" and state["now"] == "2013-10-20T00:00"  # the loser wrote nothing


def test_a_scheduled_event_delivered_twice_advances_the_clock_once(s3):
    # GIVEN the backfill done and one daily run planned by a scheduled event
    advance_clock(BUCKET, SETTINGS, run_id="backfill", client=s3)
    first = advance_clock(BUCKET, SETTINGS, run_id="event-1", client=s3)
    # WHEN EventBridge delivers the same event (same id) again THEN it gets the same window
    assert advance_clock(BUCKET, SETTINGS, run_id="event-1", client=s3) == first
    assert read_clock(BUCKET, s3).now == utc("2013-10-20T00:00")
    # AND the next event moves the clock on
    assert advance_clock(BUCKET, SETTINGS, run_id="event-2", client=s3).end == utc("2013-10-21T00:00")


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self) -> bytes:
        return self.data


def test_explicit_now_moves_the_clock_and_an_old_now_replays_without_moving_it(s3):
    advance_clock(BUCKET, SETTINGS, client=s3)
    assert advance_clock(BUCKET, SETTINGS, utc("2013-10-22T00:00"), client=s3) == Window(
        utc("2013-10-19T00:00"), utc("2013-10-22T00:00")
    )
    assert advance_clock(BUCKET, SETTINGS, utc("2013-10-20T00:00"), client=s3) == Window(
        utc("2013-10-19T00:00"), utc("2013-10-20T00:00")
    )
    assert read_clock(BUCKET, s3).now == utc("2013-10-22T00:00")


def test_a_damaged_clock_is_a_named_error_not_a_guess(s3):
    s3.put_object(Bucket=BUCKET, Key=CLOCK_KEY, Body=b'{"now": "soon"}')
    with pytest.raises(ConfigurationError, match=r"clock/state\.json is unreadable"):
        advance_clock(BUCKET, SETTINGS, client=s3)


def test_live_clock_uses_the_current_hour(s3):
    live = load_settings({"SOURCE": "open-meteo"})
    first = advance_clock(BUCKET, live, client=s3)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    assert first.start is None and first.end in (now, now + timedelta(hours=1))
    assert advance_clock(BUCKET, live, client=s3) == first  # the same hour again: the same window


@pytest.mark.parametrize("name", ["plan.json", "plan_rule.json"])
def test_plan_accepts_both_scheduled_event_shapes(name):
    event = load_event(name)
    assert parse_plan_event(event, SETTINGS) == (None, event["id"])  # replay ignores the event time
    live = load_settings({"SOURCE": "open-meteo"})
    assert parse_plan_event(event, live)[0] == datetime.fromisoformat(event["time"])


def test_plan_accepts_empty_and_now_events():
    assert parse_plan_event({}, SETTINGS)[0] is None
    assert parse_plan_event(load_event("plan_now.json"), SETTINGS)[0] == utc("2013-10-20T00:00")


@pytest.mark.parametrize(
    "event",
    [
        None,
        "now",
        {"now": 5},
        {"now": "20131020"},
        {"detail-type": "Scheduled Event", "source": "aws.events"},
        {"detail-type": "Scheduled Event", "source": "aws.sqs", "time": "2013-10-20T00:00:00Z"},
        {"when": "x"},
    ],
)
def test_plan_rejects_bad_events(event):
    with pytest.raises(InvalidEventError):
        parse_plan_event(event, SETTINGS)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"backfill": {"start": "2013-02-01T00:00"}}, "backfill.end: Field required"),
        ({"backfill": {"start": "2013-02-01T00:00", "end": "2013-01-01T00:00"}}, "is not before end"),
        ({"backfill": {"start": "yesterday", "end": "2013-01-01T00:00"}}, "backfill.start"),
        ({"backfill": {"start": "2013-01-01T00:00", "end": "2013-02-01T00:00"}, "now": "2013-02-01T00:00"}, "together"),
    ],
)
def test_a_bad_backfill_is_a_named_error(event, message, s3):
    with pytest.raises(InvalidEventError, match=message):
        plan_run(event, load_settings({"DATA_BUCKET": BUCKET}), s3)
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0  # nothing planned, the clock untouched


def test_a_backfill_range_is_planned_without_moving_the_clock(s3):
    settings_ = load_settings({"DATA_BUCKET": BUCKET})
    plan_run({"now": "2013-10-20T00:00"}, settings_, s3)
    clock = read_clock(BUCKET, s3)
    plan = plan_run({"backfill": {"start": "2013-03-01T00:30", "end": "2013-04-01T00:00"}}, settings_, s3)
    assert (plan.window_start, plan.window_end, plan.ranged, plan.backfill) == (
        "2013-03-01T00:00",
        "2013-04-01T00:00",
        True,
        False,
    )
    assert plan.item("JFK").ranged is True
    assert read_clock(BUCKET, s3).etag == clock.etag  # untouched
    with pytest.raises(InvalidEventError, match="after the pipeline clock"):
        plan_run({"backfill": {"start": "2013-10-01T00:00", "end": "2013-11-01T00:00"}}, settings_, s3)


def test_a_backfill_range_is_split_into_items_per_location_and_month(s3):
    settings_ = load_settings({"DATA_BUCKET": BUCKET})
    plan_run({"now": "2013-10-20T00:00"}, settings_, s3)
    # GIVEN a range from mid-January to early April (its last days join March: shorter than a week)
    plan = plan_run({"backfill": {"start": "2013-01-15T00:00", "end": "2013-04-03T00:00"}}, settings_, s3)
    items = storage.get_json(BUCKET, plan.items_key, client=s3)
    # THEN the Map gets each location's months in order, each judged as of its own end
    assert [i["location"] for i in items] == ["JFK"] * 3 + ["LGA"] * 3 + ["EWR"] * 3
    assert [(i["window_start"], i["window_end"], i["now"]) for i in items[:3]] == [
        ("2013-01-15T00:00", "2013-02-01T00:00", "2013-02-01T00:00"),
        ("2013-02-01T00:00", "2013-03-01T00:00", "2013-03-01T00:00"),
        ("2013-03-01T00:00", "2013-04-03T00:00", "2013-04-03T00:00"),
    ]
    assert all(i["ranged"] is True for i in items) and plan.location_count == 3
    # AND a scheduled run's items are one window per location, as before
    assert Window(utc("2013-01-27T00:00"), utc("2013-02-03T00:00")).months() == [
        Window(utc("2013-01-27T00:00"), utc("2013-02-03T00:00"))
    ]
    assert Window(None, utc("2013-02-03T00:00")).months() == [Window(None, utc("2013-02-03T00:00"))]


def test_a_backfill_range_is_ingested_as_asked_under_its_own_name(s3):
    settings_ = load_settings({"DATA_BUCKET": BUCKET})
    item = {
        "location": "EWR",
        "run_id": "b",
        "now": "2013-03-08T00:00",
        "window_start": "2013-03-01T00:00",
        "window_end": "2013-03-08T00:00",
        "ranged": True,
    }
    out = ingest_window(LocationWindow.from_event(item), settings_, ReplaySource(), s3)
    # no dataset yet, but a range is never widened to all history
    assert out.window_start == "2013-03-01T00:00" and out.rows == 24 * 7
    assert out.raw_key == "raw/location=EWR/end=2013-03-08T00:00.from=2013-03-01T00:00.json"


# ---------------------------------------------------------------- the replay's end (issue 16, item 6)
def test_the_embedded_replay_ends_on_2013_12_30():
    assert ReplaySource().data_end(SETTINGS.locations) == utc("2013-12-30T23:00")
    # a location the file does not hold does not count; none at all: no end known
    far = Location("SYD", -33.9, 151.2)
    assert ReplaySource().data_end([far, *SETTINGS.locations]) == utc("2013-12-30T23:00")
    assert ReplaySource().data_end([far]) is None


def test_plan_reports_the_replays_end_and_the_clock_stays_there(s3):
    settings_ = load_settings({"DATA_BUCKET": BUCKET})
    # GIVEN the clock at the last day of the data: that run still collects its last hours
    plan_run({"now": "2013-12-30T00:00"}, settings_, s3)
    last = plan_run({}, settings_, s3)
    assert (last.window_start, last.window_end, last.replay_ended) == ("2013-12-30T00:00", "2013-12-31T00:00", False)
    assert last.data_end == "2013-12-30T23:00"
    assert storage.get_json(BUCKET, last.items_key, client=s3)  # the Map's items
    clock = read_clock(BUCKET, s3)
    # WHEN the next scheduled runs come THEN Plan says the replay has ended, writes no items
    for run in ("after-1", "after-2"):
        ended = plan_run({**load_event("plan.json"), "id": run}, settings_, s3)
        assert ended.replay_ended is True and ended.data_end == "2013-12-30T23:00"
        assert ended.window_start == "2013-12-31T00:00"
        assert storage.get_bytes(BUCKET, ended.items_key, s3) is None
    # AND the clock stays where the data ends
    assert read_clock(BUCKET, s3).etag == clock.etag
    assert ended.to_dict()["replay_ended"] is True  # what the state machine's Choice reads


def test_the_live_source_has_no_replay_end(s3):
    live = load_settings({"DATA_BUCKET": BUCKET, "SOURCE": "open-meteo"})
    plan = plan_run({}, live, s3)
    assert plan.replay_ended is False and plan.data_end is None


def test_a_file_source_plan_cannot_read_has_no_known_end(s3, tmp_path):
    settings_ = load_settings({"DATA_BUCKET": BUCKET, "SOURCE": "file", "SOURCE_FILE": str(tmp_path / "absent.json")})
    plan_run({"now": "2014-01-01T00:00"}, settings_, s3)
    plan = plan_run({}, settings_, s3)  # the run goes on: Ingest names the missing file
    assert plan.replay_ended is False and plan.data_end is None


def test_a_backfill_range_is_never_a_replay_end(s3):
    settings_ = load_settings({"DATA_BUCKET": BUCKET})
    plan_run({"now": "2014-01-05T00:00"}, settings_, s3)
    plan = plan_run({"backfill": {"start": "2013-12-01T00:00", "end": "2014-01-01T00:00"}}, settings_, s3)
    assert plan.ranged is True and plan.replay_ended is False


# ---------------------------------------------------------------- Ingest
def test_a_location_with_no_dataset_yet_gets_its_whole_history(s3):
    # GIVEN a daily window for a location added after the first run (no dataset version yet)
    settings_ = load_settings({"DATA_BUCKET": BUCKET})
    event = load_event("ingest.json")
    # WHEN it is ingested THEN the window widens to all history up to its end, as in a backfill
    out = ingest_window(LocationWindow.from_event(event), settings_, ReplaySource(), s3)
    assert out.window_start is None and out.window_end == event["window_end"]
    assert out.rows > 24 * 30
    assert s3.head_object(Bucket=BUCKET, Key=out.raw_key)["Metadata"]["window-start"] == "none"
    # AND once it has a dataset, the next window is collected alone
    _known_location(s3, "EWR")
    later = {**event, "window_start": event["window_end"], "window_end": "2013-10-21T00:00"}
    assert ingest_window(LocationWindow.from_event(later), settings_, ReplaySource(), s3).rows == 24


class CountingSource(ReplaySource):
    calls = 0

    def fetch(self, location, window):
        CountingSource.calls += 1
        return super().fetch(location, window)


def _known_location(s3, location: str) -> None:
    """A location that has a dataset already (a later run's ingest collects only its window)."""
    s3.put_object(Bucket=BUCKET, Key=latest_key(location), Body=b'{"version": "v1"}')


def test_ingest_writes_once_with_metadata_and_a_rerun_does_not_fetch(s3):
    settings_ = load_settings({"DATA_BUCKET": BUCKET})
    event = load_event("ingest.json")
    source = CountingSource()
    _known_location(s3, "EWR")
    out = ingest_window(LocationWindow.from_event(event), settings_, source, s3).to_dict()
    assert out == {**event, "raw_key": "raw/location=EWR/end=2013-10-20T00:00.json", "rows": 24, "created": True}
    head = s3.head_object(Bucket=BUCKET, Key=out["raw_key"])
    assert head["Metadata"]["window-end"] == "2013-10-20T00:00" and head["Metadata"]["source"] == "replay"
    assert head["Metadata"]["collected-at"].endswith("Z")
    again = ingest_window(LocationWindow.from_event(event), settings_, source, s3)
    assert again.created is False and again.rows == 24 and CountingSource.calls == 1
    assert (
        storage.get_bytes(BUCKET, out["raw_key"], client=s3)
        == source.fetch(settings_.location("EWR"), Window.from_event(event)).body
    )
