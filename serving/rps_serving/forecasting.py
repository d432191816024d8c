"""Forecasts from observation windows: features of the last hour (``RowFeatures``, the training
features bit for bit), one ONNX call for all the windows of a request, the last value plus the change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rps_core.errors import DatasetError
from rps_core.features import HISTORY_HOURS
from rps_core.schema import VARIABLES, Observations

from rps_serving.model import LoadedModel


@dataclass(frozen=True)
class Window:
    """The last HISTORY_HOURS observations of one location: what one forecast reads."""

    location: str
    latitude: float
    longitude: float
    values: np.ndarray  # float64 [len(VARIABLES), HISTORY_HOURS], NaN where missing, oldest first
    last_hour: np.datetime64  # datetime64[h] of the last observation
    issued_at: str  # the same, as YYYY-MM-DDTHH:MM

    @classmethod
    def of(cls, obs: Observations) -> Window:
        """The window ending at ``obs``' last row (at least HISTORY_HOURS rows, with coordinates)."""
        values = np.stack([np.asarray(obs.values[name][-HISTORY_HOURS:], dtype=np.float64) for name in VARIABLES])
        last = obs.time[-1].astype("datetime64[h]")
        if obs.latitude is None or obs.longitude is None:
            raise DatasetError(f"{obs.location}: observations have no coordinates (the sun's position needs them)")
        return cls(obs.location, obs.latitude, obs.longitude, values, last, _hour(last))


@dataclass(frozen=True)
class Prediction:
    location: str
    issued_at: str
    target_time: str
    value: float
    ood_ratio: float


def _hour(t: np.datetime64) -> str:
    return str(t.astype("datetime64[m]"))


def predict(model: LoadedModel, batch: Sequence[Window | Observations]) -> list[Prediction]:
    """One forecast per item: the last observed target plus the predicted change ``horizon_hours`` ahead.

    Values are not checked for finiteness here: callers reject a non-finite value as their input's fault.
    """
    windows = [w if isinstance(w, Window) else Window.of(w) for w in batch]
    values = windows[0].values[None] if len(windows) == 1 else np.stack([w.values for w in windows])
    last = np.array([w.last_hour for w in windows]).astype(np.int64)
    lat = np.array([w.latitude for w in windows])
    lon = np.array([w.longitude for w in windows])
    rows = model.model_input(model.row_features.rows(values, last, lat, lon))
    change = model.predict(rows)
    ood = model.ood_ratio(rows)
    base = values[:, VARIABLES.index(model.target), -1]
    horizon = np.timedelta64(model.horizon_hours, "h")
    return [
        Prediction(w.location, w.issued_at, _hour(w.last_hour + horizon), float(base[i] + change[i]), float(ood[i]))
        for i, w in enumerate(windows)
    ]
