"""The Transform step: clean the validated window, merge it into the location's history, and write the
result as a new immutable dataset version.

Cleaning (the gate has already rejected what cannot be cleaned):
- only the hours of ``(window_start, window_end]`` are taken (a live answer also carries forecasts);
- out-of-range values (possible only in non-key columns after the gate) are masked to NaN and counted;
- missing hours become NaN rows of a complete hourly grid; nulls stay NaN. Nothing is interpolated: an
  interpolated value would use readings after its hour, a look-ahead that serving can never reproduce.
  The features (``rps_core.features``) and the model handle NaN.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rps_core import storage
from rps_core.config import Settings, require
from rps_core.contract import DatasetRef, IngestResult
from rps_core.datasets.grid import merge
from rps_core.datasets.npz import encode_observations
from rps_core.datasets.profile import render_profile
from rps_core.datasets.store import (
    load_version,
    point_latest,
    read_latest,
    read_manifest,
    sha256_hex,
    version_prefix,
    write_version,
)
from rps_core.errors import ConflictError, DatasetError
from rps_core.quality import PHYSICAL_RANGES, out_of_range_mask, parse_payload, select_window
from rps_core.schema import UNITS, Observations
from rps_core.sources.events import configured_location
from rps_core.times import format_times, timestamp

ATTEMPTS = 3  # merges retried when another Transform of the same location moved latest.json meanwhile


def clean_window(obs: Observations) -> tuple[Observations, dict[str, int]]:
    """Mask out-of-range values to NaN; returns the cleaned rows and the count masked per column."""
    values, masked = {}, {}
    for name, column in obs.values.items():
        bad = out_of_range_mask(column, PHYSICAL_RANGES[name])
        masked[name] = int(bad.sum())
        values[name] = np.where(bad, np.nan, column)
    return obs.with_rows(obs.time, values), masked


def build_manifest(
    obs: Observations,
    sha: str,
    settings: Settings,
    parent: dict[str, Any] | None,
    raw_key: str,
    masked: dict[str, int],
    run_id: str,
) -> dict[str, Any]:
    from rps_core.features import feature_names  # the features package is imported only where it is needed

    sources = list(parent.get("source_objects", [])) if parent else []
    if raw_key not in sources:
        sources.append(raw_key)
    previous_masked = parent.get("cleaning", {}).get("masked_out_of_range", {}) if parent else {}
    span = format_times(obs.time[[0, -1]])
    target = obs.values[settings.target]
    return {
        "location": obs.location,
        "latitude": obs.latitude,
        "longitude": obs.longitude,
        "version": sha,
        "sha256": sha,
        "file": "observations.npz",
        "rows": len(obs),
        "target_rows": int(np.count_nonzero(~np.isnan(target))),
        "time_start": span[0],
        "time_end": span[1],
        "variables": sorted(obs.values),
        "units": {k: UNITS[k] for k in sorted(obs.values)},
        "target": settings.target,
        "horizon_hours": settings.horizon_hours,
        "features": feature_names(settings.target),
        "source_objects": sources,
        "parent": parent.get("version") if parent else None,
        "cleaning": {
            "masked_out_of_range": {k: previous_masked.get(k, 0) + masked.get(k, 0) for k in sorted(obs.values)},
            "grid": "complete hourly grid; missing hours and values are NaN; no interpolation",
        },
        "run_id": run_id,
        "created_at": timestamp(),
    }


def build_version(
    history: Observations | None,
    window_obs: Observations,
    settings: Settings,
    parent: dict[str, Any] | None,
    raw_key: str,
    run_id: str,
) -> tuple[bytes, dict[str, Any], str]:
    """The npz bytes, manifest and profile of the version that adds a window to the history (pure)."""
    cleaned, masked = clean_window(window_obs)
    merged = merge(history, cleaned)
    if not len(merged):
        raise DatasetError(f"{window_obs.location}: no observations to version")
    npz = encode_observations(merged)
    sha = sha256_hex(npz)
    manifest = build_manifest(merged, sha, settings, parent, raw_key, masked, run_id)
    return npz, manifest, render_profile(merged, manifest)


def run_transform(ingested: IngestResult, settings: Settings, client: Any = None) -> DatasetRef:
    """The Transform step: the window merged into the location's history as a new dataset version."""
    place = configured_location(ingested.location, settings)
    location = place.name
    window = ingested.window
    bucket = require(settings.data_bucket, "DATA_BUCKET")
    body = storage.get_bytes(bucket, ingested.raw_key, client)
    if body is None:
        raise DatasetError(f"{location}: raw object s3://{bucket}/{ingested.raw_key} is missing")
    # The configured coordinates, not the payload's (Open-Meteo snaps them to its grid): one place per name.
    window_obs = select_window(parse_payload(body, location), window).at(place.latitude, place.longitude)
    for attempt in range(ATTEMPTS):
        pointer, etag = read_latest(bucket, location, client)
        parent = history = None
        if pointer:
            parent = read_manifest(bucket, location, pointer["version"], client)
            history = load_version(bucket, location, pointer["version"], client)
        npz, manifest, profile = build_version(history, window_obs, settings, parent, ingested.raw_key, ingested.run_id)
        sha = manifest["version"]
        write_version(bucket, location, npz, manifest, profile, client)
        result = DatasetRef(
            location=location,
            dataset_version=sha,
            dataset_prefix=version_prefix(location, sha),
            rows=manifest["rows"],
            time_start=manifest["time_start"],
            time_end=manifest["time_end"],
        )
        if pointer and pointer.get("version") == sha:
            return result  # a re-run: the same content is already the newest version
        try:
            pointer_body = {"version": sha, "sha256": sha, "updated_at": manifest["created_at"], **result.to_dict()}
            point_latest(bucket, location, pointer_body, etag, client)
        except ConflictError:
            if attempt == ATTEMPTS - 1:
                raise
            continue
        return result
    raise ConflictError(f"{location}: latest.json kept changing")  # unreachable: the loop returns or raises
