"""Ingest: fetch each location's window from the configured source and store the answer as received,
written once under ``raw/`` (a re-run of the window reuses the stored object). One location, or a batch of
them from the Distributed Map (``{"Items": [...]}`` in and out)."""

import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from rps_core.config import Settings, load_settings
from rps_core.contract import LocationWindow, batch_items, each_location
from rps_core.errors import PayloadError, SourceError, TransientSourceError
from rps_core.sources import ingest_window
from rps_core.telemetry import failure_log, location_metrics
from rps_core.tracing import annotate

logger = Logger(service="ingest")
metrics = Metrics(service="ingest")
tracer = Tracer(service="ingest")


def _ingest(item: Any, settings: Settings) -> dict[str, Any]:
    started = time.perf_counter()
    result = ingest_window(LocationWindow.from_event(item, "ingest"), settings)
    with location_metrics(metrics, result.location, settings) as emit:
        emit.add_metric(name="RowsIngested", unit=MetricUnit.Count, value=result.rows)
        emit.add_metric(name="RawObjectsCreated", unit=MetricUnit.Count, value=int(result.created))
        emit.add_metric(
            name="IngestLatency", unit=MetricUnit.Milliseconds, value=1000 * (time.perf_counter() - started)
        )
    logger.info(
        "window ingested",
        extra={
            "location_name": result.location,
            "raw_key": result.raw_key,
            "rows": result.rows,
            "raw_created": result.created,
        },
    )
    return result.to_dict()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    annotate(tracer, event)  # location, run id, model: what this trace worked on
    settings = load_settings()
    items = batch_items(event, "ingest")
    if items is None:
        return _ingest(event, settings)
    # A transient error fails the batch, and the state machine's Retry runs it again: the locations already
    # stored are then read back, not fetched again. A location's own error (the source refused its request,
    # or answered nonsense) leaves it out, and the batch's others go on.
    ingested, failed = each_location(
        items,
        lambda item: _ingest(item, settings),
        own_errors=(SourceError, PayloadError),
        retried=(TransientSourceError,),
        on_failure=failure_log(logger),
    )
    return {"Items": ingested, "failed": failed}
