"""QualityGate: judge each ingested window, write the JSON report and emit its metrics. One location: a
rejected window raises DataQualityError naming the failing checks (the caller quarantines it). A batch
from the Distributed Map (``{"Items": [...]}``): a rejected window is quarantined here (the same write-once
copy), and the output holds the passed windows in ``Items`` and the rejected ones in ``quarantined``."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from rps_core.config import Settings, load_settings
from rps_core.contract import GateResult, IngestResult, batch_items
from rps_core.errors import DataQualityError
from rps_core.quality import METRIC_UNITS, quarantine_rejected, run_gate
from rps_core.telemetry import location_metrics
from rps_core.tracing import annotate

logger = Logger(service="quality_gate")
metrics = Metrics(service="quality_gate")
tracer = Tracer(service="quality_gate")


def _judge(item: Any, settings: Settings) -> GateResult:
    output, report = run_gate(IngestResult.from_event(item, "quality_gate"), settings)
    with location_metrics(metrics, report.location, settings) as emit:
        for name, value in report.metrics().items():
            emit.add_metric(name=name, unit=METRIC_UNITS[name], value=value)
    if report.passed:
        logger.info("window passed", extra={"location_name": report.location, "quality_key": output.quality_key})
    else:
        logger.warning(
            "window rejected",
            extra={
                "location_name": report.location,
                "failed_checks": report.failed_checks,
                "summary": report.summary(),
            },
        )
    return output


def _quarantine(judged: GateResult, settings: Settings) -> dict[str, Any]:
    quarantined = quarantine_rejected(judged, settings)
    with location_metrics(metrics, judged.location, settings) as emit:
        emit.add_metric(name="WindowsQuarantined", unit=MetricUnit.Count, value=1)
    logger.warning(
        "window quarantined", extra={"location_name": judged.location, "quarantine_key": quarantined.quarantine_key}
    )
    return {**quarantined.to_dict(), "quarantined": True}  # an entry of the Map's results


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    annotate(tracer, event)  # location, run id, model: what this trace worked on
    settings = load_settings()
    items = batch_items(event, "quality_gate")
    if items is None:
        output = _judge(event, settings)
        if not output.passed:
            raise DataQualityError(str(output.cause))
        return output.to_dict()
    passed, quarantined = [], []
    for item in items:
        output = _judge(item, settings)
        if output.passed:
            passed.append(output.to_dict())
        else:
            quarantined.append(_quarantine(output, settings))
    return {"Items": passed, "quarantined": quarantined, "failed": event.get("failed", [])}
