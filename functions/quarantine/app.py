"""Quarantine: keep the payload the gate rejected under ``quarantine/``, with the gate's cause; the state
machine then fails the execution with DataQualityError."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from rps_core.config import load_settings
from rps_core.quality import quarantine_window

logger = Logger(service="quarantine")
metrics = Metrics(service="quarantine")


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    result = quarantine_window(event, load_settings())
    metrics.add_dimension(name="location", value=str(event.get("location")))
    metrics.add_metric(name="WindowsQuarantined", unit=MetricUnit.Count, value=1)
    logger.warning("window quarantined", extra={**result, "cause": event.get("error", {}).get("Cause")})
    return result
