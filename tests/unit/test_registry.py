"""Registry: the promotion rule, the champion pointer in S3, the comparison report and MLflow bookkeeping."""

from __future__ import annotations

import json

import pytest
from rps_core.errors import ModelError
from rps_core.registry import (
    CHAMPION_KEY,
    comparison_report,
    comparison_table,
    decide,
    read_champion,
    require_champion,
    write_champion,
)
from rps_core.registry.pointer import parse_s3_uri, validate

BUCKET = "rps-models-test"


def pointer_doc(version: str = "1", mae: float = 1.5) -> dict:
    return {
        "model_version": version,
        "model_id": f"m{version}",
        "run_id": "",
        "target": "temperature_2m",
        "model_uri": f"s3://{BUCKET}/models/m{version}/model.onnx",
        "sklearn_uri": f"s3://{BUCKET}/models/m{version}/model.joblib",
        "horizon_hours": 6,
        "history_hours": 169,
        "features": ["temperature_2m"],
        "reference": {},
        "metrics": {"mae": mae, "persistence_mae": 2.5, "skill": 1 - mae / 2.5, "per_location": {}},
        "dataset_version": "abc",
        "trained_at": "2026-01-01T00:00:00Z",
        "promoted_at": "2026-01-01T00:00:00Z",
    }


@pytest.mark.parametrize(
    ("challenger", "champion", "margin", "promote"),
    [
        (1.5, None, 0.0, True),  # nothing to beat
        (1.4, 1.5, 0.0, True),
        (1.5, 1.5, 0.0, False),  # a tie keeps the champion
        (1.6, 1.5, 0.0, False),
        (1.45, 1.5, 0.05, False),  # better, but not by the margin (needs < 1.425)
        (1.42, 1.5, 0.05, True),
    ],
)
def test_promotion_rule(challenger: float, champion: float | None, margin: float, promote: bool) -> None:
    decision = decide(challenger, champion, margin)
    assert decision.promote is promote
    assert decision.reason


def test_pointer_round_trip_and_single_put(s3) -> None:
    assert read_champion(BUCKET, s3) is None
    write_champion(BUCKET, pointer_doc("1"), s3)
    assert read_champion(BUCKET, s3)["model_version"] == "1"
    write_champion(BUCKET, pointer_doc("2"), s3)
    assert read_champion(BUCKET, s3)["model_version"] == "2"
    assert json.loads(s3.get_object(Bucket=BUCKET, Key=CHAMPION_KEY)["Body"].read())["model_id"] == "m2"


def test_missing_champion_is_a_model_error_for_serving(s3) -> None:
    with pytest.raises(ModelError, match="no champion"):
        require_champion(BUCKET, s3)


@pytest.mark.parametrize("body", [b"{not json", b"[]", json.dumps({"model_version": "1"}).encode()])
def test_corrupt_champion_pointer_is_a_model_error(s3, body: bytes) -> None:
    s3.put_object(Bucket=BUCKET, Key=CHAMPION_KEY, Body=body)
    with pytest.raises(ModelError):
        read_champion(BUCKET, s3)


def test_an_incomplete_pointer_is_never_written(s3) -> None:
    write_champion(BUCKET, pointer_doc("1"), s3)
    broken = pointer_doc("2")
    del broken["features"]
    with pytest.raises(ModelError, match="features"):
        write_champion(BUCKET, broken, s3)
    assert read_champion(BUCKET, s3)["model_version"] == "1"


def test_s3_uris() -> None:
    assert parse_s3_uri("s3://b/models/x/model.onnx") == ("b", "models/x/model.onnx")
    for bad in ("http://b/k", "s3://b", "models/x"):
        with pytest.raises(ModelError):
            parse_s3_uri(bad)
    with pytest.raises(ModelError, match="feature list"):
        validate({**pointer_doc(), "features": []})


def test_comparison_table_and_report() -> None:
    challenger = {
        "mae": 1.4,
        "persistence_mae": 2.5,
        "skill": 0.44,
        "per_location": {"JFK": {"mae": 1.3, "persistence_mae": 2.4, "skill": 0.46}},
    }
    champion = {
        "mae": 1.5,
        "persistence_mae": 2.5,
        "skill": 0.4,
        "per_location": {"JFK": {"mae": 1.35, "persistence_mae": 2.4, "skill": 0.44}},
    }
    table = comparison_table(challenger, champion)
    assert "| all | 1.400 | 1.500 | 2.500 | 0.440 | 0.400 | -0.100 |" in table
    assert "| JFK | 1.300 | 1.350 | 2.400 | 0.460 | 0.440 | -0.050 |" in table
    alone = comparison_table(challenger, None)
    assert "| all | 1.400 | n/a | 2.500 | 0.440 | n/a | n/a |" in alone
    candidate = {**pointer_doc(), "metrics": challenger, "split": {"test_rows": 10, "test_fraction": 0.2}}
    report = comparison_report(candidate, champion, "3", True, "better", "4")
    assert "version 4" in report and "promoted to champion" in report and "version 3" in report
    assert "Prediction intervals" not in report  # a challenger measured without them
    covered = {"coverage_80": 0.8, "width_80": 4.5, "coverage_95": 0.95, "width_95": 7.5}
    with_intervals = {
        **challenger,
        **covered,
        "per_location": {"JFK": {**challenger["per_location"]["JFK"], **covered}},
    }
    report = comparison_report({**candidate, "metrics": with_intervals}, champion, "3", True, "better", "4")
    assert "| all | 6 h | 80.0% | 4.50 | 95.0% | 7.50 |" in report and "| JFK | 6 h | 80.0% |" in report


def test_tracking_logs_registers_and_moves_the_alias(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    from mlflow import MlflowClient
    from rps_core.registry.tracking import start_run

    uri = (tmp_path / "mlruns").as_uri()
    candidate = {
        **pointer_doc(),
        "params": {"max_iter": 30},
        "split": {"test_rows": 10},
        "datasets": {"JFK": "v1"},
        "metrics": {"mae": 1.4, "persistence_mae": 2.5, "skill": 0.44, "per_location": {"JFK": {"mae": 1.3, "n": 5}}},
    }
    run = start_run(
        uri,
        candidate,
        {"model.onnx": b"onnx", "profile.md": b"# p"},
        git_commit="abc123",
        champion_metrics={"mae": 1.5, "per_location": {}},
    )
    assert run.register() == "1"
    run.set_alias()
    run.log_text("| table |", "comparison.md")
    run.finish(tags={"promoted": "true"})
    client = MlflowClient(uri)
    logged = client.get_run(run.run_id)
    assert logged.data.metrics["mae"] == 1.4
    assert logged.data.metrics["JFK.mae"] == 1.3
    assert logged.data.metrics["champion.mae"] == 1.5
    assert logged.data.params["dataset_version"] == "abc"
    assert logged.data.params["dataset.JFK"] == "v1"
    assert logged.data.tags["mlflow.source.git.commit"] == "abc123"
    assert {a.path for a in client.list_artifacts(run.run_id, "model")} == {"model/model.onnx", "model/profile.md"}
    assert str(client.get_model_version_by_alias(run.model_name, "champion").version) == "1"
    second = start_run(uri, candidate, {"model.onnx": b"x"})
    assert second.register() == "2"
    assert str(client.get_model_version_by_alias(run.model_name, "champion").version) == "1"


def test_a_run_with_many_locations_logs_every_metric_and_param_in_batches(tmp_path, monkeypatch) -> None:
    # MLflow refuses more than 1,000 metrics or 100 params in one batch: 300 locations give 1,200 and 300
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    from mlflow import MlflowClient
    from rps_core.registry.tracking import start_run

    uri = (tmp_path / "mlruns").as_uri()
    names = [f"L{i:03d}" for i in range(300)]
    per_location = {n: {"mae": 1.0, "persistence_mae": 2.0, "skill": 0.5, "rmse": 1.2} for n in names}
    candidate = {
        **pointer_doc(),
        "datasets": {n: f"v{n}" for n in names},
        "metrics": {"mae": 1.4, "per_location": per_location},
    }
    run = start_run(uri, candidate, {"model.onnx": b"onnx"})
    logged = MlflowClient(uri).get_run(run.run_id).data
    assert len([k for k in logged.metrics if k.startswith("L")]) == 1200
    assert logged.params["dataset.L299"] == "vL299" and logged.metrics["L299.rmse"] == 1.2


def test_the_mlmodel_file_makes_the_version_an_mlflow_onnx_and_pyfunc_model(tmp_path) -> None:
    from mlflow.models import Model
    from rps_core.registry.mlmodel import mlmodel_files

    candidate = {
        **pointer_doc(),
        "features": ["temperature_2m", "temperature_2m_change_1h"],
        "onnx_version": "1.17.0",
        "input_example": [[20.5, None], [21.0, 0.5]],
    }
    files = mlmodel_files(candidate)
    assert {"MLmodel", "input_example.json"} <= set(files)
    for name, body in files.items():
        (tmp_path / name).write_bytes(body)
    model = Model.load(str(tmp_path / "MLmodel"))
    assert model.flavors["python_function"]["loader_module"] == "mlflow.onnx"
    assert model.flavors["python_function"]["data"] == "model.onnx" == model.flavors["onnx"]["data"]
    assert model.signature.inputs.input_names() == candidate["features"]
    assert model.metadata["horizon_hours"] == 6 and model.metadata["target"] == "temperature_2m"
    example = model.load_input_example(str(tmp_path))
    assert list(example.columns) == candidate["features"] and example.shape == (2, 2)
    # without rows, no example
    assert "input_example.json" not in mlmodel_files({**candidate, "input_example": []})
