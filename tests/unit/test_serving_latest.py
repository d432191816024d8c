"""GET /forecast's store of the latest data (rps_serving.latest.LatestData): it keeps only the newest rows of
each location and at most ``max_locations`` of them, so serving's memory stays bounded at any scale."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from rps_core.schema import Observations
from rps_serving import latest as latest_module
from rps_serving.latest import KEPT_HOURS, LatestData


def _obs(location: str, hours: int) -> Observations:
    time = np.datetime64("2013-01-01T00", "h") + np.arange(hours)
    return Observations(location, time, {"temperature_2m": np.arange(hours, dtype=float)})


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fake dataset reads: every location has one version of a year of hours; the list records loads."""
    seen: list[str] = []

    def read_latest(bucket: str, location: str, client: Any = None) -> tuple[dict[str, Any], str]:
        return {"version": f"v-{location}"}, f"etag-{location}"

    def load_version(bucket: str, location: str, version: str, client: Any = None) -> Observations:
        seen.append(location)
        return _obs(location, 365 * 24)

    monkeypatch.setattr(latest_module.datasets, "read_latest", read_latest)
    monkeypatch.setattr(latest_module.datasets, "load_version", load_version)
    return seen


def test_only_the_newest_hours_are_kept(loads: list[str]) -> None:
    obs = LatestData("data", client=object()).observations("A")
    assert obs is not None and len(obs) == KEPT_HOURS
    assert obs.values["temperature_2m"][-1] == 365 * 24 - 1  # the newest row is kept


def test_at_most_max_locations_are_kept_the_least_recently_asked_goes_first(loads: list[str]) -> None:
    now = [0.0]
    store = LatestData("data", check_seconds=60, client=object(), clock=lambda: now[0], max_locations=2)
    for location in ("A", "B", "A", "C"):  # C pushes out B, the least recently asked
        store.observations(location)
    assert loads == ["A", "B", "C"]
    store.observations("A")
    store.observations("B")  # B again: loaded anew
    assert loads == ["A", "B", "C", "B"] and len(store._cache) == 2
