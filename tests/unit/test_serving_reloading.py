"""Serving follows the locations CSV (``LocationsKey``): checked at most every ``check_seconds``, the app
rebuilt when the locations changed, and a bad or unreadable CSV leaves the app as it was."""

from __future__ import annotations

from typing import Any

from rps_core.config import Location, Settings
from rps_core.errors import ConfigurationError
from rps_serving.config import ServingConfig
from rps_serving.reloading import LocationsReload

A, B = Location("A", 1.0, 2.0), Location("B", 3.0, 4.0)


class Csv:
    def __init__(self, *locations: Location) -> None:
        self.locations: Any = locations
        self.reads = 0

    def read(self, bucket: str, key: str) -> tuple[Location, ...]:
        self.reads += 1
        if isinstance(self.locations, Exception):
            raise self.locations
        return self.locations


def _reload(csv: Csv, now: list[float], key: str = "config/locations.csv") -> tuple[LocationsReload, list]:
    built: list[list[str]] = []

    def build(config: ServingConfig) -> Any:
        built.append(config.locations)
        return lambda event, context: {"locations": config.locations}

    settings = Settings(data_bucket="data", locations=(A,), locations_key=key)
    return LocationsReload(ServingConfig(settings, check_seconds=30), build, csv.read, lambda: now[0]), built


def test_a_location_added_to_the_csv_is_served_within_check_seconds() -> None:
    now, csv = [0.0], Csv(A, B)
    apps, built = _reload(csv, now)
    assert apps.adapter()({}, None) == {"locations": ["A"]} and csv.reads == 0  # not due yet
    now[0] = 31.0
    assert apps.adapter()({}, None) == {"locations": ["A", "B"]}
    assert built == [["A"], ["A", "B"]] and apps.config.settings.location("B") == B
    apps.adapter()
    assert csv.reads == 1  # checked again only after another 30 s
    now[0] = 62.0
    apps.adapter()
    assert csv.reads == 2 and len(built) == 2  # unchanged: not rebuilt


def test_a_bad_or_unreadable_csv_keeps_the_app() -> None:
    now, csv = [0.0], Csv()
    csv.locations = ConfigurationError("locations CSV: line 3: bad latitude")
    apps, built = _reload(csv, now)
    now[0] = 31.0
    assert apps.adapter()({}, None) == {"locations": ["A"]} and csv.reads == 1 and len(built) == 1


def test_without_locations_key_nothing_is_read() -> None:
    now, csv = [0.0], Csv(A, B)
    apps, _ = _reload(csv, now, key="")
    now[0] = 100.0
    apps.adapter()
    assert csv.reads == 0
