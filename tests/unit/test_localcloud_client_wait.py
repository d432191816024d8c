"""Waiting on an execution: a time limit that names the states still running (the slow step)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rps_local.emulator.client import CloudClient
from rps_local.emulator.errors import LocalCloudError


def _event(kind: str, name: str, ago_s: float, now: datetime) -> dict:
    key = "stateEnteredEventDetails" if kind.endswith("Entered") else "stateExitedEventDetails"
    return {"type": kind, "timestamp": now - timedelta(seconds=ago_s), key: {"name": name}}


def _history() -> list[dict]:
    """An execution 100 s old, in Train for 80 s; timestamps taken when the test runs, not when it is collected."""
    now = datetime.now(UTC)
    return [
        {"type": "ExecutionStarted", "timestamp": now - timedelta(seconds=100)},
        _event("TaskStateEntered", "Plan", 100, now),
        _event("TaskStateExited", "Plan", 99, now),
        _event("MapStateEntered", "PerLocation", 99, now),
        _event("TaskStateEntered", "Ingest", 98, now),
        _event("TaskStateEntered", "Ingest", 98, now),
        _event("TaskStateExited", "Ingest", 97, now),
        _event("TaskStateExited", "Ingest", 97, now),
        _event("MapStateExited", "PerLocation", 90, now),
        _event("TaskStateEntered", "Train", 80, now),
    ]


@pytest.fixture
def client(monkeypatch) -> CloudClient:
    client = CloudClient("http://localhost:1")
    history = _history()
    monkeypatch.setattr(client, "describe_execution", lambda arn: {"status": "RUNNING", "name": "it-run"})
    monkeypatch.setattr(client, "history", lambda arn: history)
    return client


def test_running_states_are_those_entered_and_not_left(client):
    running = client.running_states("arn")
    assert [name for name, _ in running] == ["Train"]
    assert 79 < running[0][1] < 90


def test_a_wait_past_its_limit_names_the_slow_step(client):
    with pytest.raises(LocalCloudError, match=r"it-run still RUNNING after 0 s; in Train for 8\d s"):
        client.wait_execution("arn", timeout_s=0.0, poll_s=0.0)


def test_a_finished_execution_is_returned(client, monkeypatch):
    monkeypatch.setattr(client, "describe_execution", lambda arn: {"status": "SUCCEEDED", "name": "it-run"})
    assert client.wait_execution("arn", timeout_s=0.0)["status"] == "SUCCEEDED"
