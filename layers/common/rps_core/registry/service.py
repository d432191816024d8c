"""The Register step: track the challenger in MLflow, register it, decide, write the comparison report, and on
promotion replace the champion pointer (one PUT) and move the MLflow alias ``champion``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rps_core import storage
from rps_core.config import Settings, require
from rps_core.errors import InvalidEventError
from rps_core.registry.credentials import use_tracking_credentials
from rps_core.registry.mlmodel import mlmodel_files
from rps_core.registry.pointer import (
    CHAMPION_KEY,
    ONNX_FILE,
    POINTER_FILE,
    PROFILE_FILE,
    SKLEARN_FILE,
    model_prefix,
    read_candidate,
    read_champion,
    write_champion,
)
from rps_core.registry.promotion import Decision, decide
from rps_core.registry.report import comparison_report
from rps_core.registry.tracking import TrackedRun, start_run
from rps_core.times import timestamp

REPORT_FILE = "report.md"
# Files of models/{model_id}/ logged to MLflow as the run's model artifacts (the registered version's source).
TRACKED_FILES = (ONNX_FILE, SKLEARN_FILE, POINTER_FILE, PROFILE_FILE)
# Candidate fields that describe the comparison, not the model: not copied into the champion pointer.
_NOT_IN_POINTER = ("champion_evaluation",)


def parse_training(event: Any) -> dict[str, Any]:
    training = event.get("training") if isinstance(event, dict) else None
    if not isinstance(training, dict) or not training.get("candidate_key"):
        raise InvalidEventError("register: the event needs 'training' with the Train step's 'candidate_key'")
    return training


def _decision(candidate: dict[str, Any], champion: dict[str, Any] | None, margin: float) -> Decision:
    evaluation = candidate.get("champion_evaluation") or {}
    evaluated = evaluation.get("version")
    current = champion["model_version"] if champion else None
    if str(evaluated) != str(current):
        # Another run promoted a model after this one was evaluated: the comparison no longer holds.
        return Decision(False, f"the champion changed since training (evaluated {evaluated}, now {current})")
    metrics = evaluation.get("metrics")
    if champion and not metrics:
        return Decision(True, f"champion {current} is not comparable: {evaluation.get('note', '')}")
    return decide(float(candidate["metrics"]["mae"]), float(metrics["mae"]) if metrics else None, margin)


def _files(bucket: str, model_id: str, client: Any) -> dict[str, bytes]:
    found = {name: storage.get_bytes(bucket, model_prefix(model_id) + name, client) for name in TRACKED_FILES}
    return {name: body for name, body in found.items() if body is not None}


def run_register(event: Any, settings: Settings, client: Any = None, now: datetime | None = None) -> dict[str, Any]:
    bucket = require(settings.model_bucket, "MODEL_BUCKET")
    training = parse_training(event)
    candidate = read_candidate(bucket, str(training["candidate_key"]), client)
    champion = read_champion(bucket, client)
    evaluation = candidate.get("champion_evaluation") or {}
    decision = _decision(candidate, champion, settings.promotion_margin)
    model_id = str(candidate["model_id"])

    run: TrackedRun | None = None
    version, run_id = model_id, ""
    if settings.mlflow_tracking_uri:
        if settings.mlflow_credentials_secret:
            use_tracking_credentials(settings.mlflow_credentials_secret)
        run = start_run(
            settings.mlflow_tracking_uri,
            candidate,
            _files(bucket, model_id, client) | mlmodel_files(candidate),
            champion_metrics=evaluation.get("metrics"),
            git_commit=str(candidate.get("git_commit") or ""),  # the commit that trained it (Train read GIT_COMMIT)
        )
        version, run_id = run.register(description=f"trained on dataset {candidate['dataset_version']}"), run.run_id

    report = comparison_report(
        candidate,
        evaluation.get("metrics"),
        champion["model_version"] if champion else None,
        decision.promote,
        decision.reason,
        version,
    )
    report_key = model_prefix(model_id) + REPORT_FILE
    storage.put_bytes(bucket, report_key, report.encode(), "text/markdown; charset=utf-8", client=client)

    if decision.promote:
        promoted_at = timestamp(now)
        pointer = {k: v for k, v in candidate.items() if k not in _NOT_IN_POINTER}
        pointer |= {"model_version": version, "run_id": run_id, "promoted_at": promoted_at}
        write_champion(bucket, pointer, client)  # the one atomic switch serving sees
    if run is not None:
        run.log_text(report, "comparison.md")
        if decision.promote:
            run.set_alias()
        run.finish(tags={"promoted": str(decision.promote).lower(), "decision": decision.reason})

    metrics = candidate["metrics"]
    if decision.promote:
        serving = {"version": version, "mae": metrics["mae"]}
    else:
        serving = {
            "version": champion["model_version"] if champion else None,
            "mae": (evaluation.get("metrics") or {}).get("mae"),
        }
    return {
        "promoted": decision.promote,
        "reason": decision.reason,
        "challenger": {
            "version": version,
            "model_id": model_id,
            "run_id": run_id,
            "mae": metrics["mae"],
            "persistence_mae": metrics["persistence_mae"],
            "skill": metrics["skill"],
        },
        "champion": serving,
        "previous_champion": {"version": champion["model_version"], "mae": (evaluation.get("metrics") or {}).get("mae")}
        if champion
        else None,
        "report_key": report_key,
        "champion_key": CHAMPION_KEY,
    }
