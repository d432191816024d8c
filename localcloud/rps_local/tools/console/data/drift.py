"""The drift page's view model: the newest drift report (PSI per feature, as ``rps report`` draws it with
``report_charts.drift_bars``) and the history of the drifted-feature share against the template's threshold,
from the monitor's ``drift/window_end=END/report.json`` documents."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rps_local.emulator.cloudformation.template import load_sam_template
from rps_local.tools.console.source import ConsoleSource
from rps_local.tools.report_charts import DRIFT_PREFIX, DriftBar, drift_bars

__all__ = ["HISTORY", "DriftPage", "SharePoint", "load_drift", "share_point"]

HISTORY = 90  # the newest reports in the share history (a report is one monitor run, daily on schedule)


@dataclass(frozen=True)
class SharePoint:
    window_end: str
    share: float | None
    retrain: bool


@dataclass
class DriftPage:
    threshold: float | None
    latest_key: str | None = None
    latest: dict[str, Any] | None = None
    bars: list[DriftBar] = field(default_factory=list)
    history: list[SharePoint] = field(default_factory=list)  # oldest first


def share_point(report: dict[str, Any]) -> SharePoint:
    drift = report.get("drift") or {}
    share = drift.get("share")
    return SharePoint(
        str(report.get("window_end", "")), None if share is None else float(share), bool(report.get("retrain"))
    )


def share_threshold(source: ConsoleSource) -> float | None:
    """The deployed DriftShareThreshold (the cloud's override, else the template's default)."""
    if "DriftShareThreshold" in source.parameters:
        return float(source.parameters["DriftShareThreshold"])

    def read() -> float | None:
        spec = (load_sam_template(source.template_path).get("Parameters") or {}).get("DriftShareThreshold") or {}
        return float(spec["Default"]) if "Default" in spec else None

    return source.cache.get("drift-threshold", 60.0, read)


def load_drift(source: ConsoleSource) -> DriftPage:
    page = DriftPage(share_threshold(source))
    bucket = source.physical_id("DataBucket")
    if not bucket:
        return page
    keys = [k for k in source.keys(bucket, DRIFT_PREFIX) if k.endswith("/report.json")][-HISTORY:]
    for i, key in enumerate(keys):
        # a rerun of a window replaces its report: only the newest is read again
        report = source.json_object(bucket, key, immutable=i < len(keys) - 1)
        if isinstance(report, dict):
            page.history.append(share_point(report))
            page.latest_key, page.latest = key, report
    if page.latest is not None:
        page.bars = drift_bars(page.latest)
    return page
