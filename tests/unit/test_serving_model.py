"""Serving's model: training/serving parity, the champion pointer, reload under concurrent requests.

Also the fixtures of the other ``test_serving_*`` modules: a tiny HistGradientBoosting model trained on
the real features of synthetic observations, exported with skl2onnx, published to moto's S3 with a
champion pointer; and ``Api``, which calls the app through the Lambda handler path (Mangum) with the
reference events of ``events/reference/``.
"""

from __future__ import annotations

import base64
import copy
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from rps_core.config import DEFAULT_LOCATIONS
from rps_core.errors import ModelError
from rps_core.features import HISTORY_HOURS, build_features, build_target, feature_names
from rps_core.forecasts import load_model, predict
from rps_core.schema import VARIABLES, Observations
from rps_core.times import format_times
from rps_core.training.reference import reference_stats
from rps_serving.app import create_app
from rps_serving.config import POINTER_KEY, ServingConfig, load_config
from rps_serving.gateway import make_adapter
from rps_serving.inputs import observation_rows, to_observations
from rps_serving.store import ModelStore

from tests.support import mocked_aws

TARGET = "temperature_2m"
HORIZON = 6
MODEL_BUCKET, DATA_BUCKET = "rps-models", "rps-data"
EVENTS = Path(__file__).resolve().parents[2] / "events"


# ---------------------------------------------------------------- data and model


def synthetic_obs(n: int = 24 * 40, seed: int = 0, location: str = "JFK", nan_share: float = 0.03) -> Observations:
    rng = np.random.default_rng(seed)
    hours = np.arange(n)
    temp = 10 + 6 * np.sin(2 * np.pi * (hours - 9) / 24) + np.cumsum(rng.normal(0, 0.3, n))
    values = {
        "temperature_2m": temp,
        "relative_humidity_2m": rng.uniform(30, 100, n),
        "dew_point_2m": temp - rng.uniform(0, 10, n),
        "precipitation": rng.exponential(0.3, n) * (rng.random(n) < 0.1),
        "pressure_msl": 1013 + np.cumsum(rng.normal(0, 0.5, n)) / 5,
        "wind_speed_10m": np.abs(rng.normal(14, 7, n)) * (rng.random(n) > 0.05),
        "wind_direction_10m": rng.uniform(0, 360, n),
    }
    for name, v in values.items():
        if name != TARGET:
            v[rng.random(n) < nan_share] = np.nan
    time = np.datetime64("2013-10-01T00", "h") + hours.astype("timedelta64[h]")
    return Observations(location, time, values, *DEFAULT_LOCATIONS.get(location, (40.64, -73.78)))


@dataclass(frozen=True)
class Trained:
    estimator: Any
    onnx: bytes
    obs: Observations
    x: np.ndarray

    def pointer(self, version: str = "1", model_id: str = "m1") -> dict[str, Any]:
        names = feature_names(TARGET)
        return {
            "model_version": version,
            "model_id": model_id,
            "run_id": f"run-{model_id}",
            "model_uri": f"s3://{MODEL_BUCKET}/models/{model_id}/model.onnx",
            "sklearn_uri": f"s3://{MODEL_BUCKET}/models/{model_id}/model.joblib",
            "target": TARGET,
            "horizon_hours": HORIZON,
            "history_hours": HISTORY_HOURS,
            "features": names,
            "reference": reference_stats(self.x[HISTORY_HOURS:], names),
            "metrics": {"mae": 1.0, "persistence_mae": 2.0, "skill": 0.5},
            "dataset_version": "abc123",
            "trained_at": "2013-10-19T00:00",
            "promoted_at": "2013-10-19T00:05",
        }


def train(obs: Observations, max_iter: int = 25) -> Trained:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.ensemble import HistGradientBoostingRegressor

    x = build_features(obs, TARGET)
    delta, _ = build_target(obs, TARGET, HORIZON)
    rows = np.arange(len(obs)) >= HISTORY_HOURS
    rows &= ~np.isnan(delta)
    est = HistGradientBoostingRegressor(loss="absolute_error", max_iter=max_iter, max_depth=4, random_state=0)
    est.fit(x[rows], delta[rows])
    onx = convert_sklearn(est, initial_types=[("X", FloatTensorType([None, x.shape[1]]))])
    return Trained(est, onx.SerializeToString(), obs, x)


@pytest.fixture(scope="session")
def trained() -> Trained:
    return train(synthetic_obs())


@pytest.fixture(scope="session")
def other_model() -> Trained:
    """A second champion: different data and size, so its predictions differ."""
    return train(synthetic_obs(seed=7), max_iter=10)


def request_rows(obs: Observations, end: int | None = None) -> list[dict[str, Any]]:
    """The API's observation records for the HISTORY_HOURS rows ending at ``end`` (exclusive)."""
    end = len(obs) if end is None else end
    return observation_rows(obs.slice(end - HISTORY_HOURS, end))


# ---------------------------------------------------------------- AWS and the app


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    env = {"POWERTOOLS_METRICS_NAMESPACE": "RPS-test", "POWERTOOLS_SERVICE_NAME": "serving"}
    with mocked_aws(monkeypatch, env):
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=MODEL_BUCKET)
        client.create_bucket(Bucket=DATA_BUCKET)
        yield client


def publish(s3: Any, model: Trained, version: str = "1", model_id: str = "m1", **changes: Any) -> dict[str, Any]:
    """Upload the ONNX file, then replace the champion pointer (one PUT), as the registry does."""
    pointer = {**model.pointer(version, model_id), **changes}
    s3.put_object(Bucket=MODEL_BUCKET, Key=f"models/{model_id}/model.onnx", Body=model.onnx)
    s3.put_object(Bucket=MODEL_BUCKET, Key=POINTER_KEY, Body=json.dumps(pointer).encode())
    return pointer


def serving_config(**env: str) -> ServingConfig:
    return load_config({"MODEL_BUCKET": MODEL_BUCKET, "DATA_BUCKET": DATA_BUCKET, "TARGET": TARGET, **env})


def reference_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / "reference" / f"{name}.json").read_text())


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


class Api:
    """Calls the app as Lambda does: an API Gateway or Function URL event through the Mangum adapter."""

    def __init__(self, adapter: Callable[[dict[str, Any], Any], dict[str, Any]]) -> None:
        self.adapter = adapter

    def event(self, method: str, path: str, body: str | None, source: str, stage: str | None) -> dict[str, Any]:
        if source == "v1":
            event = copy.deepcopy(reference_event("apiGatewayProxyEvent"))
            event.update(
                path=path,
                resource=path,
                httpMethod=method,
                body=body,
                queryStringParameters=None,
                multiValueQueryStringParameters=None,
                pathParameters=None,
            )
            event["headers"]["Content-Type"] = "application/json"
            ctx = event["requestContext"]
            ctx.update(
                httpMethod=method,
                resourcePath=path,
                stage=stage or "$default",
                path=f"/{stage}{path}" if stage else path,
            )
            return event
        name = "lambdaFunctionUrlEvent" if source == "url" else "apiGatewayProxyV2Event"
        event = copy.deepcopy(reference_event(name))
        raw = f"/{stage}{path}" if stage else path
        event.update(rawPath=raw, rawQueryString="", body=body, isBase64Encoded=False)
        event.pop("queryStringParameters", None)
        event["requestContext"]["http"].update(method=method, path=raw)
        event["requestContext"]["stage"] = stage or "$default"
        event["headers"]["content-type"] = "application/json"
        return event

    def call(
        self,
        method: str,
        path: str,
        json_body: Any = None,
        *,
        body: str | None = None,
        source: str = "v2",
        stage: str | None = None,
    ) -> Response:
        if json_body is not None:
            body = json.dumps(json_body)
        out = self.adapter(self.event(method, path, body, source, stage), None)
        text = out.get("body", "")
        if out.get("isBase64Encoded"):
            text = base64.b64decode(text).decode()
        return Response(out["statusCode"], {k.lower(): v for k, v in (out.get("headers") or {}).items()}, text)

    def get(self, path: str, **kw: Any) -> Response:
        return self.call("GET", path, **kw)

    def post(self, path: str, json_body: Any = None, **kw: Any) -> Response:
        return self.call("POST", path, json_body, **kw)


@pytest.fixture
def store(s3: Any) -> ModelStore:
    return ModelStore(MODEL_BUCKET, POINTER_KEY, check_seconds=3600, client=s3)


@pytest.fixture
def api(s3: Any, trained: Trained, store: ModelStore) -> Api:
    publish(s3, trained)
    store.refresh()
    from rps_serving.latest import LatestData

    app = create_app(serving_config(), store, LatestData(DATA_BUCKET, client=s3))
    return Api(make_adapter(app))


# ---------------------------------------------------------------- tests: parity


def test_serving_features_and_predictions_match_training(trained: Trained) -> None:
    """GIVEN the sklearn model and its ONNX export WHEN serving predicts from only the last HISTORY_HOURS
    observations THEN its features equal training's full-history rows and its predictions sklearn's."""
    model = load_model(trained.pointer(), trained.onnx)
    obs = trained.obs
    ends = list(range(HISTORY_HOURS, len(obs) + 1, 37))
    for end in ends:
        tail = obs.slice(end - HISTORY_HOURS, end)
        row = build_features(tail, TARGET)[-1]
        np.testing.assert_array_equal(row, trained.x[end - 1])  # NaN-aware, bit for bit
    served = predict(model, [obs.slice(0, end) for end in ends])
    expected = trained.estimator.predict(trained.x[[end - 1 for end in ends]])
    base = obs.values[TARGET][[end - 1 for end in ends]]
    np.testing.assert_allclose([p.value for p in served], base + expected, atol=1e-4)
    assert served[0].issued_at == format_times(obs.time[ends[0] - 1 : ends[0]])[0]


def test_observation_rows_are_what_the_api_reads_back(trained: Trained) -> None:
    part = trained.obs.slice(0, HISTORY_HOURS)
    back = to_observations(load_config().settings.location("JFK"), observation_rows(part), TARGET)
    np.testing.assert_array_equal(back.time, part.time)
    for name in VARIABLES:
        np.testing.assert_array_equal(back.values[name], part.values[name])  # NaN (null) in the same places


def test_api_prediction_equals_sklearn_on_the_same_rows(api: Api, trained: Trained) -> None:
    end = len(trained.obs) - 5
    resp = api.post("/predict", {"location": "JFK", "observations": request_rows(trained.obs, end)})
    assert resp.status == 200, resp.text
    out = resp.json()
    expected = trained.obs.values[TARGET][end - 1] + trained.estimator.predict(trained.x[end - 1 : end])[0]
    assert out["value"] == pytest.approx(expected, abs=1e-4)
    issued = np.datetime64(out["issued_at"], "h")
    assert issued == trained.obs.time[end - 1]
    assert np.datetime64(out["target_time"], "h") == issued + np.timedelta64(HORIZON, "h")
    assert out["model_version"] == "1" and out["horizon_hours"] == HORIZON and out["target"] == TARGET
    assert 0.0 <= out["ood_ratio"] <= 1.0


def test_ood_ratio_counts_features_outside_the_reference(trained: Trained) -> None:
    model = load_model(trained.pointer(), trained.onnx)
    inside = np.array([[(model.ref_min[j] + model.ref_max[j]) / 2 for j in range(len(model.features))]], np.float32)
    assert model.ood_ratio(inside)[0] == 0.0
    outside = inside.copy()
    outside[0, :10] = model.ref_max[:10] + 1
    outside[0, 10] = np.nan  # a missing feature is neither inside nor outside
    assert model.ood_ratio(outside)[0] == pytest.approx(10 / (len(model.features) - 1))


# ---------------------------------------------------------------- tests: the pointer


def test_pointer_that_this_code_cannot_serve_is_refused(trained: Trained) -> None:
    pointer = trained.pointer()
    pointer["features"] = [*pointer["features"][:-1], "snow_depth_change_3h"]
    with pytest.raises(ModelError, match="does not build the features snow_depth_change_3h"):
        load_model(pointer, trained.onnx)
    with pytest.raises(ModelError, match="history_hours"):
        load_model({**trained.pointer(), "history_hours": HISTORY_HOURS + 1}, trained.onnx)
    with pytest.raises(ModelError, match="lacks"):
        load_model({"model_version": "1"}, trained.onnx)
    with pytest.raises(ModelError, match="cannot be loaded"):
        load_model(trained.pointer(), b"not an onnx file")
    with pytest.raises(ModelError, match=f"takes {len(trained.pointer()['features'])} features"):
        load_model({**trained.pointer(), "features": trained.pointer()["features"][:10]}, trained.onnx)


def test_a_model_of_some_features_in_its_own_order_is_served(trained: Trained) -> None:
    """GIVEN a champion trained on 12 of the features, in reverse order (e.g. from before columns were
    added) WHEN serving predicts THEN it feeds the model those columns and matches sklearn."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.ensemble import HistGradientBoostingRegressor

    names = feature_names(TARGET)
    chosen = names[:12][::-1]
    cols = [names.index(f) for f in chosen]
    delta, _ = build_target(trained.obs, TARGET, HORIZON)
    rows = (np.arange(len(trained.obs)) >= HISTORY_HOURS) & ~np.isnan(delta)
    est = HistGradientBoostingRegressor(max_iter=10, random_state=0).fit(trained.x[rows][:, cols], delta[rows])
    onnx = convert_sklearn(est, initial_types=[("X", FloatTensorType([None, len(cols)]))]).SerializeToString()
    pointer = {**trained.pointer(), "features": chosen, "reference": {}}
    model = load_model(pointer, onnx)
    end = len(trained.obs)
    [served] = predict(model, [trained.obs])
    expected = trained.obs.values[TARGET][end - 1] + est.predict(trained.x[end - 1 : end, cols])[0]
    assert served.value == pytest.approx(expected, abs=1e-4)
    assert served.ood_ratio == 0.0  # no reference ranges: nothing counts as outside


def test_no_pointer_means_no_model_then_the_first_champion_loads(s3: Any, trained: Trained) -> None:
    clock = [0.0]
    store = ModelStore(MODEL_BUCKET, POINTER_KEY, check_seconds=60, client=s3, clock=lambda: clock[0])
    assert store.refresh() is False and store.current is None
    assert "does not exist" in store.status
    publish(s3, trained)
    assert not store.due()
    clock[0] += 1.0  # without a model, the pointer is looked for every second, not every minute
    assert store.due() and store.refresh() is True
    assert store.current is not None and store.current.version == "1"


def test_reload_only_after_the_interval_and_only_when_the_etag_changes(
    s3: Any, trained: Trained, other_model: Trained
) -> None:
    clock = [0.0]
    store = ModelStore(MODEL_BUCKET, POINTER_KEY, check_seconds=30, client=s3, clock=lambda: clock[0])
    publish(s3, trained)
    assert store.refresh()
    first = store.current
    publish(s3, other_model, version="2", model_id="m2")
    clock[0] += 29
    assert not store.due()
    clock[0] += 1
    assert store.due() and store.refresh() and store.current is not None
    assert store.current.version == "2" and store.current is not first
    clock[0] += 30
    assert store.refresh() is False  # same ETag: nothing loaded


def test_a_broken_new_champion_keeps_the_old_one(s3: Any, trained: Trained) -> None:
    store = ModelStore(MODEL_BUCKET, POINTER_KEY, check_seconds=0.0, client=s3)
    publish(s3, trained)
    store.refresh()
    s3.put_object(Bucket=MODEL_BUCKET, Key="models/bad/model.onnx", Body=b"garbage")
    s3.put_object(Bucket=MODEL_BUCKET, Key=POINTER_KEY, Body=json.dumps(trained.pointer("2", "bad")).encode())
    assert store.refresh() is False
    assert store.current is not None and store.current.version == "1"
    assert "still serving 1" in store.status


def test_reload_under_concurrent_requests_never_fails_a_request(
    s3: Any, trained: Trained, other_model: Trained
) -> None:
    """GIVEN requests from 4 threads WHEN the champion changes 5 times meanwhile THEN every request
    succeeds, each with one of the published versions, and the last version is served in the end."""
    publish(s3, trained)
    store = ModelStore(MODEL_BUCKET, POINTER_KEY, check_seconds=0.0, client=s3)  # check on every request
    store.refresh()
    body = {"location": "JFK", "observations": request_rows(trained.obs)}
    stop = threading.Event()
    results: list[tuple[int, str]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        api = Api(make_adapter(create_app(serving_config(), store)))  # one Lambda environment per thread
        try:
            while not stop.is_set():
                resp = api.post("/predict", body)
                results.append((resp.status, resp.json().get("model_version", resp.text)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(2, 7):
        publish(s3, other_model if i % 2 == 0 else trained, version=str(i), model_id=f"m{i}")
        threading.Event().wait(0.15)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert len(results) > 20
    assert {status for status, _ in results} == {200}
    served = {v for _, v in results}
    assert served <= {str(i) for i in range(1, 7)} and len(served) > 1  # reloads happened mid-traffic
    store.refresh()
    assert store.current is not None and store.current.version == "6"
