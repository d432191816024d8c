"""Transform: clean each validated window, merge it into the location's history and write a new
immutable, content-addressed dataset version (observations, manifest, profile) with ``latest.json``.
One location, or a batch from the Distributed Map (QualityGate's batch output), whose output is the
batch's per-location results: each dataset version, then the gate's quarantined locations."""

import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from rps_core.config import Settings, load_settings
from rps_core.contract import IngestResult, batch_items, each_location
from rps_core.datasets import run_transform
from rps_core.errors import DatasetError, InvalidEventError
from rps_core.telemetry import failure_log, location_metrics
from rps_core.tracing import annotate

logger = Logger(service="transform")
metrics = Metrics(service="transform")
tracer = Tracer(service="transform")


def _transform(item: Any, settings: Settings) -> dict[str, Any]:
    started = time.perf_counter()
    result = run_transform(IngestResult.from_event(item, "transform"), settings)
    with location_metrics(metrics, result.location, settings) as emit:
        emit.add_metric(name="DatasetRows", unit=MetricUnit.Count, value=result.rows)
        emit.add_metric(
            name="TransformLatency", unit=MetricUnit.Milliseconds, value=1000 * (time.perf_counter() - started)
        )
    logger.info(
        "dataset version written",
        extra={
            "location_name": result.location,
            "dataset_prefix": result.dataset_prefix,
            "rows": result.rows,
            "time_end": result.time_end,
        },
    )
    return result.to_dict()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: Any, context: Any) -> Any:
    annotate(tracer, event)  # location, run id, model: what this trace worked on
    settings = load_settings()
    items = batch_items(event, "transform")
    if items is None:
        return _transform(event, settings)
    left_out = [event.get("quarantined", []), event.get("failed", [])]
    if not all(isinstance(entries, list) for entries in left_out):
        raise InvalidEventError("transform: 'quarantined' and 'failed' must be the batch's lists of locations")
    # A ConflictError (another run wrote the location's latest.json meanwhile) fails the batch and the
    # Retry runs it again: the versions already written are found, not written twice. A location's own
    # DatasetError (its history cannot be read) leaves it out, and the batch's others go on.
    built, failed = each_location(
        items, lambda item: _transform(item, settings), own_errors=(DatasetError,), on_failure=failure_log(logger)
    )
    return built + failed + left_out[0] + left_out[1]
