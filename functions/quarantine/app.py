"""Quarantine: keep the payload the gate rejected under ``quarantine/``, with the gate's cause; the state
machine then fails the execution with DataQualityError."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from rps_core.config import load_settings
from rps_core.contract import QuarantineRequest
from rps_core.quality import quarantine_window
from rps_core.telemetry import add_location_dimension
from rps_core.tracing import annotate

logger = Logger(service="quarantine")
metrics = Metrics(service="quarantine")
tracer = Tracer(service="quarantine")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    annotate(tracer, event)  # location, run id, model: what this trace worked on
    request = QuarantineRequest.from_event(event, "quarantine")
    settings = load_settings()
    result = quarantine_window(request, settings)
    add_location_dimension(metrics, request.location, settings)
    metrics.add_metric(name="WindowsQuarantined", unit=MetricUnit.Count, value=1)
    logger.warning("window quarantined", extra={"quarantine_key": result.quarantine_key, "cause": request.cause})
    return result.to_dict()
