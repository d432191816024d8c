"""Train -> Register -> Forecast handlers in-process on moto's mock_aws, with a file-store MLflow: the first
model is promoted, an equal one is not, a better one replaces a weak champion, and a missing or corrupt
dataset version fails with DatasetError before anything is written."""

from __future__ import annotations

import json
from datetime import datetime

import boto3
import pytest
from rps_core.config import load_settings
from rps_core.datasets.npz import encode_observations
from rps_core.datasets.store import sha256_hex, version_prefix, write_version
from rps_core.errors import DataQualityError, DatasetError, InvalidEventError
from rps_core.registry import CHAMPION_KEY, read_champion, write_champion
from rps_core.training import model as estimator
from rps_core.training import train_and_evaluate
from rps_core.training.artifacts import candidate_document, write_candidate

from tests.support import LambdaContext, load_event, load_handler, mocked_aws
from tests.unit.model_data import FAST_PARAMS, synthetic_observations

DATA, MODELS = "rps-data-test", "rps-models-test"
pytestmark = pytest.mark.filterwarnings("ignore:Field onnx.AttributeProto:DeprecationWarning")


@pytest.fixture
def cloud(monkeypatch, tmp_path):
    env = {
        "DATA_BUCKET": DATA,
        "MODEL_BUCKET": MODELS,
        "POWERTOOLS_METRICS_NAMESPACE": "RPS",
        "LOCATIONS": "JFK:40.64:-73.78,LGA:40.78:-73.87",
        "MLFLOW_ALLOW_FILE_STORE": "true",
        "MLFLOW_TRACKING_URI": (tmp_path / "mlruns").as_uri(),
        "GIT_COMMIT": "0123abc",
    }
    for name, value in FAST_PARAMS.items():  # small trees: the steps' logic, not the model, is under test
        monkeypatch.setitem(estimator.PARAMS, name, value)
    with mocked_aws(monkeypatch, env):
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=DATA)
        client.create_bucket(Bucket=MODELS)
        yield client


@pytest.fixture
def handlers():
    return {step: load_handler(step) for step in ("train", "register", "forecast")}


def put_version(client, location: str, hours: int, seed: int) -> dict:
    obs = synthetic_observations(location, hours, seed, start="2013-08-01T00")
    npz = encode_observations(obs)
    sha = sha256_hex(npz)
    manifest = {"location": location, "version": sha, "sha256": sha, "rows": len(obs)}
    write_version(DATA, location, npz, manifest, f"# {location} profile\n", client)
    return {
        "location": location,
        "dataset_version": sha,
        "dataset_prefix": version_prefix(location, sha),
        "rows": len(obs),
        "time_start": "2013-08-01T00:00",
        "time_end": "?",
    }


def train_event(client, hours: int = 24 * 40) -> dict:
    event = load_event("train.json")
    event["datasets"] = [put_version(client, "JFK", hours, 1), put_version(client, "LGA", hours, 2)]
    event["locations"] = ["JFK", "LGA"]
    event["now"] = "2013-09-09T23:00"
    return event


def pipeline(handlers, event: dict) -> dict:
    state = dict(event)
    state["training"] = handlers["train"].lambda_handler(state, LambdaContext())
    state["registry"] = handlers["register"].lambda_handler(state, LambdaContext())
    state["forecasts"] = handlers["forecast"].lambda_handler(state, LambdaContext())
    return state


def test_sample_events_have_the_contract_shape() -> None:
    assert {"location", "dataset_version"} <= set(load_event("train.json")["datasets"][0])
    assert "candidate_key" in load_event("register.json")["training"]
    assert "promoted" in load_event("forecast.json")["registry"]


def test_first_model_is_promoted_tracked_and_forecasts(cloud, handlers, capsys) -> None:
    state = pipeline(handlers, train_event(cloud))
    training, registry, forecasts = state["training"], state["registry"], state["forecasts"]
    # Train: small JSON, per-location metrics, model files under models/{id}/
    assert training["champion"] is None
    assert set(training["challenger"]["per_location"]) == {"JFK", "LGA"}
    files = {o["Key"] for o in cloud.list_objects_v2(Bucket=MODELS, Prefix="models/")["Contents"]}
    prefix = f"models/{training['model_id']}/"
    assert {prefix + f for f in ("model.onnx", "model.joblib", "pointer.json", "profile.md", "report.md")} <= files
    # Register: promoted, pointer complete, MLflow version and alias
    assert registry["promoted"] is True
    assert registry["challenger"]["version"] == "1" and registry["champion"]["version"] == "1"
    assert {"mae", "persistence_mae", "skill", "run_id"} <= set(registry["challenger"])
    pointer = read_champion(MODELS, cloud)
    assert pointer["model_version"] == "1" and pointer["run_id"] == registry["challenger"]["run_id"]
    assert pointer["model_uri"] == f"s3://{MODELS}/{prefix}model.onnx"
    assert set(pointer["reference"]) == set(pointer["features"])
    from mlflow import MlflowClient

    mlflow = MlflowClient(load_settings().mlflow_tracking_uri)
    assert str(mlflow.get_model_version_by_alias("rps-temperature_2m-6h", "champion").version) == "1"
    run = mlflow.get_run(registry["challenger"]["run_id"])
    assert run.data.tags["mlflow.source.git.commit"] == "0123abc"
    assert run.data.params["dataset_version"] == training["dataset_version"]
    report = cloud.get_object(Bucket=MODELS, Key=registry["report_key"])["Body"].read().decode()
    assert "| JFK |" in report and "promoted to champion" in report
    # Forecast: one per location at "now", from the champion
    assert [f["location"] for f in forecasts["forecasts"]] == ["JFK", "LGA"]
    first = forecasts["forecasts"][0]
    assert first["issued_at"] == "2013-09-09T23:00" and first["target_time"] == "2013-09-10T05:00"
    assert first["model_version"] == "1"
    stored = json.loads(cloud.get_object(Bucket=DATA, Key=forecasts["keys"][0])["Body"].read())
    assert stored == first
    assert forecasts["keys"][0] == "forecasts/location=JFK/issued=2013-09-09T23:00.json"
    out = capsys.readouterr().out
    assert "ChallengerMAE" in out and "Promoted" in out and "ForecastsWritten" in out


def test_an_equal_challenger_is_not_promoted(cloud, handlers) -> None:
    event = train_event(cloud)
    pipeline(handlers, event)
    before = cloud.get_object(Bucket=MODELS, Key=CHAMPION_KEY)["Body"].read()
    # GIVEN the same data again: the challenger's MAE equals the champion's on the same rows
    state = pipeline(handlers, event)
    assert state["training"]["champion"]["mae"] == state["training"]["challenger"]["mae"]
    assert state["registry"]["promoted"] is False
    assert state["registry"]["challenger"]["version"] == "2"  # registered all the same
    assert state["registry"]["champion"]["version"] == "1"
    assert cloud.get_object(Bucket=MODELS, Key=CHAMPION_KEY)["Body"].read() == before
    assert state["forecasts"]["forecasts"][0]["model_version"] == "1"


def test_a_better_challenger_replaces_a_weak_champion(cloud, handlers) -> None:
    event = train_event(cloud)
    # GIVEN a champion of 2 boosting rounds on one location's data
    weak = train_and_evaluate(
        [synthetic_observations("JFK", 24 * 40, 1, start="2013-08-01T00")],
        "temperature_2m",
        6,
        params={**FAST_PARAMS, "max_iter": 2},
    )
    doc = candidate_document(weak, MODELS, "weak", {"JFK": "v0"}, datetime(2013, 9, 1))
    write_candidate(MODELS, weak, doc, client=cloud)
    write_champion(MODELS, {**doc, "model_version": "weak-1", "run_id": "", "promoted_at": "2013-09-01"}, cloud)
    state = pipeline(handlers, event)
    assert state["training"]["champion"]["version"] == "weak-1"
    assert state["training"]["challenger"]["mae"] < state["training"]["champion"]["mae"]
    assert state["registry"]["promoted"] is True
    assert state["registry"]["previous_champion"]["version"] == "weak-1"
    assert read_champion(MODELS, cloud)["model_version"] == state["registry"]["challenger"]["version"]


def test_margin_keeps_a_slightly_worse_champion(cloud, handlers, monkeypatch) -> None:
    event = train_event(cloud)
    pipeline(handlers, event)
    monkeypatch.setenv("PROMOTION_MARGIN", "0.5")
    event["datasets"] = [put_version(cloud, "JFK", 24 * 45, 1), put_version(cloud, "LGA", 24 * 45, 2)]
    state = pipeline(handlers, event)
    assert state["registry"]["promoted"] is False
    assert "margin 0.5" in state["registry"]["reason"]


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_bad_dataset_version_fails_clearly_and_leaves_the_champion(cloud, handlers, damage: str) -> None:
    event = train_event(cloud)
    pipeline(handlers, event)
    before = cloud.get_object(Bucket=MODELS, Key=CHAMPION_KEY)["Body"].read()
    models_before = cloud.list_objects_v2(Bucket=MODELS)["KeyCount"]
    item = event["datasets"][1]
    if damage == "missing":
        item["dataset_version"] = "0" * 64
    else:
        key = item["dataset_prefix"] + "observations.npz"
        cloud.put_object(Bucket=DATA, Key=key, Body=b"not the data")
    with pytest.raises(DatasetError, match="LGA"):
        handlers["train"].lambda_handler(event, LambdaContext())
    assert cloud.get_object(Bucket=MODELS, Key=CHAMPION_KEY)["Body"].read() == before
    assert cloud.list_objects_v2(Bucket=MODELS)["KeyCount"] == models_before


def test_bad_events_are_named(cloud, handlers) -> None:
    with pytest.raises(InvalidEventError, match="datasets"):
        handlers["train"].lambda_handler({"datasets": []}, LambdaContext())
    with pytest.raises(InvalidEventError, match="candidate_key"):
        handlers["register"].lambda_handler({"training": {}}, LambdaContext())


def test_a_champion_promoted_after_training_makes_the_comparison_stale(cloud, handlers) -> None:
    event = train_event(cloud)
    first = pipeline(handlers, event)
    state = dict(event)
    state["training"] = handlers["train"].lambda_handler(state, LambdaContext())
    # WHEN another run promotes a model between this run's Train and Register
    other = {**read_champion(MODELS, cloud), "model_version": "other-9"}
    write_champion(MODELS, other, cloud)
    registry = handlers["register"].lambda_handler(state, LambdaContext())
    # THEN this challenger is not promoted over a champion it was never compared with
    assert registry["promoted"] is False and "changed since training" in registry["reason"]
    assert read_champion(MODELS, cloud)["model_version"] == "other-9"
    assert first["registry"]["promoted"] is True


def test_train_uses_the_model_size_settings(cloud, handlers, monkeypatch) -> None:
    # GIVEN a deployment that asks for a small model (template EnsembleSize / BoostingRounds)
    monkeypatch.setenv("ENSEMBLE_SIZE", "2")
    monkeypatch.setenv("BOOSTING_ROUNDS", "7")
    # WHEN Train runs
    training = handlers["train"].lambda_handler(train_event(cloud), LambdaContext())
    # THEN the candidate records the size it was trained with, and the model has that many boosters of that size
    pointer = json.loads(cloud.get_object(Bucket=MODELS, Key=training["candidate_key"])["Body"].read())
    assert pointer["params"]["ensemble_size"] == 2 and pointer["params"]["max_iter"] == 7
    from rps_core.training.artifacts import load_sklearn

    model = load_sklearn(pointer["sklearn_uri"], cloud)
    assert len(model.estimators_) == 2 and all(m.n_iter_ == 7 for m in model.estimators_)


def test_a_quarantined_location_is_left_out_within_the_tolerated_share(cloud, handlers, monkeypatch) -> None:
    # GIVEN a run where the gate rejected LGA, and a deployment that tolerates half of the locations
    monkeypatch.setenv("TOLERATED_FAILURE_PERCENTAGE", "50")
    event = train_event(cloud)
    rejected = {"location": "LGA", "quarantined": True, "quarantine_key": "quarantine/x", "cause": "min_rows (3 < 18)"}
    event["datasets"] = [event["datasets"][0], rejected]
    # WHEN Train, Register and Forecast run
    state = pipeline(handlers, event)
    # THEN the model is trained on JFK alone, the output names the locations, and LGA gets no forecast
    assert set(state["training"]["challenger"]["per_location"]) == {"JFK"}
    assert state["training"]["locations"] == {"total": 2, "succeeded": 1, "quarantined": ["LGA"], "failed": []}
    assert [f["location"] for f in state["forecasts"]["forecasts"]] == ["JFK"]
    assert state["forecasts"]["skipped"] == [
        {"location": "LGA", "error": "DataQualityError", "message": "quarantined in this run"}
    ]


def test_above_the_tolerated_share_train_fails_before_writing(cloud, handlers, monkeypatch) -> None:
    monkeypatch.setenv("TOLERATED_FAILURE_PERCENTAGE", "10")
    event = train_event(cloud)
    event["datasets"][1] = {"location": "LGA", "quarantined": True, "quarantine_key": "q", "cause": "schema (HTML)"}
    with pytest.raises(DataQualityError, match=r"1 of 2 locations quarantined \(50.0%, tolerated 10%\).*schema"):
        handlers["train"].lambda_handler(event, LambdaContext())
    assert cloud.list_objects_v2(Bucket=MODELS, Prefix="models/").get("KeyCount", 0) == 0
