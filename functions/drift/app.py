"""Drift: compare the latest week of features with the champion's training reference, join forecasts
with the observations that followed, emit the metrics, write the report to DATA_BUCKET ``drift/`` and
start the pipeline (once per window) when drift or realized error is above its threshold."""

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from rps_core.config import load_settings
from rps_core.drift import parse_request, run_monitor
from rps_core.drift.metrics import SERVICE, emit_metrics
from rps_core.storage import s3_client
from rps_core.tracing import annotate

logger = Logger(service=SERVICE)
metrics = Metrics(service=SERVICE)
tracer = Tracer(service=SERVICE)


@cache
def sfn_client() -> Any:
    return boto3.client("stepfunctions")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    annotate(tracer, event)  # location, run id, model: what this trace worked on
    result = run_monitor(load_settings(), parse_request(event), s3_client(), sfn_client())
    emit_metrics(metrics, result)
    output = result.to_dict(with_features=False)
    logger.info(
        "drift checked", extra={k: output[k] for k in ("status", "window_end", "retrain", "reasons", "trigger")}
    )
    return output
