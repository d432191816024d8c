"""Plan: accept the scheduled event (EventBridge rule or Scheduler, ``{}`` or ``{"now": TIME}``), move the
pipeline clock, and return the window and the locations for the per-location Map."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from rps_core.config import load_settings
from rps_core.sources import plan_run
from rps_core.tracing import annotate

logger = Logger(service="plan")
metrics = Metrics(service="plan")
tracer = Tracer(service="plan")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    annotate(tracer, event)  # location, run id, model: what this trace worked on
    plan = plan_run(event, load_settings()).to_dict()  # parses the scheduled event's shapes itself
    metrics.add_metric(name="PlannedRuns", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="BackfillRuns", unit=MetricUnit.Count, value=int(plan["backfill"]))
    logger.info("window planned", extra=plan)
    annotate(tracer, plan)
    return plan
