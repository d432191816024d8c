"""Tracking and the registry on the local cloud's MLflow server: after pipeline runs, the champion pointer in
S3 and the MLflow alias ``champion`` name the same version, and that version's run holds the metrics, the
dataset version and the model files; every run has its comparison report."""

from __future__ import annotations

import json

import pytest
from rps_local.emulator.cloudformation.template import git_commit

from tests.integration.budgets import limit_s
from tests.integration.rps_output import execution_output

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("cloud")]


def _run(rps_cloud) -> dict:
    limit = limit_s("backfill")  # the session's first run backfills
    done = rps_cloud.rps("run", "--timeout", str(limit), timeout_s=limit + 60)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return execution_output(done.stdout)


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


# Run by full mlflow (the tracking server's environment, with onnxruntime), as an MLflow user would
LOAD_AND_PREDICT = """
import json, sys
import mlflow
import numpy as np
model = mlflow.pyfunc.load_model(sys.argv[1])
example = model.input_example
print(json.dumps({
    "columns": list(example.columns),
    "rows": example.to_numpy(dtype="float64", na_value=np.nan).tolist(),
    "predictions": np.asarray(model.predict(example), dtype="float64").reshape(-1).tolist(),
    "inputs": model.metadata.signature.inputs.input_names(),
}))
"""


def test_mlflow_users_load_the_champion_by_alias_and_get_what_serving_computes(rps_cloud):
    import subprocess

    import numpy as np
    from rps_core.forecasts import OnnxModel

    s3 = rps_cloud.client.client("s3")
    bucket = rps_cloud.client.physical_id("ModelBucket")
    pointer = json.loads(s3.get_object(Bucket=bucket, Key="champion/pointer.json")["Body"].read())
    name = f"rps-{pointer['target']}-{pointer['horizon_hours']}h"
    env = {
        "MLFLOW_TRACKING_URI": rps_cloud.endpoints["mlflow_tracking_uri"],
        "PATH": "/usr/bin:/bin",
        "HOME": str(rps_cloud.state_dir),
    }
    mlflow_python = rps_cloud.project_dir / ".venv-mlflow" / "bin" / "python"
    done = subprocess.run(
        [str(mlflow_python), "-c", LOAD_AND_PREDICT, f"models:/{name}@champion"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded["inputs"] == loaded["columns"] == pointer["features"]
    # the same numbers as the ONNX file serving loads from the champion pointer
    onnx_key = pointer["model_uri"].split(f"{bucket}/", 1)[1]
    served = OnnxModel(s3.get_object(Bucket=bucket, Key=onnx_key)["Body"].read())
    expected = served.predict(np.array(loaded["rows"], dtype=np.float64))
    assert len(loaded["predictions"]) == len(expected) >= 1
    assert np.allclose(loaded["predictions"], expected, atol=1e-5)
