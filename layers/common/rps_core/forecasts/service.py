"""Batch forecasts: the champion's forecast for each location at "now", written to the data bucket as
``forecasts/location={L}/issued={now}.json`` for the realized-error monitor to join with what followed."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from rps_core import storage
from rps_core.config import Settings, parse_time, require
from rps_core.contract import forecast_key, format_time
from rps_core.datasets import load_latest, load_version
from rps_core.errors import DatasetError, ModelError
from rps_core.features import HISTORY_HOURS, build_features, feature_columns
from rps_core.forecasts.runtime import OnnxModel
from rps_core.registry.pointer import read_model_bytes, require_champion
from rps_core.schema import Observations


@dataclass(frozen=True)
class Forecast:
    location: str
    issued_at: str
    base_time: str
    target_time: str
    value: float
    model_version: str


def _hour_text(hour: np.datetime64) -> str:
    return str(hour.astype("datetime64[m]"))


@dataclass(frozen=True)
class ForecastInput:
    """One location's model input at one issue time: its feature row and the value it changes from."""

    location: str
    issued_at: str
    base_time: np.datetime64
    base_value: float
    row: np.ndarray  # float32 [1, f], the champion's columns


def forecast_input(pointer: dict[str, Any], obs: Observations, issued_at: str) -> ForecastInput:
    """The input of a forecast from the newest observation at or before ``issued_at`` that has the target."""
    target = str(pointer["target"])
    at = np.datetime64(issued_at.replace("Z", "")[:16], "h")
    upto = int(np.searchsorted(obs.time.astype("datetime64[h]"), at, side="right"))
    known = np.flatnonzero(~np.isnan(obs.values[target][:upto]))
    if known.size == 0:
        raise DatasetError(f"{obs.location}: no {target} observation at or before {issued_at}")
    last = int(known[-1])
    window = obs.slice(max(0, last + 1 - HISTORY_HOURS), last + 1)
    row = build_features(window, target, last=1)[:, feature_columns(target, pointer["features"])]
    return ForecastInput(
        obs.location, issued_at, obs.time[last].astype("datetime64[h]"), float(obs.values[target][last]), row
    )


def forecasts_of(model: OnnxModel, pointer: dict[str, Any], inputs: list[ForecastInput]) -> list[Forecast]:
    """The forecasts of many locations from one model call (one ONNX run for the whole batch)."""
    if not inputs:
        return []
    changes = model.predict(np.vstack([i.row for i in inputs]))
    horizon = np.timedelta64(int(pointer["horizon_hours"]), "h")
    return [
        Forecast(
            location=i.location,
            issued_at=i.issued_at,
            base_time=_hour_text(i.base_time),
            target_time=_hour_text(i.base_time + horizon),
            value=round(i.base_value + float(change), 3),
            model_version=str(pointer["model_version"]),
        )
        for i, change in zip(inputs, changes, strict=True)
    ]


def forecast_from_observations(
    model: OnnxModel, pointer: dict[str, Any], obs: Observations, issued_at: str
) -> Forecast:
    """Forecast from the newest observation at or before ``issued_at`` that has the target."""
    return forecasts_of(model, pointer, [forecast_input(pointer, obs, issued_at)])[0]


LISTED = 20


def _versions(event: Any) -> dict[str, str]:
    items = event.get("datasets") if isinstance(event, dict) else None
    if not isinstance(items, list):
        return {}
    valid = [i for i in items if isinstance(i, dict) and i.get("location") and i.get("dataset_version")]
    return {str(i["location"]): str(i["dataset_version"]) for i in valid}


def _left_out(event: Any) -> dict[str, str]:
    """The locations this run left out, and why: rejected by the gate (the Map's ``WindowRejected`` results)
    or in a failed batch of the Map."""
    items = event.get("datasets") if isinstance(event, dict) else None
    out = {}
    for i in items or []:
        if isinstance(i, dict) and i.get("quarantined") is True:
            out[str(i["location"])] = "quarantined in this run"
        elif isinstance(i, dict) and i.get("failed") is True:
            out[str(i["location"])] = f"failed in this run ({i.get('error')})"
    return out


def run_forecast(event: Any, settings: Settings, client: Any = None) -> dict[str, Any]:
    data_bucket = require(settings.data_bucket, "DATA_BUCKET")
    model_bucket = require(settings.model_bucket, "MODEL_BUCKET")
    now = event.get("now") if isinstance(event, dict) else None
    issued_at = format_time(parse_time(now, "now")) if now else None
    pointer = require_champion(model_bucket, client)
    model = OnnxModel(read_model_bytes(str(pointer["model_uri"]), client))
    versions = _versions(event)
    left_out = _left_out(event)
    inputs: list[ForecastInput] = []
    skipped: list[dict[str, str]] = []
    for location in settings.location_names:
        if location in left_out:  # no forecast from data older than this run's window
            skipped.append({"location": location, "error": "DataQualityError", "message": left_out[location]})
            continue
        try:
            if location in versions:
                obs = load_version(data_bucket, location, versions[location], client)
            else:
                _, obs = load_latest(data_bucket, location, client)
            at = issued_at or _hour_text(obs.time[-1].astype("datetime64[h]"))
            inputs.append(forecast_input(pointer, obs, at))
        except (DatasetError, ModelError) as exc:
            skipped.append({"location": location, "error": type(exc).__name__, "message": str(exc)})
    forecasts, keys = [], []
    for forecast in forecasts_of(model, pointer, inputs):  # every location in one model call
        key = forecast_key(forecast.location, forecast.issued_at)
        storage.put_json(data_bucket, key, asdict(forecast), client=client)
        forecasts.append(asdict(forecast))
        keys.append(key)
    if not forecasts and skipped:
        raise DatasetError(f"no forecast could be made: {'; '.join(s['message'] for s in skipped)}")
    # The lists stop at LISTED entries (the counts are whole): the output joins the execution's state, which
    # Step Functions caps at 256 KB, and a run may have thousands of locations.
    return {
        "forecasts": forecasts[:LISTED],
        "keys": keys[:LISTED],
        "skipped": skipped[:LISTED],
        "count": len(forecasts),
        "skipped_count": len(skipped),
        "model_version": str(pointer["model_version"]),
    }
