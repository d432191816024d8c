"""The Lambda entry point as deployed (``rps_serving.handler.lambda_handler``), built from the
environment at import, answering the sample events of ``events/serving_*.json``."""

# The fixtures come from test_serving_model; pytest passes them back as arguments of the same names.
# ruff: noqa: F811

from __future__ import annotations

import importlib
import io
import json
import logging
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from rps_core import storage

from tests.support import LambdaContext
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
    out = handler.lambda_handler(event, LambdaContext())
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
        out = module.lambda_handler(event, LambdaContext())
        assert out["statusCode"] == 503 and "no champion model yet" in out["body"]
    finally:
        storage.s3_client.cache_clear()


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """What serving's Powertools Logger writes (its handler holds the stdout of the first import), at DEBUG:
    the level that writes one line per request."""
    from rps_serving.logs import logger

    stream = io.StringIO()
    handler = logger.registered_handler
    # Swapped without setStream, which flushes the old stream: a test's captured stdout may be closed by now
    previous, handler.stream = handler.stream, stream  # type: ignore[attr-defined]
    logger.setLevel("DEBUG")
    yield stream
    logger.setLevel("INFO")
    handler.stream = previous  # type: ignore[attr-defined]


def _log_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_request_is_logged_with_api_gateways_request_id(handler: ModuleType, logs: io.StringIO) -> None:
    # GIVEN an HTTP API request with no correlation header
    event = json.loads((EVENTS / "serving_predict.json").read_text())
    # WHEN the function answers it
    out = handler.lambda_handler(event, LambdaContext(aws_request_id="lambda-req-7"))
    # THEN one JSON line says what was asked and answered, under API Gateway's request id
    (line,) = _log_lines(logs)
    assert line["level"] == "DEBUG" and line["service"] == "serving" and line["message"] == "request"
    assert (line["method"], line["path"], line["status"]) == ("POST", "/predict", out["statusCode"])
    assert line["correlation_id"] == event["requestContext"]["requestId"]
    assert line["function_request_id"] == "lambda-req-7"


@pytest.mark.parametrize("name", ["serving_predict.json", "serving_model_rest_v1.json"])
def test_the_callers_correlation_header_wins(handler: ModuleType, logs: io.StringIO, name: str) -> None:
    # GIVEN a request that carries x-correlation-id (HTTP API lowercases header names; REST API keeps them)
    event = json.loads((EVENTS / name).read_text())
    header = "x-correlation-id" if event.get("version") == "2.0" else "X-Correlation-Id"
    event["headers"] = {**(event.get("headers") or {}), header: "caller-42"}
    handler.lambda_handler(event, LambdaContext())
    # THEN the caller's id is the line's correlation id
    (line,) = _log_lines(logs)
    assert line["correlation_id"] == "caller-42"


def test_at_info_a_request_writes_no_line_and_the_librarys_lines_carry_its_id(
    handler: ModuleType, logs: io.StringIO
) -> None:
    from rps_serving.logs import logger

    # GIVEN the default level
    logger.setLevel("INFO")
    event = json.loads((EVENTS / "serving_predict.json").read_text())
    # WHEN a request is answered: no line of its own (its EMF line records it)
    handler.lambda_handler(event, LambdaContext())
    assert _log_lines(logs) == []
    # THEN what serving's modules log while it runs is Powertools' JSON with the request's correlation id
    logging.getLogger("rps_serving.store").warning("champion pointer unreadable")
    (line,) = _log_lines(logs)
    assert line["level"] == "WARNING" and line["message"] == "champion pointer unreadable"
    assert line["correlation_id"] == event["requestContext"]["requestId"]
