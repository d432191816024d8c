"""The monitor's CloudWatch metrics, as EMF through Powertools (namespace from POWERTOOLS_METRICS_NAMESPACE).

Names and dimensions (template.yaml's alarms and the dashboards use exactly these):

| metric | unit | dimensions | when |
| --- | --- | --- | --- |
| ``DriftRuns`` | Count | service | every run, also before the first champion (the monitor's heartbeat) |
| ``DriftedFeatureShare`` | None (0-1) | service | every checked run |
| ``MaxFeaturePSI`` | None | service | every checked run |
| ``FeaturePSI`` | None | service, Feature | per compared feature |
| ``RealizedMAE`` | None (target units) | service, Location | at least MIN_REALIZED_COUNT forecasts joined |
| ``MaxRealizedMAE`` | None (target units) | service | the worst location's, when any location has one |
| ``RealizedForecasts`` | Count | service, Location | every checked run |
| ``RetrainTriggered`` | Count (0/1) | service | every checked run (1 only when this run started one) |
| ``RealizedCoverage80``, ``RealizedCoverage95`` | None (0-1) | service, Location, Window | MIN_COVERAGE_COUNT joined |
| ``PooledRealizedCoverage80`` | None (0-1) | service | 30 days, all locations pooled, at least MIN_COVERAGE_COUNT |

(Window: ``7d`` or ``30d``; the counts are of forecasts with an interval.)

The coverage alarm watches the pooled 30 days: with daily forecasts a station has 30 in a month, and a
well calibrated 80% interval covers fewer than 70% of 30 by chance 6% of the time (the worst of three
stations: 17%); pooled over three stations (90), about 1%. Per-station coverage is in the report and the
per-location series.
"""

from __future__ import annotations

import math

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from rps_core.drift.monitor import MonitorResult
from rps_core.drift.trigger import MIN_REALIZED_COUNT

SERVICE = "drift"
MIN_COVERAGE_COUNT = 20


def emit_metrics(metrics: Metrics, result: MonitorResult) -> None:
    """Add the run's metrics to ``metrics`` (flushed by ``log_metrics``) and print the per-dimension ones."""
    metrics.add_metric(name="DriftRuns", unit=MetricUnit.Count, value=1)
    if result.summary is None:
        return
    metrics.add_metric(name="DriftedFeatureShare", unit=MetricUnit.NoUnit, value=result.summary.share)
    metrics.add_metric(name="MaxFeaturePSI", unit=MetricUnit.NoUnit, value=result.summary.max_psi)
    started = result.trigger is not None and result.trigger.status == "started"
    metrics.add_metric(name="RetrainTriggered", unit=MetricUnit.Count, value=int(started))
    dims = {"service": SERVICE}
    # A dimension that varies within one run (feature, location) needs its own EMF document.
    for f in result.summary.counted:
        with single_metric(name="FeaturePSI", unit=MetricUnit.NoUnit, value=f.psi, default_dimensions=dims) as m:
            m.add_dimension(name="Feature", value=f.name)
    trusted = [r.mae for r in result.realized if r.count >= MIN_REALIZED_COUNT and not math.isnan(r.mae)]
    if trusted:
        # One series for the alarm: an alarm needs fixed dimensions, and locations come from a parameter.
        metrics.add_metric(name="MaxRealizedMAE", unit=MetricUnit.NoUnit, value=max(trusted))
    for r in result.realized:
        with single_metric(
            name="RealizedForecasts", unit=MetricUnit.Count, value=r.count, default_dimensions=dims
        ) as m:
            m.add_dimension(name="Location", value=r.location)
        if r.count >= MIN_REALIZED_COUNT and not math.isnan(r.mae):
            with single_metric(name="RealizedMAE", unit=MetricUnit.NoUnit, value=r.mae, default_dimensions=dims) as m:
                m.add_dimension(name="Location", value=r.location)
    emit_coverage(metrics, result)


def emit_coverage(metrics: Metrics, result: MonitorResult) -> None:
    """Realized interval coverage per location and window, and the pooled 30 days for the alarm."""
    dims = {"service": SERVICE}
    for c in result.coverage:
        if c.count < MIN_COVERAGE_COUNT:
            continue
        for name, value in (("RealizedCoverage80", c.coverage_80), ("RealizedCoverage95", c.coverage_95)):
            with single_metric(name=name, unit=MetricUnit.NoUnit, value=value, default_dimensions=dims) as m:
                m.add_dimension(name="Location", value=c.location)
                m.add_dimension(name="Window", value=f"{c.window_hours // 24}d")
    longest = [c for c in result.coverage if c.window_hours == max(x.window_hours for x in result.coverage)]
    count = sum(c.count for c in longest)
    if count >= MIN_COVERAGE_COUNT:
        pooled = sum(c.coverage_80 * c.count for c in longest if c.count) / count
        metrics.add_metric(name="PooledRealizedCoverage80", unit=MetricUnit.NoUnit, value=pooled)
