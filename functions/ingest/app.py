"""Ingest: fetch one location's window from the configured source and store the answer as received,
written once under ``raw/`` (a re-run of the window reuses the stored object)."""

import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from rps_core.config import load_settings
from rps_core.contract import LocationWindow
from rps_core.sources import ingest_window
from rps_core.telemetry import add_location_dimension
from rps_core.tracing import annotate

logger = Logger(service="ingest")
metrics = Metrics(service="ingest")
tracer = Tracer(service="ingest")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    annotate(tracer, event)  # location, run id, model: what this trace worked on
    started = time.perf_counter()
    settings = load_settings()
    result = ingest_window(LocationWindow.from_event(event, "ingest"), settings)
    add_location_dimension(metrics, result.location, settings)
    metrics.add_metric(name="RowsIngested", unit=MetricUnit.Count, value=result.rows)
    metrics.add_metric(name="RawObjectsCreated", unit=MetricUnit.Count, value=int(result.created))
    metrics.add_metric(name="IngestLatency", unit=MetricUnit.Milliseconds, value=1000 * (time.perf_counter() - started))
    logger.info(
        "window ingested", extra={"raw_key": result.raw_key, "rows": result.rows, "raw_created": result.created}
    )
    return result.to_dict()
