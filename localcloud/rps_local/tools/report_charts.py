"""PNG charts of the running system: forecast against actual, serving latency, OOD ratio, drift per feature.

Each ``chart_*`` function reads what it needs through the boto3 clients it is given (the local cloud or
AWS alike), writes one PNG with matplotlib (Agg) and returns a ``Chart`` saying what it drew. A chart with
nothing to draw yet is still written, with a "no data yet" note, and ``Chart.has_data`` is False.

- forecast against actual: the batch forecasts ``forecasts/location={L}/issued={T}.json`` joined on their
  target time with the target observed in the location's latest dataset version (the realized-error join
  of ``rps_core.drift.realized``), and the realized MAE;
- latency and OOD ratio: serving's ``Latency`` and ``OodRatio`` (namespace RPS, ``service=serving``)
  through ``rps_local.tools.metrics_report.build_report``;
- drift per feature: PSI per feature from the newest ``drift/window_end={END}/report.json``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from rps_core.datasets import load_latest, read_latest, read_manifest
from rps_core.drift.realized import Forecast, RealizedError, parse_forecasts, realized_error
from rps_core.drift.report import COLORS, PSI_AXIS_MAX
from rps_core.errors import DatasetError, PayloadError
from rps_core.schema import Observations
from rps_core.times import format_hour, parse_hour

from rps_local.tools.metrics_report import MetricSummary, build_report

__all__ = [
    "CHART_FILES",
    "Chart",
    "DriftBar",
    "chart_drift",
    "chart_forecast_vs_actual",
    "chart_metric",
    "discover_locations",
    "drift_bars",
    "latest_drift_report",
    "load_all_forecasts",
    "realized_pairs",
    "serving_series",
    "write_charts",
]

CHART_FILES = {
    "forecast": "forecast_vs_actual.png",
    "latency": "latency.png",
    "ood": "ood_ratio.png",
    "drift": "drift_per_feature.png",
}
NAMESPACE = "RPS"
SERVICE = ("service", "serving")
DEFAULT_TARGET = "temperature_2m"
DRIFT_PREFIX = "drift/window_end="
CONTEXT_HOURS = 24  # observed hours drawn before the first forecast's target time
OOD_ALARM = 0.2  # ServingOodRatioAlarm's threshold (template.yaml)


@dataclass(frozen=True)
class Chart:
    """One written chart: its file, whether it had data, and a one-line summary (or why there was none)."""

    path: Path
    has_data: bool
    note: str
    data: Any = None


@dataclass(frozen=True)
class DriftBar:
    name: str
    psi: float  # NaN when the report has none
    status: str


@dataclass
class LocationJoin:
    """A location's forecasts joined with its observations, and the observed target around them."""

    realized: RealizedError
    actual_times: np.ndarray = field(default_factory=lambda: np.empty(0, "datetime64[h]"))
    actual_values: np.ndarray = field(default_factory=lambda: np.empty(0))


# ---------------------------------------------------------------- drawing helpers


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


def _save(figure: Any, path: Path) -> None:
    plt = _pyplot()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _no_data(path: Path, title: str, reason: str) -> Chart:
    """An empty chart that says so: a missing file would look like a failed command."""
    figure, axis = _pyplot().subplots(figsize=(8, 3))
    axis.set_title(title, fontsize=11, loc="left")
    axis.text(0.5, 0.5, f"no data yet\n{reason}", ha="center", va="center", fontsize=12, transform=axis.transAxes)
    axis.set_axis_off()
    _save(figure, path)
    return Chart(path, False, f"no data yet: {reason}")


def _datetimes(hours: np.ndarray) -> list[datetime]:
    return [t.astype("datetime64[m]").astype(datetime) for t in hours]


# ---------------------------------------------------------------- forecast against actual


def discover_locations(s3: Any, bucket: str) -> list[str]:
    """The locations that have forecasts or dataset versions in the data bucket."""
    found: set[str] = set()
    for prefix in ("forecasts/location=", "datasets/location="):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                found.add(common["Prefix"][len(prefix) :].rstrip("/"))
    return sorted(found)


def load_all_forecasts(s3: Any, bucket: str, location: str) -> list[Forecast]:
    """Every batch forecast of ``location`` (documents that are not forecasts are skipped)."""
    prefix = f"forecasts/location={location}/issued="
    out: list[Forecast] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            try:
                out.extend(f for f in parse_forecasts(json.loads(body), item["Key"]) if f.location == location)
            except (ValueError, PayloadError):
                continue
    return out


def dataset_target(s3: Any, bucket: str, location: str) -> str:
    """The target variable of the location's latest dataset version (the pipeline's default without one)."""
    pointer, _ = read_latest(bucket, location, s3)
    if not pointer or "version" not in pointer:
        return DEFAULT_TARGET
    return str(read_manifest(bucket, location, pointer["version"], s3).get("target") or DEFAULT_TARGET)


def realized_pairs(forecasts: Sequence[Forecast], obs: Observations | None, target: str, location: str) -> LocationJoin:
    """Join every forecast with the observed target at its target time (pending when not observed yet)."""
    if not forecasts:
        return LocationJoin(RealizedError(location, "", "", [], 0))
    first = min(parse_hour(f.target_time) for f in forecasts)
    last = max(parse_hour(f.target_time) for f in forecasts)
    start, end = format_hour(first - np.timedelta64(1, "h")), format_hour(last)
    if obs is None or not len(obs):
        return LocationJoin(RealizedError(location, start, end, [], len(forecasts)))
    join = LocationJoin(realized_error(forecasts, obs, target, start, end))
    times = obs.time.astype("datetime64[h]")
    inside = (times >= first - np.timedelta64(CONTEXT_HOURS, "h")) & (times <= last)
    join.actual_times = times[inside]
    join.actual_values = np.asarray(obs.values[target], dtype="float64")[inside]
    return join


def _latest_observations(s3: Any, bucket: str, location: str) -> Observations | None:
    try:
        return load_latest(bucket, location, s3)[1]
    except DatasetError:
        return None


def _mae_title(location: str, realized: RealizedError, target: str) -> str:
    mae = "-" if realized.count == 0 else f"{realized.mae:.2f}"
    return f"{location}: realized MAE {mae} over {realized.count} forecasts ({realized.pending} pending), {target}"


def _draw_location(axis: Any, join: LocationJoin, pending: list[Forecast], title: str) -> None:
    if join.actual_times.size:
        axis.plot(_datetimes(join.actual_times), join.actual_values, color="#444", linewidth=1, label="observed")
    pairs = join.realized.pairs
    if pairs:
        times = _datetimes(np.array([parse_hour(p.target_time) for p in pairs]))
        axis.scatter(times, [p.forecast for p in pairs], color="#1f77b4", zorder=3, label="forecast")
        axis.vlines(times, [p.actual for p in pairs], [p.forecast for p in pairs], color="#d62728", alpha=0.6)
    if pending:
        times = _datetimes(np.array([parse_hour(f.target_time) for f in pending]))
        axis.scatter(
            times,
            [f.value for f in pending],
            facecolors="none",
            edgecolors="#1f77b4",
            zorder=3,
            label="forecast (not observed yet)",
        )
    axis.set_title(title, fontsize=10, loc="left")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7, loc="upper left")


def chart_forecast_vs_actual(s3: Any, bucket: str, locations: Iterable[str], path: Path) -> Chart:
    """One panel per location with forecasts; ``data`` is {location: LocationJoin}."""
    joins: dict[str, tuple[LocationJoin, list[Forecast], str]] = {}
    for location in locations:
        forecasts = load_all_forecasts(s3, bucket, location)
        if not forecasts:
            continue
        target = dataset_target(s3, bucket, location)
        join = realized_pairs(forecasts, _latest_observations(s3, bucket, location), target, location)
        observed = {p.target_time for p in join.realized.pairs}  # observed or not depends on the hour only
        pending = [f for f in forecasts if f.target_time not in observed]
        joins[location] = (join, pending, target)
    title = "Batch forecasts against the observed target"
    if not joins:
        return _no_data(path, title, f"no batch forecasts in s3://{bucket}/forecasts/ (run the pipeline)")
    figure, axes = _pyplot().subplots(len(joins), 1, figsize=(10, 3 * len(joins)), squeeze=False)
    for axis, (location, (join, pending, target)) in zip(axes[:, 0], joins.items(), strict=True):
        _draw_location(axis, join, pending, _mae_title(location, join.realized, target))
    figure.autofmt_xdate()
    _save(figure, path)
    note = ", ".join(
        f"{loc} MAE {'-' if j.realized.count == 0 else f'{j.realized.mae:.2f}'} "
        f"({j.realized.count} joined, {j.realized.pending} pending)"
        for loc, (j, _, _) in joins.items()
    )
    return Chart(path, True, note, {loc: j for loc, (j, _, _) in joins.items()})


# ---------------------------------------------------------------- serving metrics


def serving_series(cloudwatch: Any, name: str, start: datetime, end: datetime) -> tuple[list[MetricSummary], int]:
    """The metric's ``service=serving`` series (the service-wide one when serving publishes it, else one
    per dimension set), and the period of their points."""
    report = build_report(cloudwatch, namespace=NAMESPACE, start=start, end=end, names=[name])
    serving = [s for s in report.metrics if SERVICE in s.key.dimensions and s.series]
    service_wide = [s for s in serving if s.key.dimensions == (SERVICE,)]
    return (service_wide or serving), report.period


def chart_metric(
    cloudwatch: Any,
    name: str,
    start: datetime,
    end: datetime,
    path: Path,
    unit: str = "",
    threshold: tuple[float, str] | None = None,
) -> Chart:
    """The metric's average per period over time; ``data`` is the series drawn."""
    series, period = serving_series(cloudwatch, name, start, end)
    title = f"{NAMESPACE}/{name} (service=serving)"
    if not series:
        return _no_data(
            path, title, f"no {name} from serving between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} UTC"
        )
    figure, axis = _pyplot().subplots(figsize=(10, 3.5))
    for summary in series:
        times, values = zip(*summary.series, strict=True)
        axis.plot(times, values, marker=".", linewidth=1, label=summary.key.dimensions_label)
    if threshold is not None:
        axis.axhline(threshold[0], color=COLORS["drift"], linestyle="--", linewidth=1, label=threshold[1])
    axis.set_title(title, fontsize=10, loc="left")
    axis.set_ylabel(f"average per {period} s" + (f" ({unit})" if unit else ""), fontsize=8)
    axis.set_xlim(start, end)
    axis.set_xlabel("UTC")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7, loc="upper left")
    figure.autofmt_xdate()
    _save(figure, path)
    count = sum(s.count for s in series)
    peak = max(s.maximum for s in series if s.maximum is not None)
    return Chart(path, True, f"{count:.0f} values, max {peak:.4g}{unit and ' ' + unit}", series)


# ---------------------------------------------------------------- drift per feature


def latest_drift_report(s3: Any, bucket: str) -> tuple[str, dict[str, Any]] | None:
    """The key and content of the newest ``drift/window_end={END}/report.json`` (None before the first)."""
    keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=DRIFT_PREFIX)
        for item in page.get("Contents", [])
        if item["Key"].endswith("/report.json")
    ]
    if not keys:
        return None
    key = max(keys)  # window ends are YYYY-MM-DDTHH:MM: they sort in time order
    return key, json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def drift_bars(report: dict[str, Any]) -> list[DriftBar]:
    """PSI per feature, highest first (features without a PSI last)."""
    features = (report.get("drift") or {}).get("features") or []
    bars = [
        DriftBar(str(f["name"]), math.nan if f.get("psi") is None else float(f["psi"]), str(f.get("status", "")))
        for f in features
    ]
    return sorted(bars, key=lambda b: -math.inf if math.isnan(b.psi) else b.psi, reverse=True)


def _draw_bars(axis: Any, bars: list[DriftBar], warn: float, threshold: float) -> None:
    axis_max = max(min(PSI_AXIS_MAX, max((b.psi for b in bars if not math.isnan(b.psi)), default=0.0)), threshold * 1.5)
    values = [0.0 if math.isnan(b.psi) else min(b.psi, axis_max) for b in bars]
    rows = range(len(bars))
    axis.barh(rows, values, color=[COLORS.get(b.status, "#777") for b in bars])
    axis.set_yticks(list(rows), [b.name for b in bars], fontsize=7)
    axis.invert_yaxis()  # highest PSI on top
    for row, bar, value in zip(rows, bars, values, strict=True):
        text = "-" if math.isnan(bar.psi) else f"{bar.psi:.2f}" + ("»" if bar.psi > axis_max else "")
        axis.text(value + axis_max * 0.01, row, text, va="center", fontsize=6)
    axis.axvline(warn, color=COLORS["warn"], linestyle="--", linewidth=1, label=f"warn {warn:g}")
    axis.axvline(threshold, color=COLORS["drift"], linestyle="--", linewidth=1, label=f"drift {threshold:g}")
    axis.set_xlim(0, axis_max * 1.12)
    axis.set_xlabel(
        "PSI (live window against the champion's training reference); grey: calendar features, not counted",
        fontsize=8,
    )
    axis.legend(fontsize=7, loc="lower right")


def chart_drift(s3: Any, bucket: str, path: Path) -> Chart:
    """Horizontal PSI bars of the newest drift report; ``data`` is the list of ``DriftBar``."""
    title = "PSI per feature"
    found = latest_drift_report(s3, bucket)
    if found is None:
        return _no_data(
            path, title, f"no drift report in s3://{bucket}/{DRIFT_PREFIX}... (the drift function writes one)"
        )
    key, report = found
    bars = drift_bars(report)
    if not bars:
        return _no_data(path, title, f"{key} has no feature comparison (status {report.get('status', '?')})")
    drift = report["drift"]
    warn, threshold = float(drift.get("psi_warn", 0.1)), float(drift.get("psi_threshold", 0.25))
    figure, axis = _pyplot().subplots(figsize=(10, 1.5 + 0.22 * len(bars)))
    _draw_bars(axis, bars, warn, threshold)
    drifted = len(drift.get("drifted") or [])
    axis.set_title(
        f"{title}, window {report.get('window_start', '?')} to {report.get('window_end', '?')}: "
        f"{drifted} drifted, share {float(drift.get('share', 0.0)):.0%}",
        fontsize=10,
        loc="left",
    )
    _save(figure, path)
    return Chart(path, True, f"{len(bars)} features from {key}, {drifted} drifted", bars)


# ---------------------------------------------------------------- all four


def write_charts(
    s3: Any,
    cloudwatch: Any,
    bucket: str,
    out_dir: Path,
    start: datetime,
    end: datetime,
    locations: Sequence[str] | None = None,
) -> list[Chart]:
    """The four charts in ``out_dir`` (locations default to those with data in the bucket)."""
    chosen = list(locations) if locations else discover_locations(s3, bucket)
    return [
        chart_forecast_vs_actual(s3, bucket, chosen, out_dir / CHART_FILES["forecast"]),
        chart_metric(cloudwatch, "Latency", start, end, out_dir / CHART_FILES["latency"], "ms"),
        chart_metric(
            cloudwatch,
            "OodRatio",
            start,
            end,
            out_dir / CHART_FILES["ood"],
            threshold=(OOD_ALARM, f"alarm: average > {OOD_ALARM:g}"),
        ),
        chart_drift(s3, bucket, out_dir / CHART_FILES["drift"]),
    ]
