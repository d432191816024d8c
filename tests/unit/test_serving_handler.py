"""The Lambda entry point as deployed (``rps_serving.handler.lambda_handler``), built from the
environment at import, answering the sample events of ``events/serving_*.json``."""

# The fixtures come from test_serving_model; pytest passes them back as arguments of the same names.
# ruff: noqa: F811

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from rps_core import storage

from tests.unit.test_serving_model import (  # noqa: F401 - fixtures
    DATA_BUCKET,
    EVENTS,
    MODEL_BUCKET,
    TARGET,
    Trained,
    publish,
    s3,
    trained,
)

SAMPLES = sorted(p.name for p in EVENTS.glob("serving_*.json"))


@pytest.fixture
def handler(s3: Any, trained: Trained, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    for key, value in {"MODEL_BUCKET": MODEL_BUCKET, "DATA_BUCKET": DATA_BUCKET, "TARGET": TARGET}.items():
        monkeypatch.setenv(key, value)
    publish(s3, trained)
    storage.s3_client.cache_clear()  # the process's client must be made inside moto's mock
    import rps_serving.handler as module

    yield importlib.reload(module)  # a cold start: settings, app and model built at import
    storage.s3_client.cache_clear()


def test_the_samples_cover_every_route_and_event_source() -> None:
    assert len(SAMPLES) >= 6
    events = [json.loads((EVENTS / name).read_text()) for name in SAMPLES]
    assert {"1.0", "2.0"} <= {e.get("version") for e in events}
    assert any("lambda-url" in e["requestContext"].get("domainName", "") for e in events)


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_events_are_answered(handler: ModuleType, name: str) -> None:
    event = json.loads((EVENTS / name).read_text())
    out = handler.lambda_handler(event, None)
    body = json.loads(out["body"])
    if name == "serving_forecast.json":  # no dataset in this bucket yet: a 404 that says so
        assert out["statusCode"] == 404 and "run the pipeline" in body["detail"]
        return
    assert out["statusCode"] == 200, body
    if "predict" in name:
        forecasts = body.get("forecasts", [body])
        assert all(f["model_version"] == "1" and f["target_time"] == "2013-10-19T06:00" for f in forecasts)
    if name == "serving_openapi_stage.json":
        assert body["servers"] == [{"url": "/prod"}]


def test_cold_start_without_a_champion_serves_503(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_BUCKET", MODEL_BUCKET)
    storage.s3_client.cache_clear()
    import rps_serving.handler as module

    module = importlib.reload(module)
    try:
        event = json.loads((EVENTS / "serving_predict.json").read_text())
        out = module.lambda_handler(event, None)
        assert out["statusCode"] == 503 and "no champion model yet" in out["body"]
    finally:
        storage.s3_client.cache_clear()
