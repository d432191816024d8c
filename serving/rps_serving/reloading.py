"""The app for the locations in force. With ``LocationsKey`` the locations are a CSV in the data bucket that
users edit while the function runs: it is checked at most every ``check_seconds`` (a conditional GET, as
the champion pointer is) and, when its locations changed, the app is built again for them, so a new
location is served, and named in the OpenAPI schema, within that time. A CSV that cannot be read or is
bad leaves the app as it is (logged): a user's typo never takes the API down."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from rps_core.config import Location
from rps_core.locations import read_locations

from rps_serving.config import ServingConfig

Adapter = Callable[[dict[str, Any], Any], dict[str, Any]]
log = logging.getLogger(__name__)


class LocationsReload:
    def __init__(
        self,
        config: ServingConfig,
        build: Callable[[ServingConfig], Adapter],
        read: Callable[[str, str], tuple[Location, ...]] = read_locations,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config, self._build, self._read, self._clock = config, build, read, clock
        self._adapter = build(config)
        self._next_check = clock() + config.check_seconds
        self._lock = threading.Lock()

    def adapter(self) -> Adapter:
        settings = self.config.settings
        if not settings.locations_key or self._clock() < self._next_check:
            return self._adapter
        with self._lock:
            if self._clock() >= self._next_check:
                self._next_check = self._clock() + self.config.check_seconds
                self._reload()
        return self._adapter

    def _reload(self) -> None:
        settings = self.config.settings
        try:
            locations = self._read(settings.data_bucket, settings.locations_key)
        except Exception as exc:  # a bad CSV (ConfigurationError) or S3's errors: keep serving what is known
            log.warning("locations %s unchanged: %s: %s", settings.locations_key, type(exc).__name__, exc)
            return
        if locations == settings.locations:
            return
        config = replace(self.config, settings=replace(settings, locations=locations))
        self._adapter, self.config = self._build(config), config
        log.info("locations reloaded: %d (was %d)", len(locations), len(settings.locations))
