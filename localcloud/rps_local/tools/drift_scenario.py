"""The demo's drift scenario on a running local cloud: another season arrives, the monitor sees it and
starts retraining, once.

1. The drift function checks the current window against the champion (the baseline).
2. The data steps (Plan with an explicit ``now``, then Ingest -> QualityGate -> Transform per location,
   as the pipeline's Map runs them) replay the observations from the clock up to ``season_end`` (default:
   four months on). No training runs here, so the champion stays the one that has not seen them.
3. The drift function compares the last 30 days with the champion's reference, writes its report, and
   starts the pipeline under the window's execution name; run again for the same window, it starts
   nothing ("already started"): one retraining per window.
4. Optionally it waits for the retraining execution and checks drift once more, against the champion
   that the retraining left (promoted or kept).

``run_drift_scenario(client)`` returns what happened as data; ``echo`` receives one line per step.

The season must be new to the champion. Its reference is its training rows (the first 80% of the history
it was trained on), and the embedded data ends on 2013-12-30: with the default ``ReplayStart``
(2013-10-19) the champion has seen January to August, winter included, and November-December score a
drifted share of 0.18-0.22 (the threshold is 0.2), so retraining may or may not start. Deployed with
``ReplayStart=2013-03-01`` the champion is a winter model, and replaying into early summer scores 0.4-0.5
(see docs/monitoring.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rps_local.emulator.client import CloudClient
from rps_local.emulator.errors import LocalCloudError

__all__ = ["DriftScenario", "default_season_end", "run_drift_scenario"]

DATA_END = np.datetime64("2013-12-30T23", "h")  # the last hour of the embedded data
SEASON_HOURS = 24 * 120


@dataclass
class DriftScenario:
    baseline: dict[str, Any] | None = None
    replayed: dict[str, str] = field(default_factory=dict)  # location -> dataset version, or the gate's error
    drifted: dict[str, Any] | None = None
    repeat: dict[str, Any] | None = None  # the same window checked again, before retraining ends
    execution: dict[str, Any] | None = None  # the retraining execution, when waited for
    after: dict[str, Any] | None = None  # drift against the champion after retraining

    @property
    def retraining_started(self) -> bool:
        return bool(self.drifted and (self.drifted.get("trigger") or {}).get("status") == "started")


def _payload(client: CloudClient, function: str, event: dict[str, Any]) -> Any:
    result = client.invoke(function, event)
    if result.function_error:
        raise LocalCloudError(f"{function} failed: {result.payload}")
    return result.payload


def _summary(result: dict[str, Any]) -> str:
    drift = result.get("drift") or {}
    trigger = result.get("trigger") or {}
    maes = ", ".join(f"{r['location']} {r['mae']:.2f}" for r in result.get("realized", []) if r.get("mae") is not None)
    week = [c for c in result.get("coverage", []) if c.get("window_hours") == 7 * 24 and c.get("count")]
    covered = ", ".join(
        f"{c['location']} {c['coverage_80']:.0%}/{c['coverage_95']:.0%} of {c['count']}" for c in week
    )  # fmt: skip
    return (
        f"window {result.get('window_start')} .. {result.get('window_end')}: "
        f"{len(drift.get('drifted', []))} features drifted (share {drift.get('share', 0):.2f}), "
        f"realized MAE {maes or 'n/a'}; 80%/95% intervals' coverage over 7 days {covered or 'n/a'}; "
        f"retraining: {trigger.get('status', 'n/a')}"
    )


def _replay(client: CloudClient, season_end: str, echo: Callable[[str], None]) -> dict[str, str]:
    plan = _payload(client, "PlanFunction", {"now": season_end, "reason": "drift scenario: replay another season"})
    body = client.client("s3").get_object(Bucket=client.physical_id("DataBucket"), Key=plan["items_key"])["Body"]
    items = json.loads(body.read())  # the Map's items, as its ItemReader reads them
    echo(f"replaying ({plan['window_start']}, {plan['window_end']}] for {', '.join(i['location'] for i in items)}")
    replayed = {}
    for item in items:
        location = item["location"]
        ingested = _payload(client, "IngestFunction", item)
        gated = client.invoke("QualityGateFunction", ingested)
        if gated.function_error:  # a rejected window: the pipeline would quarantine it; the others go on
            replayed[location] = f"rejected: {gated.payload.get('errorMessage', gated.payload)}"
            echo(f"  {location}: {replayed[location]}")
            continue
        out = _payload(client, "TransformFunction", gated.payload)
        replayed[location] = out["dataset_version"]
        echo(f"  {location}: {out['rows']} rows up to {out['time_end']}, dataset {out['dataset_version'][:12]}")
    return replayed


def _clock_now(client: CloudClient) -> str:
    body = client.client("s3").get_object(Bucket=client.physical_id("DataBucket"), Key="clock/state.json")["Body"]
    return str(json.loads(body.read())["now"])[:16]


def default_season_end(clock_now: str) -> str:
    """Four months after the clock (a new season), at most the end of the embedded data."""
    end = min(np.datetime64(clock_now[:16], "h") + np.timedelta64(SEASON_HOURS, "h"), DATA_END)
    return str(end.astype("datetime64[m]"))[:16]


def run_drift_scenario(
    client: CloudClient,
    season_end: str | None = None,
    *,
    wait: bool = True,
    timeout_s: float = 900.0,
    echo: Callable[[str], None] = print,
) -> DriftScenario:
    """Run the scenario on the cloud ``client`` talks to (a champion must exist: run the pipeline first).

    ``season_end`` (``YYYY-MM-DDTHH:MM``) must be after the pipeline clock; default ``default_season_end``.
    """
    now = _clock_now(client)
    season_end = season_end or default_season_end(now)
    if season_end <= now:
        raise LocalCloudError(f"the clock is at {now} already: the scenario replays forward, to after {now}")
    scenario = DriftScenario()
    scenario.baseline = _payload(client, "DriftFunction", {})
    if scenario.baseline.get("status") != "checked":
        raise LocalCloudError(f"the drift monitor cannot run yet: {scenario.baseline.get('status')}; run the pipeline")
    echo(f"drift before: {_summary(scenario.baseline)}")
    scenario.replayed = _replay(client, season_end, echo)
    scenario.drifted = _payload(client, "DriftFunction", {})
    echo(f"drift after:  {_summary(scenario.drifted)}")
    for reason in scenario.drifted.get("reasons", []):
        echo(f"  reason: {reason}")
    bucket = client.physical_id("DataBucket")
    echo(f"  report: s3://{bucket}/{scenario.drifted.get('report_key')}")
    trigger = scenario.drifted.get("trigger") or {}
    if not trigger.get("execution_arn"):
        return scenario
    scenario.repeat = _payload(client, "DriftFunction", {})
    echo(f"same window again: retraining {(scenario.repeat.get('trigger') or {}).get('status')}")
    if wait:
        described = client.wait_execution(trigger["execution_arn"], timeout_s=timeout_s)
        scenario.execution = {k: described.get(k) for k in ("name", "status", "executionArn", "input", "output")}
        echo(f"retraining execution {described['name']}: {described['status']}")
        scenario.after = _payload(client, "DriftFunction", {})
        champion = (scenario.after.get("champion") or {}).get("model_version")
        echo(f"drift after retraining (champion {champion}): {_summary(scenario.after)}")
    return scenario
