"""Drift monitoring: live features against the champion's training reference, realized forecast error,
and the retraining that either starts.

- ``stats``: PSI and the Kolmogorov-Smirnov statistic against a reference histogram (numpy only);
- ``compare``: per-feature status (PSI < 0.1 ok, 0.1-0.25 warn, >= PSI_THRESHOLD drift) and the drifted share;
- ``realized``: batch forecasts joined with the observations that arrived later, MAE per location;
- ``trigger``: the retraining decision and its idempotent StartExecution (one execution per window);
- ``report``: the HTML report with an inline SVG chart; ``monitor``: one run end to end;
- ``metrics``: the CloudWatch metrics (EMF) that the alarms and dashboards read.
"""

from rps_core.drift.compare import DriftSummary, FeatureDrift, compare_features
from rps_core.drift.monitor import MonitorRequest, MonitorResult, parse_request, run_monitor
from rps_core.drift.realized import Forecast, RealizedError, load_forecasts, parse_forecasts, realized_error
from rps_core.drift.stats import PSI_DRIFT, PSI_WARN, ReferenceHistogram, ks_statistic, psi
from rps_core.drift.trigger import RetrainDecision, TriggerResult, decide, execution_name, start_retraining

__all__ = [
    "PSI_DRIFT",
    "PSI_WARN",
    "DriftSummary",
    "FeatureDrift",
    "Forecast",
    "MonitorRequest",
    "MonitorResult",
    "RealizedError",
    "ReferenceHistogram",
    "RetrainDecision",
    "TriggerResult",
    "compare_features",
    "decide",
    "execution_name",
    "ks_statistic",
    "load_forecasts",
    "parse_forecasts",
    "parse_request",
    "psi",
    "realized_error",
    "run_monitor",
    "start_retraining",
]
