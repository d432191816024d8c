"""Register: track the challenger in MLflow, register it, promote it when it beats the champion on the same
test rows by the configured margin, write the comparison report and, on promotion, the champion pointer."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from rps_core.config import load_settings
from rps_core.registry import run_register
from rps_core.tracing import annotate

logger = Logger(service="register")
metrics = Metrics(service="register")
tracer = Tracer(service="register")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    annotate(tracer, event)  # location, run id, model: what this trace worked on
    result = run_register(event, load_settings())
    metrics.add_metric(name="Promoted", unit=MetricUnit.Count, value=int(result["promoted"]))
    metrics.add_metric(name="ChallengerMAE", unit=MetricUnit.NoUnit, value=result["challenger"]["mae"])
    logger.info("challenger registered", extra={k: result[k] for k in ("promoted", "reason", "challenger", "champion")})
    annotate(tracer, event, result)
    return result
