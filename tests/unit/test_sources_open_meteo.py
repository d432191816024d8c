"""The live client over HTTP against the local fake Open-Meteo server: the request it makes, its retries
and backoff, and every error mode of the fake (each either raised by the client or caught by the gate)."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime

import pytest
from rps_core.config import Location, load_settings
from rps_core.errors import SourceError, TransientSourceError
from rps_core.quality import evaluate
from rps_core.sources import OpenMeteoSource, Window
from rps_local.tools.fake_open_meteo import FakeOpenMeteo

SETTINGS = load_settings({})
JFK = SETTINGS.location("JFK")
DAY = Window(datetime(2013, 10, 19, tzinfo=UTC), datetime(2013, 10, 20, tzinfo=UTC))


@pytest.fixture(scope="module")
def fake():
    with FakeOpenMeteo(now="2013-10-20T00:00", slow_seconds=1.0) as server:
        yield server


@pytest.fixture
def client(fake):
    fake.faults.clear()
    fake.requests.clear()
    return OpenMeteoSource(fake.url, retries=2, backoff_factor=0.01, read_timeout=0.25)


def gate(body: bytes):
    return evaluate(body, "JFK", DAY, DAY.end, SETTINGS)


def test_a_window_is_asked_by_dates_and_answered_in_the_api_shape(fake, client):
    payload = json.loads(client.fetch(JFK, DAY).body)
    assert "start_date=2013-10-19" in fake.requests[0] and "end_date=2013-10-20" in fake.requests[0]
    assert payload["hourly"]["time"][0] == "2013-10-19T00:00" and payload["hourly"]["time"][-1] == "2013-10-20T23:00"
    assert gate(json.dumps(payload).encode()).passed  # the gate keeps only (start, end]


def test_the_first_run_backfills_with_past_days(fake, client):
    payload = json.loads(client.fetch(JFK, Window(None, DAY.end)).body)
    assert "past_days=92" in fake.requests[0]
    assert payload["hourly"]["time"][0] == "2013-07-20T00:00"


@pytest.mark.parametrize("fault", ["429", "500", "timeout"])
def test_transient_faults_are_retried_then_succeed(fake, client, fault):
    fake.inject(fault, times=1)
    assert gate(client.fetch(JFK, DAY).body).passed
    assert len(fake.requests) == 2


@pytest.mark.parametrize("fault", ["429", "500", "timeout", "html"])
def test_persistent_transient_faults_raise_transient_source_error(fake, client, fault):
    fake.inject(fault, times=3)
    with pytest.raises(TransientSourceError):
        client.fetch(JFK, DAY)
    assert len(fake.requests) == 3  # the first try and two retries


def test_400_fails_fast_with_the_apis_reason(fake, client):
    fake.inject("400", reason="Parameter 'hourly' is invalid")
    with pytest.raises(SourceError, match="Parameter 'hourly' is invalid") as failure:
        client.fetch(JFK, DAY)
    assert not isinstance(failure.value, TransientSourceError) and len(fake.requests) == 1


def test_a_real_400_from_the_fake_carries_its_reason(fake, client):
    bad = OpenMeteoSource(fake.url, retries=0)
    with pytest.raises(SourceError, match="No data is available for this location"):
        bad.fetch(Location("SYD", -33.9, 151.2), DAY)


@pytest.mark.parametrize(
    ("fault", "options", "failed"),
    [
        ("malformed", {}, ["schema"]),
        ("html", {"status": 200}, ["schema"]),
        ("nulls", {}, ["null_share"]),
        ("nulls", {"variable": "pressure_msl"}, []),  # a non-key column: reported, not failed
    ],
)
def test_bad_bodies_are_stored_as_received_and_rejected_by_the_gate(fake, client, fault, options, failed):
    fake.inject(fault, **options)
    report = gate(client.fetch(JFK, DAY).body)
    assert report.failed_checks == failed


def test_faults_can_be_injected_over_http(fake, client):
    request = urllib.request.Request(
        f"{fake.url}/_fake/faults", data=json.dumps({"fault": "500", "times": 3}).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.loads(response.read())["faults"] == 3
    with pytest.raises(TransientSourceError, match="HTTP 500"):
        client.fetch(JFK, DAY)


def test_an_unreachable_api_is_transient():
    with pytest.raises(TransientSourceError, match="unreachable"):
        OpenMeteoSource("http://127.0.0.1:9", retries=1, backoff_factor=0.01).fetch(JFK, DAY)
