"""The shared features: shapes, names, no look-ahead, serving parity, target definition."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rps_core.errors import ConfigurationError, DatasetError
from rps_core.features import HISTORY_HOURS, build_features, build_target, feature_names
from rps_core.features import transforms as tf
from rps_core.schema import VARIABLES, Observations

TARGET = "temperature_2m"


def make_obs(n: int, seed: int = 0, start: str = "2013-03-01T00", nan_share: float = 0.05) -> Observations:
    rng = np.random.default_rng(seed)
    hours = np.arange(n)
    base = {
        "temperature_2m": 10 + 8 * np.sin(2 * np.pi * hours / 24) + rng.normal(0, 1, n).cumsum() * 0.1,
        "relative_humidity_2m": rng.uniform(20, 100, n),
        "dew_point_2m": rng.normal(5, 3, n),
        "precipitation": rng.exponential(0.2, n) * (rng.random(n) < 0.1),
        "pressure_msl": 1013 + rng.normal(0, 5, n),
        "wind_speed_10m": np.abs(rng.normal(12, 6, n)) * (rng.random(n) > 0.05),
        "wind_direction_10m": rng.uniform(0, 360, n),
    }
    for v in base.values():
        v[rng.random(n) < nan_share] = np.nan
    time = np.datetime64(start, "h") + hours.astype("timedelta64[h]")
    return Observations("TEST", time, base, latitude=40.7, longitude=-74.0)


def test_shape_names_and_dtype() -> None:
    obs = make_obs(400)
    x = build_features(obs, TARGET)
    assert x.dtype == np.float32
    assert x.shape == (400, len(feature_names(TARGET)))
    assert len(set(feature_names(TARGET))) == x.shape[1]
    assert HISTORY_HOURS == 169


def test_no_location_id_and_no_target_duplicates() -> None:
    names = feature_names(TARGET)
    assert not any("location" in n for n in names)
    assert "wind_direction_10m" not in names  # replaced by u/v, defined in calm hours
    assert names.count(TARGET) == 1


def test_rows_after_history_are_complete_without_gaps() -> None:
    x = build_features(make_obs(HISTORY_HOURS + 10, nan_share=0.0), TARGET)
    assert not np.isnan(x[HISTORY_HOURS - 1 :]).any()
    # Row 0 has no past: lags are NaN, the current values are not.
    names = feature_names(TARGET)
    assert np.isnan(x[0, names.index(f"{TARGET}_change_1h")])
    assert not np.isnan(x[0, names.index(TARGET)])


def test_lag_and_diurnal_columns_have_their_meaning() -> None:
    obs = make_obs(300, nan_share=0.0)
    x = build_features(obs, TARGET)
    names = feature_names(TARGET)
    y = obs.values[TARGET]
    t = 250
    assert x[t, names.index(f"{TARGET}_change_24h")] == pytest.approx(y[t] - y[t - 24], abs=1e-4)
    assert x[t, names.index(f"{TARGET}_yesterday_next_6h")] == pytest.approx(y[t - 18] - y[t - 24], abs=1e-4)
    mean24 = y[t - 23 : t + 1].mean()
    assert x[t, names.index(f"{TARGET}_minus_mean_24h")] == pytest.approx(y[t] - mean24, abs=1e-4)
    assert x[t, names.index(f"{TARGET}_std_6h")] == pytest.approx(y[t - 5 : t + 1].std(), abs=1e-4)


def test_calm_wind_is_zero_vector_not_missing() -> None:
    obs = make_obs(10, nan_share=0.0)
    obs.values["wind_speed_10m"][3] = 0.0
    obs.values["wind_direction_10m"][3] = np.nan
    x = build_features(obs, TARGET)
    names = feature_names(TARGET)
    assert x[3, names.index("wind_u_10m")] == 0.0
    assert x[3, names.index("wind_v_10m")] == 0.0


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(min_value=2, max_value=260),
    cut=st.integers(min_value=0, max_value=259),
    seed=st.integers(min_value=0, max_value=10_000),
    fill=st.sampled_from([np.nan, -40.0, 0.0, 55.5, 1e4]),
)
def test_no_look_ahead(n: int, cut: int, seed: int, fill: float) -> None:
    # GIVEN observations and a copy whose data after t = cut is replaced
    cut = min(cut, n - 1)
    obs = make_obs(n, seed=seed)
    changed = obs.with_rows(obs.time, {k: v.copy() for k, v in obs.values.items()})
    rng = np.random.default_rng(seed + 1)
    for v in changed.values.values():
        v[cut + 1 :] = np.where(rng.random(n - cut - 1) < 0.5, fill, rng.normal(0, 50, n - cut - 1))
    # WHEN both are turned into features THEN rows up to t are identical (NaN in the same places)
    a, b = build_features(obs, TARGET)[: cut + 1], build_features(changed, TARGET)[: cut + 1]
    np.testing.assert_array_equal(a, b)


def test_last_history_window_gives_the_same_row_as_the_full_series() -> None:
    # Serving builds features from the last HISTORY_HOURS observations only: same numbers as training.
    obs = make_obs(1000, seed=3)
    full = build_features(obs, TARGET)
    tail = build_features(obs.slice(1000 - HISTORY_HOURS, 1000), TARGET)
    np.testing.assert_array_equal(full[-1], tail[-1])


@pytest.mark.parametrize("last", [1, 5, HISTORY_HOURS, 400])
def test_the_last_rows_alone_are_the_same_rows(last: int) -> None:
    # Serving asks for the one row it predicts on: computed alone, it must equal the full build's.
    obs = make_obs(300, seed=7)
    np.testing.assert_array_equal(build_features(obs, TARGET, last=last), build_features(obs, TARGET)[-last:])
    with pytest.raises(ValueError, match="at least one row"):
        build_features(obs, TARGET, last=0)


def test_target_is_the_change_over_the_horizon() -> None:
    obs = make_obs(50, nan_share=0.0)
    delta, base = build_target(obs, TARGET, 6)
    y = obs.values[TARGET]
    np.testing.assert_allclose(delta[:-6], y[6:] - y[:-6])
    assert np.isnan(delta[-6:]).all()
    np.testing.assert_array_equal(base, y)


@pytest.mark.parametrize("target", VARIABLES)
def test_every_variable_can_be_the_target(target: str) -> None:
    x = build_features(make_obs(200), target)
    assert x.shape[1] == len(feature_names(target))


def test_errors_are_named() -> None:
    obs = make_obs(30)
    with pytest.raises(ConfigurationError):
        feature_names("snowfall")
    gappy = Observations("X", np.delete(obs.time, 5), {k: np.delete(v, 5) for k, v in obs.values.items()})
    with pytest.raises(DatasetError, match="hourly grid"):
        build_features(gappy, TARGET)
    partial = Observations("X", obs.time, {TARGET: obs.values[TARGET]})
    with pytest.raises(DatasetError, match="lack"):
        build_features(partial, TARGET)
    with pytest.raises(ConfigurationError):
        build_target(obs, TARGET, 0)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=60),
    window=st.integers(min_value=1, max_value=30),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_rolling_statistics_match_numpy_on_data_with_gaps(n: int, window: int, seed: int) -> None:
    # GIVEN a series with about a quarter missing
    rng = np.random.default_rng(seed)
    x = rng.normal(10, 5, n)
    x[rng.random(n) < 0.25] = np.nan
    need = max(1, window // 2)
    # WHEN the trailing statistics are computed THEN each equals numpy's nan-aware one over its own window
    mean, std = tf.rolling_mean(x, window), tf.rolling_std(x, window)
    for t in range(n):
        w = x[max(0, t - window + 1) : t + 1]
        valid = int(np.count_nonzero(~np.isnan(w)))
        if valid >= need:
            assert mean[t] == pytest.approx(np.nanmean(w), rel=1e-12, abs=1e-12)
        else:
            assert np.isnan(mean[t])
        if valid >= max(2, need):
            assert std[t] == pytest.approx(np.nanstd(w), rel=1e-9, abs=1e-12)
        else:
            assert np.isnan(std[t])
