"""Train: load the dataset versions of this run, train the challenger on the pooled history, evaluate it,
persistence and the champion on the same test rows, and write the model files and candidate pointer."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from rps_core.config import load_settings
from rps_core.contract import TrainRequest
from rps_core.map_results import with_map_results
from rps_core.tracing import annotate
from rps_core.training.service import run_train

logger = Logger(service="train")
metrics = Metrics(service="train")
tracer = Tracer(service="train")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    annotate(tracer, event)  # location, run id, model: what this trace worked on
    result = run_train(TrainRequest.from_event(with_map_results(event)), load_settings())
    challenger = result["challenger"]
    metrics.add_metric(name="ChallengerMAE", unit=MetricUnit.NoUnit, value=challenger["mae"])
    metrics.add_metric(name="PersistenceMAE", unit=MetricUnit.NoUnit, value=challenger["persistence_mae"])
    metrics.add_metric(name="ChallengerSkill", unit=MetricUnit.NoUnit, value=challenger["skill"])
    metrics.add_metric(name="TrainingSeconds", unit=MetricUnit.Seconds, value=result["training_seconds"])
    if result["champion"]:
        metrics.add_metric(name="ChampionMAE", unit=MetricUnit.NoUnit, value=result["champion"]["mae"])
    summary = {k: result[k] for k in ("model_id", "candidate_key", "challenger", "champion")}
    logger.info("challenger trained", extra=summary)
    annotate(tracer, event, result)
    return result
