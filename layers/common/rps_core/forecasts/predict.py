"""Forecasts from observation windows, for serving's requests and the Forecast step alike: the features of
each window's last hour (``RowFeatures``, the training features bit for bit), one ONNX call for all the
windows, the last observed target plus the predicted change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rps_core.errors import DatasetError
from rps_core.features import HISTORY_HOURS
from rps_core.forecasts.intervals import INTERVAL_FIELDS, LEVELS, level_key
from rps_core.forecasts.model import LoadedModel
from rps_core.schema import VARIABLES, Observations
from rps_core.times import format_hour


@dataclass(frozen=True)
class ForecastInput:
    """The last HISTORY_HOURS observations of one location: what one forecast reads."""

    location: str
    latitude: float
    longitude: float
    values: np.ndarray  # float64 [len(VARIABLES), HISTORY_HOURS], NaN where missing, oldest first
    last_hour: np.datetime64  # datetime64[h] of the last observation: the forecast's base time
    issued_at: str  # YYYY-MM-DDTHH:MM: the last observation's time, or the batch run's "now"

    @classmethod
    def of(cls, obs: Observations, issued_at: str | None = None) -> ForecastInput:
        """The window ending at ``obs``' last row (with coordinates); NaN before its first row when it has
        fewer than HISTORY_HOURS (the features of a short history, as ``build_features`` computes them)."""
        if obs.latitude is None or obs.longitude is None:
            raise DatasetError(f"{obs.location}: observations have no coordinates (the sun's position needs them)")
        missing = [name for name in VARIABLES if name not in obs.values]
        if missing:
            raise DatasetError(f"{obs.location}: observations lack {', '.join(missing)}")
        values = np.full((len(VARIABLES), HISTORY_HOURS), np.nan)
        n = min(len(obs), HISTORY_HOURS)
        for i, name in enumerate(VARIABLES):
            values[i, HISTORY_HOURS - n :] = obs.values[name][len(obs) - n :]
        last = obs.time[-1].astype("datetime64[h]")
        return cls(obs.location, obs.latitude, obs.longitude, values, last, issued_at or format_hour(last))


@dataclass(frozen=True)
class Forecast:
    location: str
    issued_at: str
    base_time: str  # the last observation the forecast starts from
    target_time: str
    value: float
    model_version: str
    ood_ratio: float
    # The calibrated 80% and 95% prediction intervals (``rps_core.forecasts.intervals``); None when the
    # model has no calibration for its horizon.
    lower_80: float | None = None
    upper_80: float | None = None
    lower_95: float | None = None
    upper_95: float | None = None

    def document(self) -> dict[str, Any]:
        """The Forecast step's record (``forecasts/location={L}/issued={now}.json``): value and interval
        bounds to 3 decimals (the bounds null without a calibration), no OOD ratio."""
        return {
            "location": self.location,
            "issued_at": self.issued_at,
            "base_time": self.base_time,
            "target_time": self.target_time,
            "value": round(self.value, 3),
            **{name: _round(getattr(self, name)) for name in INTERVAL_FIELDS},
            "model_version": self.model_version,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def forecast_input(obs: Observations, target: str, issued_at: str) -> ForecastInput:
    """The input of a forecast from the newest observation at or before ``issued_at`` that has the target."""
    at = np.datetime64(issued_at.replace("Z", "")[:16], "h")
    upto = int(np.searchsorted(obs.time.astype("datetime64[h]"), at, side="right"))
    known = np.flatnonzero(~np.isnan(obs.values[target][:upto]))
    if known.size == 0:
        raise DatasetError(f"{obs.location}: no {target} observation at or before {issued_at}")
    last = int(known[-1])
    return ForecastInput.of(obs.slice(max(0, last + 1 - HISTORY_HOURS), last + 1), issued_at)


def interval_bounds(model: LoadedModel, value: np.ndarray, rows: np.ndarray) -> list[np.ndarray | None]:
    """``lower_80, upper_80, lower_95, upper_95`` of each row (``model_input`` rows), None without calibration."""
    if model.intervals is None:
        return [None] * len(INTERVAL_FIELDS)
    by_level = model.intervals.bounds(value, rows[:, model.intervals.column])
    return [by_level[level_key(a)][side] if level_key(a) in by_level else None for a in LEVELS for side in (0, 1)]


def predict(model: LoadedModel, batch: Sequence[ForecastInput | Observations]) -> list[Forecast]:
    """One forecast per item, from one feature pass and one ONNX call: the last observed target plus the
    predicted change ``horizon_hours`` ahead, with the model's calibrated 80% and 95% intervals.

    Values are not checked for finiteness here: callers reject a non-finite value as their input's fault.
    """
    if not batch:
        return []
    inputs = [w if isinstance(w, ForecastInput) else ForecastInput.of(w) for w in batch]
    values = inputs[0].values[None] if len(inputs) == 1 else np.stack([w.values for w in inputs])
    last = np.array([w.last_hour for w in inputs]).astype(np.int64)
    lat = np.array([w.latitude for w in inputs])
    lon = np.array([w.longitude for w in inputs])
    rows = model.model_input(model.row_features.rows(values, last, lat, lon))
    change = model.predict(rows)
    ood = model.ood_ratio(rows)
    base = values[:, VARIABLES.index(model.target), -1]
    value = base + change
    bounds = interval_bounds(model, value, rows)
    horizon = np.timedelta64(model.horizon_hours, "h")
    version = model.version
    return [
        Forecast(
            w.location,
            w.issued_at,
            format_hour(w.last_hour),
            format_hour(w.last_hour + horizon),
            float(value[i]),
            version,
            float(ood[i]),
            *(None if b is None else float(b[i]) for b in bounds),
        )
        for i, w in enumerate(inputs)
    ]
