"""Forecasts from observations: features (the one implementation training uses), the model, the sum."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rps_core.features import HISTORY_HOURS, build_features
from rps_core.schema import Observations

from rps_serving.model import LoadedModel


@dataclass(frozen=True)
class Prediction:
    location: str
    issued_at: str
    target_time: str
    value: float
    ood_ratio: float


def _hour(t: np.datetime64) -> str:
    return str(t.astype("datetime64[m]"))


def predict(model: LoadedModel, batch: Sequence[Observations]) -> list[Prediction]:
    """One forecast per item: the last observed target plus the predicted change ``horizon_hours`` ahead.

    Each item holds at least HISTORY_HOURS observations; only the last row's features are predicted on.
    Values are not checked for finiteness here: callers reject a non-finite value as their input's fault.
    """
    tails = [obs.slice(len(obs) - HISTORY_HOURS, len(obs)) for obs in batch]
    rows = model.model_input(np.vstack([build_features(tail, model.target, last=1) for tail in tails]))
    change = model.predict(rows)
    ood = model.ood_ratio(rows)
    horizon = np.timedelta64(model.horizon_hours, "h")
    out = []
    for i, obs in enumerate(batch):
        last = obs.time[-1]
        out.append(
            Prediction(
                location=obs.location,
                issued_at=_hour(last),
                target_time=_hour(last + horizon),
                value=float(obs.values[model.target][-1] + change[i]),
                ood_ratio=float(ood[i]),
            )
        )
    return out
