"""Waiting on an execution: a time limit that names the states still running (the slow step)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rps_local.client import CloudClient
from rps_local.errors import LocalCloudError


def _event(kind: str, name: str, ago_s: float) -> dict:
    key = "stateEnteredEventDetails" if kind.endswith("Entered") else "stateExitedEventDetails"
    return {"type": kind, "timestamp": datetime.now(UTC) - timedelta(seconds=ago_s), key: {"name": name}}


HISTORY = [
    {"type": "ExecutionStarted", "timestamp": datetime.now(UTC) - timedelta(seconds=100)},
    _event("TaskStateEntered", "Plan", 100),
    _event("TaskStateExited", "Plan", 99),
    _event("MapStateEntered", "PerLocation", 99),
    _event("TaskStateEntered", "Ingest", 98),
    _event("TaskStateEntered", "Ingest", 98),
    _event("TaskStateExited", "Ingest", 97),
    _event("TaskStateExited", "Ingest", 97),
    _event("MapStateExited", "PerLocation", 90),
    _event("TaskStateEntered", "Train", 80),
]


@pytest.fixture
def client(monkeypatch) -> CloudClient:
    client = CloudClient("http://localhost:1")
    monkeypatch.setattr(client, "describe_execution", lambda arn: {"status": "RUNNING", "name": "it-run"})
    monkeypatch.setattr(client, "history", lambda arn: HISTORY)
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
