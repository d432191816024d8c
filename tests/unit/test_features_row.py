"""``RowFeatures`` (serving's one-row features) against ``build_features`` (training's), bit for bit:
thousands of real windows of the embedded data, several targets and batch sizes, gappy synthetic data,
and every hour of the day and day of a leap year."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from rps_core.datasets import clean_window, to_hourly_grid
from rps_core.features import HISTORY_HOURS, build_features, feature_names
from rps_core.features.row import RowFeatures
from rps_core.schema import Observations, observations_from_payload
from rps_core.sources import load_embedded

from tests.unit.test_features import make_obs


@cache
def stations() -> tuple[Observations, ...]:
    """The embedded JFK, LGA and EWR years on an hourly grid, as training reads them."""
    out = []
    for i, payload in enumerate(load_embedded()):
        obs = observations_from_payload(payload, f"S{i}")
        out.append(to_hourly_grid(clean_window(obs)[0]))
    return tuple(out)


def assert_same_bits(got: np.ndarray, expected: np.ndarray) -> None:
    """Every number identical to the last bit, and NaN (a missing feature) in the same places. A NaN's
    sign bit carries no meaning (numpy's SIMD loops propagate either operand's NaN), so it is not compared."""
    assert got.dtype == expected.dtype == np.float32 and got.shape == expected.shape
    nan_got, nan_expected = np.isnan(got), np.isnan(expected)
    bits_differ = (got.view(np.uint32) != expected.view(np.uint32)) & ~(nan_got & nan_expected)
    differ = np.flatnonzero(bits_differ.any(axis=1))
    assert differ.size == 0, f"{differ.size} rows differ, first {differ[0]}: {got[differ[0]]} vs {expected[differ[0]]}"


@pytest.mark.parametrize(("target", "step"), [("temperature_2m", 3), ("dew_point_2m", 11), ("wind_speed_10m", 11)])
def test_real_windows_give_the_training_rows(target: str, step: int) -> None:
    # GIVEN every `step`-th window of HISTORY_HOURS hours of the three real stations (gaps, calm hours)
    rows = RowFeatures(target)
    checked = 0
    for obs in stations():
        full = build_features(obs, target)  # what training learns from
        ends = list(range(HISTORY_HOURS, len(obs) + 1, step))
        windows = [obs.slice(e - HISTORY_HOURS, e) for e in ends]
        # WHEN their last rows are computed alone, all at once and in small batches
        together = rows.of(windows)
        small = np.concatenate([rows.of(windows[i : i + 7]) for i in range(0, len(windows), 7)])
        # THEN each equals training's row for that hour, bit for bit
        expected = full[[e - 1 for e in ends]]
        assert_same_bits(together, expected)
        assert_same_bits(small, expected)
        checked += len(ends)
    assert checked > (2500 if step == 3 else 700)
    assert rows.width == len(feature_names(target))


@pytest.mark.parametrize("nan_share", [0.0, 0.3, 0.7])
def test_gappy_windows_give_the_rows_of_build_features(nan_share: float) -> None:
    # GIVEN synthetic windows where up to 70% of the readings are missing (statistics short of their count)
    obs = make_obs(HISTORY_HOURS + 400, seed=11, nan_share=nan_share)
    rows = RowFeatures("temperature_2m")
    windows = [obs.slice(e - HISTORY_HOURS, e) for e in range(HISTORY_HOURS, len(obs) + 1)]
    # WHEN computed alone THEN the rows are build_features' last rows
    expected = np.concatenate([build_features(w, "temperature_2m", last=1) for w in windows[::13]])
    assert_same_bits(rows.of(windows[::13]), expected)
    assert_same_bits(rows.of(windows[-1:]), build_features(windows[-1], "temperature_2m", last=1))


def test_every_hour_and_day_of_a_leap_year() -> None:
    # GIVEN windows ending at each hour of 2012 (a leap year: 366 calendar days)
    obs = make_obs(HISTORY_HOURS + 366 * 24, seed=5, start="2011-12-25T00")
    full = build_features(obs, "temperature_2m")
    ends = np.arange(HISTORY_HOURS, len(obs) + 1, 5)
    rows = RowFeatures("temperature_2m").of([obs.slice(e - HISTORY_HOURS, e) for e in ends])
    assert_same_bits(rows, full[ends - 1])
