"""The forecasts page's view model: per location, the last weeks of batch forecasts against what was later
observed, and the realized error. The join is ``rps_local.tools.report_charts.realized_pairs`` (the realized-error
join of ``rps_core.drift.realized``, as ``rps report`` draws it); only the newest documents are read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rps_core.contract import dataset_prefix, forecast_prefix
from rps_core.datasets import MANIFEST, latest_key, load_version
from rps_core.drift.realized import Forecast, parse_forecasts
from rps_core.errors import DatasetError, PayloadError

from rps_local.tools.console.source import ConsoleSource
from rps_local.tools.report_charts import DEFAULT_TARGET, realized_pairs

__all__ = ["LocationForecasts", "load_forecasts", "location_forecasts"]

DOCUMENTS = 28  # the newest batch forecast documents per location: four weeks of daily runs


@dataclass
class LocationForecasts:
    location: str
    target: str
    mae: float | None
    count: int
    pending: int
    observed: list[tuple[str, float]] = field(default_factory=list)  # (hour, value) around the forecasts
    forecasts: list[tuple[str, float, float | None]] = field(default_factory=list)  # (target hour, forecast, actual)
    note: str = ""  # the model gives no intervals: said once on the page


def location_forecasts(location: str, forecasts: list[Forecast], observations: Any, target: str) -> LocationForecasts:
    join = realized_pairs(forecasts, observations, target, location)
    realized = join.realized
    actual = {p.target_time: p.actual for p in realized.pairs}
    points = sorted((f.target_time, f.value, actual.get(f.target_time)) for f in forecasts)
    observed = [
        (_hour(t), float(v)) for t, v in zip(join.actual_times, join.actual_values, strict=True) if np.isfinite(v)
    ]
    return LocationForecasts(
        location,
        target,
        realized.mae if realized.count else None,
        realized.count,
        realized.pending,
        observed,
        points,
    )


def load_forecasts(source: ConsoleSource) -> list[LocationForecasts]:
    bucket = source.physical_id("DataBucket")
    if not bucket:
        return []
    out = []
    for location in source.prefixes(bucket, "forecasts/location="):
        keys = source.keys(bucket, forecast_prefix(location))[-DOCUMENTS:]
        forecasts: list[Forecast] = []
        for key in keys:
            try:
                forecasts.extend(
                    f for f in parse_forecasts(source.json_object(bucket, key), key) if f.location == location
                )
            except (PayloadError, ValueError, TypeError):
                continue
        target, observations = _observations(source, bucket, location)
        out.append(location_forecasts(location, forecasts, observations, target))
    return out


def _observations(source: ConsoleSource, bucket: str, location: str) -> tuple[str, Any]:
    """The target and observations of the location's latest dataset version (a version never changes)."""
    pointer = source.json_object(bucket, latest_key(location), immutable=False)
    if not isinstance(pointer, dict) or "version" not in pointer:
        return DEFAULT_TARGET, None
    version = str(pointer["version"])
    manifest = source.json_object(bucket, dataset_prefix(location, version) + MANIFEST) or {}
    target = str(manifest.get("target") or DEFAULT_TARGET)

    def fetch() -> Any:
        try:
            return load_version(bucket, location, version, source.aws("s3"))
        except DatasetError:
            return None

    return target, source.cache.get(("dataset", bucket, location, version), float("inf"), fetch)


def _hour(value: Any) -> str:
    return str(np.datetime64(value, "h"))[:13] + ":00"
