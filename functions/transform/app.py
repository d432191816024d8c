"""Transform: clean the validated window, merge it into the location's history and write a new
immutable, content-addressed dataset version (observations, manifest, profile) with ``latest.json``."""

import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from rps_core.config import load_settings
from rps_core.contract import IngestResult
from rps_core.datasets import run_transform
from rps_core.telemetry import add_location_dimension
from rps_core.tracing import annotate

logger = Logger(service="transform")
metrics = Metrics(service="transform")
tracer = Tracer(service="transform")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    annotate(tracer, event)  # location, run id, model: what this trace worked on
    started = time.perf_counter()
    settings = load_settings()
    result = run_transform(IngestResult.from_event(event, "transform"), settings)
    add_location_dimension(metrics, result.location, settings)
    metrics.add_metric(name="DatasetRows", unit=MetricUnit.Count, value=result.rows)
    metrics.add_metric(
        name="TransformLatency", unit=MetricUnit.Milliseconds, value=1000 * (time.perf_counter() - started)
    )
    logger.info(
        "dataset version written",
        extra={"dataset_prefix": result.dataset_prefix, "rows": result.rows, "time_end": result.time_end},
    )
    return result.to_dict()
