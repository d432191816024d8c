"""Versioned datasets: per location, an immutable content-addressed version of all validated history
(observations.npz on a complete hourly grid, manifest.json, profile.md) and a ``latest.json`` pointer.

``run_transform`` is the Transform step; ``load_version``/``load_latest`` are how training, forecasts and
monitoring read a version (sha256 verified, DatasetError on missing or corrupt data).
"""

from rps_core.datasets.grid import merge, to_hourly_grid
from rps_core.datasets.npz import decode_observations, encode_observations
from rps_core.datasets.profile import column_summary, render_profile
from rps_core.datasets.store import (
    MANIFEST,
    OBSERVATIONS,
    PROFILE,
    latest_key,
    load_latest,
    load_version,
    read_latest,
    read_manifest,
    version_prefix,
)
from rps_core.datasets.transform import build_version, clean_window, run_transform

__all__ = [
    "MANIFEST",
    "OBSERVATIONS",
    "PROFILE",
    "build_version",
    "clean_window",
    "column_summary",
    "decode_observations",
    "encode_observations",
    "latest_key",
    "load_latest",
    "load_version",
    "merge",
    "read_latest",
    "read_manifest",
    "render_profile",
    "run_transform",
    "to_hourly_grid",
    "version_prefix",
]
