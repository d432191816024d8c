"""Dataset versions: the reproducible npz, the hourly grid and merge, content addressing, the manifest and
profile, and a loader that refuses corrupt or missing data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rps_core.config import load_settings
from rps_core.datasets import (
    build_version,
    clean_window,
    decode_observations,
    encode_observations,
    latest_key,
    load_latest,
    load_version,
    merge,
    to_hourly_grid,
    version_prefix,
)
from rps_core.datasets.store import point_latest, read_latest, write_version
from rps_core.errors import ConflictError, DatasetError
from rps_core.features import feature_names
from rps_core.schema import VARIABLES, Observations, observations_from_payload
from rps_core.sources import load_embedded

SETTINGS = load_settings({})
BUCKET = "rps-datasets-test"


def observations(hours: list[int], seed: int = 0) -> Observations:
    rng = np.random.default_rng(seed)
    time = (np.array(hours, dtype="int64") + 378_000).astype("datetime64[h]")
    return Observations("JFK", time, {v: rng.normal(10, 3, len(hours)) for v in VARIABLES})


def ewr() -> Observations:
    return observations_from_payload(load_embedded()[2], "EWR")


def test_npz_is_reproducible_and_round_trips():
    obs = to_hourly_grid(observations([0, 1, 2, 5]))
    data = encode_observations(obs)
    assert encode_observations(obs) == data  # no timestamps inside
    back = decode_observations(data, "JFK")
    assert np.array_equal(back.time, obs.time)
    for v in VARIABLES:
        np.testing.assert_array_equal(back.values[v], obs.values[v])


def test_unreadable_npz_raises_dataset_error():
    with pytest.raises(DatasetError, match="unreadable"):
        decode_observations(b"not a zip", "JFK")


def test_the_grid_has_every_hour_and_nan_where_missing():
    grid = to_hourly_grid(observations([0, 1, 4]))
    assert len(grid) == 5 and np.isnan(grid.values["temperature_2m"][[2, 3]]).all()
    with pytest.raises(DatasetError, match="strictly increasing"):
        to_hourly_grid(observations([0, 1, 1]))


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(0, 300), min_size=2, max_size=120, unique=True),
    st.integers(1, 5),
)
def test_merging_consecutive_windows_equals_the_grid_of_all_of_them(hours, parts):
    # GIVEN observations split into consecutive windows WHEN merged one by one (as daily runs do)
    hours = sorted(hours)
    whole = observations(hours)
    cuts = np.array_split(np.arange(len(hours)), parts)
    history = None
    for idx in cuts:
        if idx.size:
            history = merge(history, whole.slice(int(idx[0]), int(idx[-1]) + 1))
    # THEN the version holds exactly the whole history on one grid
    expected = to_hourly_grid(whole)
    assert np.array_equal(history.time, expected.time)
    for v in VARIABLES:
        np.testing.assert_array_equal(history.values[v], expected.values[v])


def test_a_window_wins_where_present_and_history_stands_elsewhere():
    history = to_hourly_grid(observations([0, 1, 2, 3]))
    window = observations([2, 3, 4], seed=1)
    window.values["temperature_2m"][1] = np.nan
    merged = merge(history, window)
    t = merged.values["temperature_2m"]
    assert t[2] == window.values["temperature_2m"][0] and t[3] == history.values["temperature_2m"][3]
    assert len(merged) == 5


def test_cleaning_masks_out_of_range_values_and_counts_them():
    cleaned, masked = clean_window(ewr())
    assert masked["wind_speed_10m"] == 1 and sum(masked.values()) == 1
    assert np.nanmax(cleaned.values["wind_speed_10m"]) < 100


def test_versions_are_content_addressed():
    obs = ewr().slice(0, 500)
    npz, manifest, _ = build_version(None, obs, SETTINGS, None, "raw/a.json", "run-1")
    npz2, manifest2, _ = build_version(None, obs, SETTINGS, None, "raw/b.json", "run-2")
    assert npz == npz2 and manifest["version"] == manifest2["version"] == manifest["sha256"]
    _, other, _ = build_version(None, ewr().slice(0, 501), SETTINGS, None, "raw/a.json", "run-1")
    assert other["version"] != manifest["version"]


def test_manifest_and_profile_describe_the_version():
    history_npz, parent, _ = build_version(None, ewr().slice(0, 1000), SETTINGS, None, "raw/1.json", "r1")
    history = decode_observations(history_npz, "EWR")
    _, manifest, profile = build_version(history, ewr().slice(1000, 1100), SETTINGS, parent, "raw/2.json", "r2")
    assert manifest["parent"] == parent["version"] and manifest["source_objects"] == ["raw/1.json", "raw/2.json"]
    assert manifest["features"] == feature_names("temperature_2m") and manifest["target"] == "temperature_2m"
    assert manifest["time_start"] == "2013-01-01T06:00" and manifest["rows"] >= 1100
    assert manifest["cleaning"]["masked_out_of_range"]["wind_speed_10m"] == 1  # the 1048 mph reading
    for v in VARIABLES:
        assert f"| {v} |" in profile
    assert manifest["version"][:12] in profile


@pytest.fixture
def stored(s3):
    npz, manifest, profile = build_version(None, ewr().slice(0, 300), SETTINGS, None, "raw/1.json", "r1")
    assert write_version(BUCKET, "EWR", npz, manifest, profile, s3) is True
    assert write_version(BUCKET, "EWR", npz, manifest, profile, s3) is False  # immutable: written once
    return manifest["version"]


def test_load_version_returns_the_stored_observations(s3, stored):
    obs = load_version(BUCKET, "EWR", stored, s3)
    assert len(obs) == to_hourly_grid(ewr().slice(0, 300)).time.size and obs.location == "EWR"


def test_load_version_refuses_corrupt_data(s3, stored):
    key = version_prefix("EWR", stored) + "observations.npz"
    data = bytearray(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    data[-10] ^= 0xFF
    s3.put_object(Bucket=BUCKET, Key=key, Body=bytes(data))
    with pytest.raises(DatasetError, match="corrupt"):
        load_version(BUCKET, "EWR", stored, s3)


def test_load_version_refuses_missing_data(s3, stored):
    with pytest.raises(DatasetError, match="no manifest"):
        load_version(BUCKET, "EWR", "0" * 64, s3)
    s3.delete_object(Bucket=BUCKET, Key=version_prefix("EWR", stored) + "observations.npz")
    with pytest.raises(DatasetError, match="missing"):
        load_version(BUCKET, "EWR", stored, s3)
    with pytest.raises(DatasetError, match="no dataset version for JFK"):
        load_latest(BUCKET, "JFK", s3)


def test_latest_moves_only_from_the_pointer_it_read(s3, stored):
    point_latest(BUCKET, "EWR", {"version": stored}, "", s3)
    assert load_latest(BUCKET, "EWR", s3)[0] == stored
    _, etag = read_latest(BUCKET, "EWR", s3)
    point_latest(BUCKET, "EWR", {"version": stored, "n": 2}, etag, s3)
    with pytest.raises(ConflictError, match=latest_key("EWR")):
        point_latest(BUCKET, "EWR", {"version": "stale"}, etag, s3)
    with pytest.raises(ConflictError):
        point_latest(BUCKET, "EWR", {"version": "stale"}, "", s3)  # creation when one exists
