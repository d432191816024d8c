"""The latest ingested data of a location, for ``GET /forecast/{location}``.

Reads the contract's ``datasets/location={L}/latest.json`` → that version's ``observations.npz``, and
keeps the last rows in memory, re-checking ``latest.json``'s ETag at most every ``check_seconds``.
When a location has no usable dataset yet, the pipeline's latest batch forecast
(``forecasts/location={L}/issued=...json``) is the answer.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from botocore.exceptions import ClientError
from rps_core import storage
from rps_core.errors import DatasetError
from rps_core.features import HISTORY_HOURS
from rps_core.schema import VARIABLES, Observations

_NOT_FOUND = ("404", "NoSuchKey", "NotFound")


def latest_key(location: str) -> str:
    return f"datasets/location={location}/latest.json"


def observations_key(location: str, latest: dict[str, Any]) -> str:
    """The version's ``observations.npz`` named by a ``latest.json`` document."""
    for name in ("observations_key", "key"):
        if isinstance(latest.get(name), str) and latest[name].endswith(".npz"):
            return str(latest[name])
    prefix = latest.get("dataset_prefix") or latest.get("prefix")
    if isinstance(prefix, str) and prefix:
        return prefix.rstrip("/") + "/observations.npz"
    version = latest.get("dataset_version") or latest.get("version")
    if not isinstance(version, str) or not version:
        raise DatasetError(f"{latest_key(location)}: names no dataset version")
    return f"datasets/location={location}/version={version}/observations.npz"


def read_observations(location: str, npz: bytes) -> Observations:
    """The contract's npz: ``time`` as int64 hours since the epoch, one float64 array per variable."""
    try:
        with np.load(io.BytesIO(npz), allow_pickle=False) as data:
            time_ = data["time"].astype(np.int64).astype("datetime64[h]")
            values = {name: data[name].astype(np.float64) for name in VARIABLES}
    except (KeyError, ValueError, OSError) as exc:
        raise DatasetError(f"{location}: unreadable observations.npz: {exc}") from exc
    return Observations(location, time_, values)


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
        self, bucket: str, check_seconds: float = 30.0, client: Any = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.bucket, self.check_seconds = bucket, check_seconds
        self._client, self._clock = client, clock
        self._cache: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        return self._client or storage.s3_client()

    def observations(self, location: str) -> Observations | None:
        """The newest dataset version's observations, or None when the location has none yet."""
        entry = self._cache.get(location)
        if entry and self._clock() < entry.next_check:
            return entry.observations
        with self._lock:
            entry = self._load(location, entry)
            self._cache[location] = entry
        return entry.observations

    def _load(self, location: str, entry: _Entry | None) -> _Entry:
        next_check = self._clock() + self.check_seconds
        try:
            resp = self.client.get_object(Bucket=self.bucket, Key=latest_key(location))
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code", "")) in _NOT_FOUND:
                return _Entry("", None, next_check)
            raise
        etag = str(resp.get("ETag", ""))
        if entry and entry.etag == etag:
            return _Entry(etag, entry.observations, next_check)
        latest = json.loads(resp["Body"].read())
        if not isinstance(latest, dict):
            raise DatasetError(f"{latest_key(location)}: expected a JSON object")
        npz = storage.get_bytes(self.bucket, observations_key(location, latest), client=self.client)
        if npz is None:
            raise DatasetError(f"{location}: {observations_key(location, latest)} is missing")
        return _Entry(etag, read_observations(location, npz), next_check)

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
