"""QualityGate: judge the ingested window, write the JSON report, emit its metrics, and raise
DataQualityError naming the failing checks (the state machine then quarantines the window)."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from rps_core.config import Settings, load_settings
from rps_core.contract import IngestResult
from rps_core.errors import DataQualityError
from rps_core.quality import METRIC_UNITS, QualityReport, run_gate
from rps_core.telemetry import add_location_dimension
from rps_core.tracing import annotate

logger = Logger(service="quality_gate")
metrics = Metrics(service="quality_gate")
tracer = Tracer(service="quality_gate")


def _emit(report: QualityReport, settings: Settings) -> None:
    add_location_dimension(metrics, report.location, settings)
    for name, value in report.metrics().items():
        metrics.add_metric(name=name, unit=METRIC_UNITS[name], value=value)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    annotate(tracer, event)  # location, run id, model: what this trace worked on
    settings = load_settings()
    output, report = run_gate(IngestResult.from_event(event, "quality_gate"), settings)
    _emit(report, settings)
    if not report.passed:
        logger.warning("window rejected", extra={"failed_checks": report.failed_checks, "summary": report.summary()})
        raise DataQualityError(str(output.cause))
    logger.info("window passed", extra={"quality_key": output.quality_key})
    return output.to_dict()
