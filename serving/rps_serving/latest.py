"""The latest ingested data of a location, for ``GET /forecast/{location}``.

Reads the contract's ``datasets/location={L}/latest.json`` → that version's ``observations.npz`` through
``rps_core.datasets`` (sha256-verified), keeps its last ``KEPT_HOURS`` rows in memory and re-reads
``latest.json`` at most every ``check_seconds``, loading the version again only when its ETag changed.
At most ``max_locations`` locations are kept (the least recently asked one goes first), so memory stays
bounded with thousands of locations: 512 locations of 30 days are about 30 MB.
When a location has no usable dataset yet, the pipeline's latest batch forecast
(``forecasts/location={L}/issued=...json``) is the answer.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from rps_core import datasets, storage
from rps_core.errors import DatasetError
from rps_core.features import HISTORY_HOURS
from rps_core.schema import Observations

# Rows kept per location: the feature window, and room for the target's newest hours to be missing
KEPT_HOURS = 30 * 24
MAX_LOCATIONS = 512


def usable_tail(obs: Observations, target: str) -> Observations | None:
    """The last HISTORY_HOURS rows ending at the last known target value, or None if too few."""
    known = np.flatnonzero(~np.isnan(obs.values[target]))
    if known.size == 0 or known[-1] + 1 < HISTORY_HOURS:
        return None
    end = int(known[-1]) + 1
    return obs.slice(end - HISTORY_HOURS, end)


@dataclass
class _Entry:
    etag: str
    observations: Observations | None
    next_check: float


class LatestData:
    def __init__(
        self,
        bucket: str,
        check_seconds: float = 30.0,
        client: Any = None,
        clock: Callable[[], float] = time.monotonic,
        max_locations: int = MAX_LOCATIONS,
    ) -> None:
        self.bucket, self.check_seconds, self.max_locations = bucket, check_seconds, max_locations
        self._client, self._clock = client, clock
        self._cache: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        return self._client or storage.s3_client()

    def observations(self, location: str) -> Observations | None:
        """The newest dataset version's observations, or None when the location has none yet."""
        with self._lock:
            entry = self._cache.get(location)
            if entry:
                self._cache.move_to_end(location)
        if entry and self._clock() < entry.next_check:
            return entry.observations
        entry = self._load(location, entry)
        with self._lock:
            self._cache[location] = entry
            self._cache.move_to_end(location)
            while len(self._cache) > self.max_locations:
                self._cache.popitem(last=False)
        return entry.observations

    def _load(self, location: str, entry: _Entry | None) -> _Entry:
        next_check = self._clock() + self.check_seconds
        latest, etag = datasets.read_latest(self.bucket, location, self.client)
        if not latest:
            return _Entry("", None, next_check)
        if entry and entry.etag == etag:
            return _Entry(etag, entry.observations, next_check)
        version = latest.get("version")
        if not isinstance(version, str) or not version:
            raise DatasetError(f"{datasets.latest_key(location)} names no version")
        # load_version checks the sha256: a corrupt version is an error, never a wrong forecast.
        obs = datasets.load_version(self.bucket, location, version, self.client)
        return _Entry(etag, obs.slice(max(0, len(obs) - KEPT_HOURS), len(obs)), next_check)

    def batch_forecast(self, location: str) -> dict[str, Any] | None:
        """The newest ``forecasts/location={L}/issued=...json`` (keys sort by issue time), or None."""
        prefix = f"forecasts/location={location}/"
        newest = None
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                if item["Key"].endswith(".json") and (newest is None or item["Key"] > newest):
                    newest = item["Key"]
        if newest is None:
            return None
        doc = storage.get_json(self.bucket, newest, client=self.client)
        if isinstance(doc, dict) and isinstance(doc.get("forecasts"), list):
            doc = next((f for f in doc["forecasts"] if isinstance(f, dict) and f.get("location") == location), None)
        return doc if isinstance(doc, dict) else None
