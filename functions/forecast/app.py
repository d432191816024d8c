"""Forecast: the champion's forecast for every location at "now", written to the data bucket for the
realized-error monitor (ONNX with onnxruntime; no scikit-learn, no mlflow)."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from rps_core.config import load_settings
from rps_core.forecasts import run_forecast

logger = Logger(service="forecast")
metrics = Metrics(service="forecast")


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    result = run_forecast(event, load_settings())
    metrics.add_metric(name="ForecastsWritten", unit=MetricUnit.Count, value=len(result["forecasts"]))
    metrics.add_metric(name="ForecastsSkipped", unit=MetricUnit.Count, value=len(result["skipped"]))
    logger.info("forecasts written", extra={"keys": result["keys"], "skipped": result["skipped"]})
    return result
