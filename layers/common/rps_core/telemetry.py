"""Where a location's metrics go. A data step handles one location (a direct invocation) or a batch of them
(the Distributed Map's ``{"Items": [...]}``), so each location's metrics are a set of their own with the
``location`` dimension, written when that location is done. Per-location series cost a CloudWatch custom
metric each (about USD 0.30 a month), so a deployment of thousands of locations turns them off (template
``MetricsByLocation``): the values then join the handler's own set, one series per step."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools.metrics import EphemeralMetrics

from rps_core.config import Settings

__all__ = ["failure_log", "location_metrics"]


@contextmanager
def location_metrics(metrics: Any, location: str, settings: Settings) -> Iterator[Any]:
    """The metrics object to add ``location``'s metrics to: its own set, written at the block's end, or the
    handler's ``metrics`` (written by ``log_metrics``) when the deployment publishes them per step."""
    if not settings.metrics_by_location:
        yield metrics
        return
    own = EphemeralMetrics(namespace=metrics.namespace, service=metrics.service)
    own.add_dimension(name="location", value=location)
    yield own
    own.flush_metrics()


def failure_log(logger: Any) -> Callable[[Exception], None]:
    """What a batch handler does with a location's own error (``contract.each_location``'s ``on_failure``):
    one warning naming the error, the batch's others going on."""

    def log(exc: Exception) -> None:
        logger.warning("location failed", extra={"error": type(exc).__name__, "cause": str(exc)})

    return log
