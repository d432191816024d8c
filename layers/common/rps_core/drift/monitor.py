"""One monitoring run: live features against the champion's reference, realized error, retraining.

The window ends at the system's "now": an explicit ``now`` in the event, else the pipeline clock
(``clock/state.json``), else the newest observation. Data drift compares the features of the last
``window_hours`` (pooled over the locations, as the one model is trained on pooled rows) with the
champion pointer's reference histograms; realized error joins the forecasts whose target time lies in the
last ``REALIZED_HOURS`` with the observations of each location's latest dataset version, and realized
coverage is the share of those observations inside the forecasts' 80% and 95% intervals over the last
7 and 30 days (``COVERAGE_HOURS``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rps_core import storage
from rps_core.config import Settings, require
from rps_core.contract import CHAMPION_KEY, CLOCK_KEY
from rps_core.drift.compare import DriftSummary, compare_features
from rps_core.drift.realized import RealizedCoverage, RealizedError, load_forecasts, realized_coverage, realized_error
from rps_core.drift.report import render_html
from rps_core.drift.stats import PSI_WARN
from rps_core.drift.trigger import RetrainDecision, TriggerResult, decide, execution_name, start_retraining
from rps_core.entry_events import DriftRequest, ScheduledEvent, parse_entry_event
from rps_core.errors import InvalidEventError, ModelError
from rps_core.schema import Observations
from rps_core.times import format_hour, parse_hour

REPORT_PREFIX = "drift/window_end={end}/"
# 30 days. A week holds one or two weather regimes, so its multi-day changes look drifted by chance: on
# the 2013 data, weeks inside the training period scored a drifted share of 0.37-0.47, 30-day windows
# 0.02-0.20, and 30 days of another season 0.22-0.37 (see docs/monitoring.md).
WINDOW_HOURS = 720
# Realized error reacts faster: a week of target times (daily forecasts: about 7 per location).
REALIZED_HOURS = 168
# Realized interval coverage: a week and 30 days of target times (with daily forecasts, 7 and 30 per location).
COVERAGE_HOURS = (168, 720)

LoadObservations = Callable[[str], Observations | None]


@dataclass(frozen=True)
class MonitorRequest:
    now: str | None = None
    window_hours: int = WINDOW_HOURS


@dataclass
class MonitorResult:
    status: str  # "checked", or why nothing was checked ("no champion", "no data")
    window_start: str = ""
    window_end: str = ""
    champion: dict[str, str] = field(default_factory=dict)
    summary: DriftSummary | None = None
    realized: list[RealizedError] = field(default_factory=list)
    decision: RetrainDecision = field(default_factory=lambda: RetrainDecision(False))
    trigger: TriggerResult | None = None
    report_key: str = ""
    coverage: list[RealizedCoverage] = field(default_factory=list)

    def to_dict(self, with_features: bool = True) -> dict[str, Any]:
        drift = self.summary.to_dict() if self.summary else None
        if drift and not with_features:
            drift.pop("features")
        return {
            "status": self.status,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "champion": self.champion,
            "drift": drift,
            "realized": [r.to_dict() for r in self.realized],
            "coverage": [c.to_dict() for c in self.coverage],
            "retrain": self.decision.retrain,
            "reasons": self.decision.reasons,
            "trigger": self.trigger.to_dict() if self.trigger else None,
            "report_key": self.report_key,
        }


def parse_request(event: Any) -> MonitorRequest:
    """``{}``, a scheduled EventBridge/Scheduler event, or ``{"now": TIME, "window_hours": N}``."""
    request = parse_entry_event(event, DriftRequest, "drift")
    if isinstance(request, ScheduledEvent):
        return MonitorRequest()  # the schedule's wall-clock time is not the (possibly replayed) data's now
    now = request.now
    if now is not None:
        try:
            now = str(np.datetime64(now[:16], "m"))[:16]
        except ValueError as exc:
            raise InvalidEventError(f"now: not a time YYYY-MM-DDTHH:MM: {request.now!r}") from exc
    return MonitorRequest(now, request.window_hours or WINDOW_HOURS)


def latest_observations(bucket: str, s3: Any) -> LoadObservations:
    """A loader of each location's latest dataset version (None before its first one)."""
    from rps_core.datasets import load_version, read_latest

    def load(location: str) -> Observations | None:
        pointer, _ = read_latest(bucket, location, s3)
        # No version yet is normal before the first run; a corrupt one raises DatasetError.
        return load_version(bucket, location, pointer["version"], s3) if pointer and "version" in pointer else None

    return load


def _clock_now(s3: Any, bucket: str) -> str | None:
    state = storage.get_json(bucket, CLOCK_KEY, client=s3)
    return str(state["now"])[:16] if isinstance(state, dict) and state.get("now") else None


def _shift(time: str, hours: int) -> str:
    return format_hour(parse_hour(time) + np.timedelta64(hours, "h"))


def live_features(
    observations: dict[str, Observations], target: str, start: str, end: str
) -> tuple[np.ndarray, list[str]]:
    """The feature rows with time in (start, end], pooled over the locations."""
    from rps_core.features import HISTORY_HOURS, build_features, feature_names

    names = feature_names(target)
    blocks = []
    lo, hi = parse_hour(start), parse_hour(end)
    for obs in observations.values():
        times = obs.time.astype("datetime64[h]")
        # Lags need HISTORY_HOURS before the first row of the window; later rows are not needed.
        first = int(np.searchsorted(times, lo - np.timedelta64(HISTORY_HOURS, "h"), side="right"))
        last = int(np.searchsorted(times, hi, side="right"))
        part = obs.slice(first, last)
        if len(part) == 0:
            continue
        rows = build_features(part, target)
        inside = part.time.astype("datetime64[h]") > lo
        blocks.append(rows[inside])
    matrix = np.concatenate(blocks) if blocks else np.empty((0, len(names)), dtype=np.float32)
    return matrix, names


def run_monitor(
    settings: Settings,
    request: MonitorRequest,
    s3: Any,
    sfn: Any,
    load_observations: LoadObservations | None = None,
) -> MonitorResult:
    """Compare, decide, maybe start retraining, and write the report (see the module doc).

    ``load_observations`` defaults to each location's latest dataset version in DATA_BUCKET.
    """
    data_bucket = require(settings.data_bucket, "DATA_BUCKET")
    load_observations = load_observations or latest_observations(data_bucket, s3)
    pointer = storage.get_json(require(settings.model_bucket, "MODEL_BUCKET"), CHAMPION_KEY, client=s3)
    if pointer is None:
        return MonitorResult("no champion")
    if not isinstance(pointer, dict) or not isinstance(pointer.get("reference"), dict):
        raise ModelError(f"{CHAMPION_KEY}: the champion pointer has no 'reference' statistics")
    champion = {k: str(pointer.get(k, "")) for k in ("model_version", "model_id", "dataset_version", "trained_at")}

    observations = {}
    for name in settings.location_names:
        obs = load_observations(name)
        if obs is not None and len(obs):
            observations[name] = obs
    if not observations:
        return MonitorResult("no data", champion=champion)
    data_end = max(format_hour(o.time[-1]) for o in observations.values())
    end = request.now or _clock_now(s3, data_bucket) or data_end
    start = _shift(end, -request.window_hours)

    # The champion's own target names its features (a TARGET change takes effect at the next training).
    target = str(pointer.get("target") or settings.target)
    matrix, names = live_features(observations, target, start, end)
    summary = compare_features(pointer["reference"], matrix, names, settings.psi_threshold, PSI_WARN)
    since, since_coverage = _shift(end, -REALIZED_HOURS), _shift(end, -max(COVERAGE_HOURS))
    realized, coverage = [], []
    for name, obs in observations.items():
        forecasts = load_forecasts(s3, data_bucket, name, since_coverage, end)  # one read for both windows
        realized.append(realized_error(forecasts, obs, target, since, end))
        longest = realized_error(forecasts, obs, target, since_coverage, end)
        coverage += [realized_coverage(longest, hours) for hours in COVERAGE_HOURS]
    decision = decide(summary, realized, settings.drift_share_threshold, settings.realized_mae_threshold)
    name = execution_name(end)
    report_key = REPORT_PREFIX.format(end=end) + "report.html"
    trigger = TriggerResult("not needed", name)
    if decision.retrain:
        execution_input = {"now": end, "run_id": name, "reason": "; ".join(decision.reasons)}
        trigger = start_retraining(sfn, s3, data_bucket, settings.state_machine_arn, name, execution_input)
    result = MonitorResult("checked", start, end, champion, summary, realized, decision, trigger, report_key, coverage)
    _write_report(s3, data_bucket, result, settings)
    return result


def _write_report(s3: Any, bucket: str, result: MonitorResult, settings: Settings) -> None:
    assert result.summary is not None and result.trigger is not None
    thresholds = {
        "PSI_THRESHOLD": settings.psi_threshold,
        "DRIFT_SHARE_THRESHOLD": settings.drift_share_threshold,
        "REALIZED_MAE_THRESHOLD": settings.realized_mae_threshold,
    }
    html = render_html(
        title=f"rps drift report, window ending {result.window_end}",
        window=(result.window_start, result.window_end),
        champion=result.champion,
        summary=result.summary,
        realized=result.realized,
        decision=result.decision,
        trigger=result.trigger,
        thresholds=thresholds,
        coverage=result.coverage,
    )
    # Reports are replaced on a rerun of the same window: the newest run's view of it is the useful one.
    storage.put_bytes(bucket, result.report_key, html.encode(), "text/html; charset=utf-8", client=s3)
    summary_key = result.report_key.replace("report.html", "report.json")
    storage.put_bytes(
        bucket, summary_key, json.dumps(result.to_dict(), indent=1).encode(), "application/json", client=s3
    )
