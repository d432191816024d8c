"""Forecast: the champion's forecast for every location at "now", written to the data bucket for the
realized-error monitor (ONNX with onnxruntime; no scikit-learn, no mlflow)."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from rps_core.config import load_settings
from rps_core.forecasts import run_forecast
from rps_core.map_results import with_map_results
from rps_core.tracing import annotate

logger = Logger(service="forecast")
metrics = Metrics(service="forecast")
tracer = Tracer(service="forecast")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    annotate(tracer, event)  # location, run id, model: what this trace worked on
    result = run_forecast(with_map_results(event), load_settings())
    metrics.add_metric(name="ForecastsWritten", unit=MetricUnit.Count, value=result["count"])
    metrics.add_metric(name="ForecastsSkipped", unit=MetricUnit.Count, value=result["skipped_count"])
    logger.info("forecasts written", extra={"keys": result["keys"], "skipped": result["skipped"]})
    return result
