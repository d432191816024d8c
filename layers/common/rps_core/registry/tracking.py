"""MLflow bookkeeping with mlflow-skinny only (the register function ships it, never scikit-learn).

A run logs the challenger's parameters, metrics (overall, per location and the champion's on the same rows),
dataset version, git commit, the data profile and the model files as artifacts; the files are registered as a
new version of the registered model, and the alias ``champion`` follows promotions. mlflow is imported
lazily: the rest of the library works without it, and nothing here loads a model.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rps_core.errors import ConfigurationError, TrackingAuthError

EXPERIMENT = "rps"
ALIAS = "champion"
METRICS_PER_BATCH, PARAMS_PER_BATCH = 1000, 100
ARTIFACT_DIR = "model"


def registered_model_name(target: str, horizon: int) -> str:
    return f"rps-{target}-{horizon}h"


def _flat_metrics(metrics: dict[str, Any], prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in metrics.items():
        if key == "per_location" and isinstance(value, dict):
            for location, scores in value.items():
                out |= _flat_metrics({k: v for k, v in scores.items() if k != "n"}, f"{prefix}{location}.")
        elif isinstance(value, int | float) and not isinstance(value, bool) and value == value:
            out[f"{prefix}{key}"] = float(value)
    return out


def run_params(candidate: dict[str, Any]) -> dict[str, str]:
    params = {f"model.{k}": str(v) for k, v in (candidate.get("params") or {}).items()}
    params |= {
        "target": str(candidate["target"]),
        "horizon_hours": str(candidate["horizon_hours"]),
        "history_hours": str(candidate["history_hours"]),
        "n_features": str(len(candidate["features"])),
        "dataset_version": str(candidate["dataset_version"]),
        "model_id": str(candidate["model_id"]),
    }
    params |= {f"split.{k}": str(v) for k, v in (candidate.get("split") or {}).items()}
    params |= {f"dataset.{loc}": str(v) for loc, v in (candidate.get("datasets") or {}).items()}
    return params


@dataclass
class TrackedRun:
    """An open MLflow run for one challenger, and its registered model version once registered."""

    client: Any
    run_id: str
    artifact_uri: str
    model_name: str
    version: str = ""

    def log_text(self, text: str, name: str) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            path.write_text(text)
            self.client.log_artifact(self.run_id, str(path))

    def register(self, description: str = "") -> str:
        """A new version of the registered model whose source is this run's model files."""
        from mlflow.exceptions import MlflowException

        try:
            self.client.get_registered_model(self.model_name)
        except MlflowException:
            self.client.create_registered_model(self.model_name, description="rps forecast model")
        mv = self.client.create_model_version(
            self.model_name, source=f"{self.artifact_uri}/{ARTIFACT_DIR}", run_id=self.run_id, description=description
        )
        self.version = str(mv.version)
        return self.version

    def set_alias(self, alias: str = ALIAS) -> None:
        self.client.set_registered_model_alias(self.model_name, alias, self.version)

    def finish(self, tags: dict[str, str] | None = None, status: str = "FINISHED") -> None:
        for key, value in (tags or {}).items():
            self.client.set_tag(self.run_id, key, value)
        self.client.set_terminated(self.run_id, status=status)


def start_run(
    tracking_uri: str,
    candidate: dict[str, Any],
    files: dict[str, bytes],
    *,
    champion_metrics: dict[str, Any] | None = None,
    git_commit: str = "",
    experiment: str = EXPERIMENT,
) -> TrackedRun:
    """Create the run, log params, metrics, tags and ``files`` (name -> bytes) under ``model/``."""
    if not tracking_uri:
        raise ConfigurationError("MLFLOW_TRACKING_URI: required for tracking")
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.exceptions import MlflowException

    client = MlflowClient(tracking_uri, registry_uri=tracking_uri)
    try:
        found = client.get_experiment_by_name(experiment)
    except MlflowException as exc:
        if exc.get_http_status_code() in (401, 403) or "error code 401" in str(exc) or "error code 403" in str(exc):
            raise TrackingAuthError(
                f"the MLflow tracking server {tracking_uri} refused the request: its credentials are missing or "
                "wrong (MlflowCredentialsSecret names a Secrets Manager secret with them)"
            ) from None
        raise
    experiment_id = found.experiment_id if found else client.create_experiment(experiment)
    tags = {
        "mlflow.runName": str(candidate["model_id"]),
        "dataset_version": str(candidate["dataset_version"]),
        "target": str(candidate["target"]),
    }
    if git_commit:
        tags["mlflow.source.git.commit"] = git_commit
    run = client.create_run(experiment_id, tags=tags)
    run_id = run.info.run_id
    now = int(time.time() * 1000)
    metrics = _flat_metrics(candidate["metrics"])
    if champion_metrics:
        metrics |= _flat_metrics(champion_metrics, "champion.")
    # MLflow takes at most 1,000 metrics and 100 params per batch; with many locations there are more
    # (five metrics and one dataset param per location)
    flat = [Metric(k, v, now, 0) for k, v in sorted(metrics.items())]
    params = [Param(k, v[:6000]) for k, v in sorted(run_params(candidate).items())]
    client.log_batch(run_id, tags=[RunTag(k, v) for k, v in tags.items()])
    for first in range(0, len(flat), METRICS_PER_BATCH):
        client.log_batch(run_id, metrics=flat[first : first + METRICS_PER_BATCH])
    for first in range(0, len(params), PARAMS_PER_BATCH):
        client.log_batch(run_id, params=params[first : first + PARAMS_PER_BATCH])
    with tempfile.TemporaryDirectory() as tmp:
        for name, body in files.items():
            (Path(tmp) / name).write_bytes(body)
        client.log_artifacts(run_id, tmp, ARTIFACT_DIR)
    model_name = registered_model_name(str(candidate["target"]), int(candidate["horizon_hours"]))
    return TrackedRun(client, run_id, run.info.artifact_uri, model_name)
