"""The retraining decision and its idempotent start.

One drift window (its end time) maps to one execution name, ``drift-YYYYMMDDTHHMM``. Step Functions
refuses a second execution of that name (ExecutionAlreadyExists), so retraining starts at most once per
window even when the monitor runs twice, concurrently, or is retried. A marker object in DATA_BUCKET
(written once) records the start, so a later run can say so without calling Step Functions.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from rps_core import storage
from rps_core.drift.compare import DriftSummary
from rps_core.drift.realized import RealizedError

TRIGGER_PREFIX = "drift/triggers/"
# A location's realized MAE is trusted from this many joined forecasts on (one bad day is not a trend).
MIN_REALIZED_COUNT = 3


@dataclass(frozen=True)
class RetrainDecision:
    retrain: bool
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TriggerResult:
    """``status``: ``started``, ``already started`` (this window), ``not needed`` or ``disabled`` (no ARN)."""

    status: str
    execution_name: str
    execution_arn: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def decide(
    summary: DriftSummary,
    realized: Sequence[RealizedError],
    share_threshold: float,
    mae_threshold: float,
    min_count: int = MIN_REALIZED_COUNT,
) -> RetrainDecision:
    """Retrain when the drifted share or any location's realized MAE is above its threshold."""
    reasons = []
    if summary.counted and summary.share > share_threshold:
        reasons.append(
            f"data drift: {len(summary.drifted)} of {len(summary.counted)} features "
            f"({summary.share:.0%}) have PSI >= {summary.psi_threshold:g}, above the share {share_threshold:g}"
        )
    for r in realized:
        if r.count >= min_count and not math.isnan(r.mae) and r.mae > mae_threshold:
            reasons.append(
                f"realized error: {r.location} MAE {r.mae:.2f} over {r.count} forecasts "
                f"({r.window_start} to {r.window_end}) is above {mae_threshold:g}"
            )
    return RetrainDecision(bool(reasons), reasons)


def execution_name(window_end: str) -> str:
    """``drift-20131026T0000`` for the window ending 2013-10-26T00:00 (names allow no ':')."""
    return "drift-" + window_end[:16].replace("-", "").replace(":", "")


def execution_arn(state_machine_arn: str, name: str) -> str:
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"


def marker_key(name: str) -> str:
    return f"{TRIGGER_PREFIX}{name}.json"


def start_retraining(
    sfn: Any,
    s3: Any,
    bucket: str,
    state_machine_arn: str,
    name: str,
    execution_input: dict[str, Any],
) -> TriggerResult:
    """Start the pipeline under ``name`` unless this window already started it."""
    if not state_machine_arn:
        return TriggerResult("disabled", name)
    arn = execution_arn(state_machine_arn, name)
    if storage.exists(bucket, marker_key(name), client=s3):
        return TriggerResult("already started", name, arn)
    try:
        arn = sfn.start_execution(stateMachineArn=state_machine_arn, name=name, input=json.dumps(execution_input))[
            "executionArn"
        ]
        status = "started"
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
            raise
        status = "already started"
    # Recorded after the start: a crash in between leaves no marker, and the next run's StartExecution
    # answers ExecutionAlreadyExists, so the window still starts only once.
    marker = {"execution_name": name, "execution_arn": arn, "input": execution_input}
    storage.write_once(bucket, marker_key(name), json.dumps(marker, indent=1).encode(), client=s3)
    return TriggerResult(status, name, arn)
