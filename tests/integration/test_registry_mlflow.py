"""Tracking and the registry on the local cloud's MLflow server: after pipeline runs, the champion pointer in
S3 and the MLflow alias ``champion`` name the same version, and that version's run holds the metrics, the
dataset version and the model files; every run has its comparison report."""

from __future__ import annotations

import json

import pytest
from rps_local.cloud import git_commit

from tests.integration.budgets import limit_s

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("cloud")]


def _run(rps_cloud) -> dict:
    limit = limit_s("backfill")  # the session's first run backfills
    done = rps_cloud.rps("run", "--timeout", str(limit), timeout_s=limit + 60)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(done.stdout[done.stdout.index("{") :])


def test_champion_pointer_and_mlflow_alias_agree(rps_cloud):
    from mlflow import MlflowClient

    first = _run(rps_cloud)
    second = _run(rps_cloud)
    for output in (first, second):
        assert {"mae", "persistence_mae", "skill", "version"} <= set(output["challenger"])
        assert isinstance(output["promoted"], bool)
    assert int(second["challenger"]["version"]) > int(first["challenger"]["version"])

    s3 = rps_cloud.client.client("s3")
    bucket = rps_cloud.client.physical_id("ModelBucket")
    pointer = json.loads(s3.get_object(Bucket=bucket, Key="champion/pointer.json")["Body"].read())
    assert pointer["model_version"] == second["champion"]["version"]

    mlflow = MlflowClient(rps_cloud.endpoints["mlflow_tracking_uri"])
    champion = mlflow.get_model_version_by_alias(f"rps-{pointer['target']}-{pointer['horizon_hours']}h", "champion")
    assert str(champion.version) == str(pointer["model_version"])
    run = mlflow.get_run(champion.run_id)
    assert run.data.metrics["mae"] == pytest.approx(pointer["metrics"]["mae"])
    assert run.data.params["dataset_version"] == pointer["dataset_version"]
    # the local cloud deploys with GitCommit = this checkout's HEAD, as the deploy workflow passes github.sha
    assert run.data.tags.get("mlflow.source.git.commit", "") == git_commit(rps_cloud.project_dir)
    files = {a.path for a in mlflow.list_artifacts(champion.run_id, "model")}
    assert {"model/model.onnx", "model/model.joblib", "model/pointer.json", "model/profile.md"} <= files
    for output in (first, second):
        key = f"models/{output['challenger']['model_id']}/report.md"
        report = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        assert "| all |" in report
