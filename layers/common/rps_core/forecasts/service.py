"""The Forecast step: the champion's forecast for each location at "now" (``rps_core.forecasts.predict``, as
serving's), written to the data bucket as ``forecasts/location={L}/issued={now}.json`` for the realized-error
monitor to join with what followed."""

from __future__ import annotations

from typing import Any

from rps_core import storage
from rps_core.config import Settings, require
from rps_core.contract import forecast_key
from rps_core.datasets import load_latest, load_version
from rps_core.errors import DatasetError, ModelError
from rps_core.forecasts.model import load_model
from rps_core.forecasts.predict import ForecastInput, forecast_input, predict
from rps_core.registry.pointer import read_model_bytes, require_champion
from rps_core.times import format_hour, format_time, parse_time

LISTED = 20


def _versions(event: Any) -> dict[str, str]:
    items = event.get("datasets") if isinstance(event, dict) else None
    if not isinstance(items, list):
        return {}
    valid = [i for i in items if isinstance(i, dict) and i.get("location") and i.get("dataset_version")]
    return {str(i["location"]): str(i["dataset_version"]) for i in valid}


def _left_out(event: Any) -> dict[str, str]:
    """The locations this run left out, and why: rejected by the gate (its ``quarantined`` entries)
    or failed (its own error, or a failed batch of the Map)."""
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
    model = load_model(pointer, read_model_bytes(str(pointer["model_uri"]), client))
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
            at = issued_at or format_hour(obs.time[-1].astype("datetime64[h]"))
            inputs.append(forecast_input(obs, model.target, at))
        except (DatasetError, ModelError) as exc:
            skipped.append({"location": location, "error": type(exc).__name__, "message": str(exc)})
    forecasts, keys = [], []
    for forecast in predict(model, inputs):  # every location in one feature pass and one model call
        key = forecast_key(forecast.location, forecast.issued_at)
        document = forecast.document()
        storage.put_json(data_bucket, key, document, client=client)
        forecasts.append(document)
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
        "model_version": model.version,
    }
