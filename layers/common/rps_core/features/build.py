"""The feature matrix and the learning target of one location's observations.

Columns (all causal, all climate-relative where that makes sense, no location id):
- the target now, its lags 1-168 h as changes ``y(t) - y(t-k)``, so that one model serves warm and cold
  places alike; yesterday's path from this hour (``y(t-24+k) - y(t-24)``), the diurnal signal;
- rolling means (as departures from now) and standard deviations of the target over 3 h to 7 days;
- the other variables now and their 3, 6 and 24 h changes (pressure also 1 and 12 h); wind as u/v
  components (the direction is undefined in calm hours), their 6 h and 24 h means and 6 h changes (wind
  shifts and pressure tendency mark fronts); precipitation summed over 6 h and 24 h;
- time of day and day of year as sine/cosine pairs;
- the sun at the location's coordinates (``solar``): its elevation now and 3 and 6 h ahead, and the
  clear-sky insolation over the next 6 h, its change from the last 6 h, the last 24 h and the day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rps_core.errors import ConfigurationError, DatasetError, ModelError
from rps_core.features import transforms as tf
from rps_core.features.solar import solar_columns, solar_names
from rps_core.schema import VARIABLES, Observations

TARGET_LAGS = (1, 2, 3, 4, 5, 6, 9, 12, 18, 24, 36, 48, 72, 96, 120, 144, 168)
YESTERDAY_STEPS = (1, 3, 6, 9, 12)
ROLLING_WINDOWS = (3, 6, 12, 24, 72, 168)
STD_WINDOWS = (6, 24, 72)
OTHER_CHANGES = (3, 6, 24)
# Pressure tendency over several spans: fronts announce themselves in it (and in wind shifts, below).
PRESSURE_CHANGES = (1, 3, 6, 12, 24)
WIND_WINDOWS = (6, 24)
# Observations one prediction needs: the longest lag or window, plus the current hour.
HISTORY_HOURS = max(*TARGET_LAGS, *ROLLING_WINDOWS) + 1

# Wind components, derived once per build_features call and read by several columns.
_WIND_UV = ("wind_u", "wind_v")


@dataclass(frozen=True)
class Spec:
    """One column as data, read by ``build_features`` (every row) and by ``RowFeatures`` (one row from
    precomputed indices): both evaluate the same float64 operations, so their numbers agree bit for bit.

    kind ``diff``: ``a(t - lag_a) - b(t - lag_b)``, or ``a(t - lag_a)`` alone when ``b`` is empty;
    ``mean``/``std``/``sum``: the trailing-window statistic of ``a`` over ``window`` hours (``tf``);
    ``departure``: ``a(t)`` minus its trailing mean over ``window`` hours; ``time``: ``a`` names a
    calendar encoding (``hour_sin``, ``hour_cos``, ``doy_sin``, ``doy_cos``).
    """

    name: str
    kind: str
    a: str
    lag_a: int = 0
    b: str = ""
    lag_b: int = 0
    window: int = 0


def _wind_uv(v: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    speed, direction = v["wind_speed_10m"], np.deg2rad(v["wind_direction_10m"])
    # Calm air has no direction (ASOS reports none): the vector is zero, not missing.
    calm = speed == 0
    u = np.where(calm, 0.0, -speed * np.sin(direction))
    w = np.where(calm, 0.0, -speed * np.cos(direction))
    return u, w


def time_encoding(name: str, t: np.ndarray) -> np.ndarray:
    """The calendar column ``name`` at times ``t`` (datetime64)."""
    if name.startswith("hour"):
        angle = 2 * np.pi * (t.astype("datetime64[h]").astype(np.int64) % 24).astype(np.float64) / 24
    else:
        days = t.astype("datetime64[D]")
        angle = 2 * np.pi * (days - days.astype("datetime64[Y]")).astype(np.float64) / 365.25
    return np.sin(angle) if name.endswith("sin") else np.cos(angle)


def _value(name: str, lag: int = 0) -> Spec:
    return Spec(name, "diff", name, lag)


def _change(name: str, column: str, k: int) -> Spec:
    return Spec(name, "diff", column, 0, column, k)


def _target_columns(target: str) -> list[Spec]:
    cols = [_value(target)]
    cols += [_change(f"{target}_change_{k}h", target, k) for k in TARGET_LAGS]
    # The path the target took yesterday from this hour on: y(t-24+k) - y(t-24), all known at t.
    cols += [Spec(f"{target}_yesterday_next_{k}h", "diff", target, 24 - k, target, 24) for k in YESTERDAY_STEPS]
    cols += [Spec(f"{target}_minus_mean_{w}h", "departure", target, window=w) for w in ROLLING_WINDOWS]
    cols += [Spec(f"{target}_std_{w}h", "std", target, window=w) for w in STD_WINDOWS]
    return cols


def _other_columns(target: str) -> list[Spec]:
    cols: list[Spec] = []
    for name in VARIABLES:
        if name == target or name in ("wind_direction_10m", "wind_speed_10m", "precipitation"):
            continue
        cols.append(_value(name))
        for k in PRESSURE_CHANGES if name == "pressure_msl" else OTHER_CHANGES:
            cols.append(_change(f"{name}_change_{k}h", name, k))
    if target != "precipitation":
        cols += [Spec(f"precipitation_sum_{w}h", "sum", "precipitation", window=w) for w in (6, 24)]
    if target not in ("wind_speed_10m", "wind_direction_10m"):
        for comp, series in zip(("u", "v"), _WIND_UV, strict=True):
            cols.append(Spec(f"wind_{comp}_10m", "diff", series))
            cols += [Spec(f"wind_{comp}_10m_mean_{w}h", "mean", series, window=w) for w in WIND_WINDOWS]
            cols.append(_change(f"wind_{comp}_10m_change_6h", series, 6))
        cols.append(Spec("wind_speed_10m_mean_6h", "mean", "wind_speed_10m", window=6))
    if target == "temperature_2m":
        # Dew-point depression: dry air cools and warms faster than humid air.
        cols.append(Spec("dew_point_depression", "diff", "temperature_2m", 0, "dew_point_2m", 0))
    return cols


def column_specs(target: str) -> list[Spec]:
    """The columns of ``build_features`` before the sun's (``solar``), in order."""
    if target not in VARIABLES:
        raise ConfigurationError(f"TARGET: {target!r} is not one of {', '.join(VARIABLES)}")
    times = [Spec(name, "time", name) for name in ("hour_sin", "hour_cos", "doy_sin", "doy_cos")]
    return _target_columns(target) + _other_columns(target) + times


def _evaluate(spec: Spec, v: dict[str, np.ndarray], t: np.ndarray, first: int) -> np.ndarray:
    """Every row of one column; rolling statistics skip the rows before ``first`` (serving needs one)."""
    if spec.kind == "time":
        return time_encoding(spec.a, t)
    x = v[spec.a]
    if spec.kind == "diff":
        head = tf.lag(x, spec.lag_a) if spec.lag_a else x
        return head - tf.lag(v[spec.b], spec.lag_b) if spec.b else head
    if spec.kind == "departure":
        return x - tf.rolling_mean(x, spec.window, first=first)
    if spec.kind == "mean":
        return tf.rolling_mean(x, spec.window, first=first)
    if spec.kind == "std":
        return tf.rolling_std(x, spec.window, first=first)
    return tf.rolling_sum(x, spec.window, first=first)


def feature_names(target: str) -> list[str]:
    """The names of ``build_features``' columns, in order."""
    return [spec.name for spec in column_specs(target)] + solar_names()


def feature_columns(target: str, features: Sequence[str]) -> list[int]:
    """Where a model's ``features`` are among ``build_features``' columns, in the model's order. Found by name,
    so a model trained before columns were added still runs; ModelError names those this code does not build."""
    names = feature_names(target)
    missing = [f for f in features if f not in names]
    if missing:
        raise ModelError(f"this code does not build the features {', '.join(missing[:5])}")
    return [names.index(f) for f in features]


def _check(obs: Observations) -> None:
    missing = [n for n in VARIABLES if n not in obs.values]
    if missing:
        raise DatasetError(f"{obs.location}: observations lack {', '.join(missing)}")
    if len(obs) > 1 and np.any(np.diff(obs.time.astype("datetime64[h]").astype(np.int64)) != 1):
        raise DatasetError(f"{obs.location}: observations are not on a complete hourly grid")


def build_features(obs: Observations, target: str, last: int | None = None) -> np.ndarray:
    """float32 [n, f]: row t uses only observations at or before t; NaN where not computable.

    With ``last``, only the last ``last`` rows, computed alone (the same numbers, bit for bit).
    """
    if last is not None and last < 1:
        raise ValueError(f"last={last}: at least one row")
    first = 0 if last is None else max(0, len(obs) - last)
    cols = column_specs(target)
    _check(obs)
    latitude, longitude = obs.latitude, obs.longitude
    if latitude is None or longitude is None:
        raise DatasetError(f"{obs.location}: observations have no coordinates (the sun's position needs them)")
    values = {n: np.asarray(obs.values[n], dtype=np.float64) for n in VARIABLES}
    hours = obs.time[first:].astype("datetime64[h]").astype(np.int64)
    sun = solar_columns(hours, latitude, longitude)
    out = np.empty((len(obs) - first, len(cols) + len(sun)), dtype=np.float32)
    with np.errstate(invalid="ignore"):
        values.update(zip(_WIND_UV, _wind_uv(values), strict=True))
        for j, spec in enumerate(cols):
            out[:, j] = _evaluate(spec, values, obs.time, first)[first:]
    for j, column in enumerate(sun, start=len(cols)):
        out[:, j] = column
    return out


def build_target(obs: Observations, target: str, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """``(delta, base)``: delta = y(t + horizon) - y(t) (NaN for the last ``horizon`` rows), base = y(t)."""
    if target not in obs.values:
        raise DatasetError(f"{obs.location}: observations lack the target {target!r}")
    if horizon < 1:
        raise ConfigurationError(f"HORIZON_HOURS: {horizon} must be at least 1")
    _check(obs)
    base = np.asarray(obs.values[target], dtype=np.float64)
    future = np.full_like(base, np.nan)
    if horizon < base.shape[0]:
        future[:-horizon] = base[horizon:]
    return future - base, base.copy()
