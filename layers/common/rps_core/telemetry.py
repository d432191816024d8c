"""What the steps' metrics are split by. Per-location series cost a CloudWatch custom metric each (about
USD 0.30 a month), so a deployment of thousands of locations turns them off (template ``MetricsByLocation``)
and publishes the per-step aggregates; the per-location detail stays in the gate reports and logs."""

from __future__ import annotations

from typing import Any

from rps_core.config import Settings

__all__ = ["add_location_dimension"]


def add_location_dimension(metrics: Any, location: str, settings: Settings) -> None:
    """Split this invocation's metrics by ``location`` when the deployment publishes them per location."""
    if settings.metrics_by_location:
        metrics.add_dimension(name="location", value=location)
