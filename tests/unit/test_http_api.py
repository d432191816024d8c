"""The local HTTP API: routes from template.yaml, HTTP API v2 events, responses and API Gateway's errors."""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from rps_local.emulator.apigateway.http_api import HttpApiError, HttpApiServer, Route, match_route, routes_from_template
from rps_local.emulator.apigateway.payload import MalformedResponseError, build_response
from rps_local.emulator.errors import PortInUseError
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_V2 = ROOT / "events" / "reference" / "apiGatewayProxyV2Event.json"


def sam_template() -> dict[str, Any]:
    return yaml_parse((ROOT / "template.yaml").read_text())


class Recorder:
    """An ``invoke`` that records events and answers with a fixed result (or raises it)."""

    def __init__(self, result: Any = None) -> None:
        self.result = result
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, logical_id: str, event: dict[str, Any]) -> Any:
        self.calls.append((logical_id, event))
        if isinstance(self.result, BaseException):
            raise self.result
        if self.result is None:
            return {"statusCode": 200, "headers": {"content-type": "text/plain"}, "body": "ok"}
        return self.result


def request(
    server: HttpApiServer, method: str, target: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        conn.request(method, target, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


ROUTES = [
    Route("GET", "/health", "ServingFunction"),
    Route("GET", "/forecast/{location}", "ServingFunction"),
    Route("POST", "/predict", "ServingFunction"),
    Route("ANY", "/files/{proxy+}", "FilesFunction"),
]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def server(recorder: Recorder):
    with HttpApiServer(ROUTES, recorder) as running:
        yield running


# ---------------------------------------------------------------- routes from the template


def test_routes_from_the_sam_template() -> None:
    routes = routes_from_template(sam_template())
    assert Route("GET", "/forecast/{location}", "ServingFunction") in routes
    assert Route("POST", "/predict", "ServingFunction") in routes
    assert {r.key for r in routes} >= {"GET /health", "POST /predict/batch", "GET /model", "GET /docs"}
    assert all(r.function == "ServingFunction" for r in routes)


def test_routes_from_the_translated_template_match_the_sam_form(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the real template translated by aws-sam-translator (code locations faked as S3 URIs)
    from samtranslator.translator.transform import transform

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    template = sam_template()
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if key in props:
                props[key] = "s3://bucket/key"

    class NoPolicies:
        def load(self) -> dict[str, str]:
            return {}

    translated = transform(template, {}, NoPolicies())
    # THEN the routes read from the OpenAPI body are the ones the SAM events declare
    assert routes_from_template(translated) == routes_from_template(sam_template())


def test_catch_all_event_and_any_method() -> None:
    template = {
        "Resources": {
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Events": {
                        "All": {"Type": "HttpApi"},
                        "Any": {"Type": "HttpApi", "Properties": {"Path": "/x", "Method": "any"}},
                        "Timer": {"Type": "Schedule", "Properties": {"Schedule": "rate(1 day)"}},
                    }
                },
            },
        }
    }
    assert routes_from_template(template) == [Route("ANY", "$default", "Fn"), Route("ANY", "/x", "Fn")]
    assert Route("ANY", "$default", "Fn").key == "$default"


def test_conflicting_and_incomplete_routes_are_rejected() -> None:
    def fn(props: dict[str, str]) -> dict[str, Any]:
        return {
            "Type": "AWS::Serverless::Function",
            "Properties": {"Events": {"E": {"Type": "HttpApi", "Properties": props}}},
        }

    clash = {"Resources": {"A": fn({"Path": "/a", "Method": "GET"}), "B": fn({"Path": "/a", "Method": "get"})}}
    with pytest.raises(HttpApiError, match="GET /a"):
        routes_from_template(clash)
    with pytest.raises(HttpApiError, match="needs both Path and Method"):
        routes_from_template({"Resources": {"A": fn({"Path": "/a"})}})


# ---------------------------------------------------------------- matching


@pytest.mark.parametrize(
    ("method", "path", "expected", "params"),
    [
        ("GET", "/pets", "GET /pets", {}),
        ("POST", "/pets", "ANY /pets", {}),
        ("GET", "/pets/dog", "GET /pets/{id}", {"id": "dog"}),
        ("GET", "/pets/a%20b", "GET /pets/{id}", {"id": "a b"}),
        ("GET", "/pets/a%2Fb", "GET /pets/{id}", {"id": "a/b"}),
        ("GET", "/pets/100%2525", "GET /pets/{id}", {"id": "100%25"}),
        ("GET", "/pet%73/x/%79", "ANY /pets/{proxy+}", {"proxy": "x/y"}),
        ("GET", "/pets/dog/toys", "ANY /pets/{proxy+}", {"proxy": "dog/toys"}),
        ("GET", "/pets/special", "GET /pets/special", {}),
        ("DELETE", "/other", "$default", {}),
    ],
)
def test_most_specific_route_wins(method: str, path: str, expected: str, params: dict[str, str]) -> None:
    routes = [
        Route("ANY", "$default", "D"),
        Route("ANY", "/pets/{proxy+}", "P"),
        Route("GET", "/pets/{id}", "I"),
        Route("GET", "/pets/special", "S"),
        Route("GET", "/pets", "L"),
        Route("ANY", "/pets", "A"),
    ]
    found = match_route(routes, method, path)
    assert found is not None
    assert (found[0].key, found[1]) == (expected, params)


def test_no_route_matches() -> None:
    routes = [Route("GET", "/pets/{id}", "I")]
    assert match_route(routes, "GET", "/pets") is None
    assert match_route(routes, "GET", "/pets/1/2") is None
    assert match_route(routes, "POST", "/pets/1") is None
    assert match_route(routes, "GET", "/pets/") is None


# ---------------------------------------------------------------- events


def test_request_becomes_a_v2_event_shaped_like_the_reference(server: HttpApiServer, recorder: Recorder) -> None:
    # WHEN a request with a path parameter, a repeated query parameter, cookies and a JSON body arrives
    status, _, _ = request(
        server,
        "GET",
        "/forecast/J%20FK?x=1&x=2&y=",
        body=b'{"a": 1}',
        headers={"Content-Type": "application/json", "Cookie": "a=1; b=2", "User-Agent": "pytest", "X-Custom": "v"},
    )
    assert status == 200
    # THEN the function gets the HTTP API v2 event
    function, event = recorder.calls[0]
    assert function == "ServingFunction"
    reference = json.loads(REFERENCE_V2.read_text())
    optional = {"stageVariables"}  # API Gateway sends it only when the stage has variables
    assert set(reference) - optional <= set(event)
    assert set(reference["requestContext"]) - {"authentication", "authorizer"} <= set(event["requestContext"])
    assert event["version"] == "2.0"
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "GET /forecast/{location}"
    assert event["rawPath"] == "/forecast/J%20FK"
    assert event["rawQueryString"] == "x=1&x=2&y="
    assert event["queryStringParameters"] == {"x": "1,2", "y": ""}
    assert event["pathParameters"] == {"location": "J FK"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-custom"] == "v"
    assert event["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert event["body"] == '{"a": 1}' and event["isBase64Encoded"] is False
    http_context = event["requestContext"]["http"]
    assert http_context == {
        "method": "GET",
        "path": "/forecast/J FK",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "pytest",
    }
    assert event["requestContext"]["stage"] == "$default"
    assert abs(event["requestContext"]["timeEpoch"] / 1000 - time.time()) < 60
    time.strptime(event["requestContext"]["time"], "%d/%b/%Y:%H:%M:%S +0000")


def test_binary_body_is_base64_and_empty_parts_are_left_out(server: HttpApiServer, recorder: Recorder) -> None:
    payload = bytes(range(256))
    request(server, "POST", "/predict", body=payload, headers={"Content-Type": "application/octet-stream"})
    request(server, "GET", "/health")
    binary, empty = recorder.calls[0][1], recorder.calls[1][1]
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == payload
    assert not {"body", "cookies", "queryStringParameters", "pathParameters"} & set(empty)
    assert empty["rawQueryString"] == ""


def test_chunked_body_is_read(server: HttpApiServer, recorder: Recorder) -> None:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    conn.request(
        "POST",
        "/predict",
        body=iter([b'{"a":', b" 1}"]),
        headers={"Content-Type": "application/json"},
        encode_chunked=True,
    )
    assert conn.getresponse().status == 200
    conn.close()
    assert recorder.calls[0][1]["body"] == '{"a": 1}'


@pytest.mark.filterwarnings("ignore:There is no current event loop:DeprecationWarning")
def test_mangum_fastapi_app_answers_through_the_api() -> None:
    # GIVEN a real Mangum(FastAPI) handler behind the local API, as the serving function is
    from fastapi import FastAPI
    from mangum import Mangum

    app = FastAPI()

    @app.get("/forecast/{location}")
    async def forecast(location: str, hours: int = 6) -> dict[str, Any]:
        return {"location": location, "hours": hours}

    @app.post("/predict")
    async def predict(body: dict[str, float]) -> dict[str, float]:
        return {"sum": sum(body.values())}

    handler = Mangum(app, lifespan="off")

    def invoke(_fn: str, event: dict[str, Any]) -> dict[str, Any]:
        asyncio.set_event_loop(asyncio.new_event_loop())  # Lambda runs handlers on a thread with a loop
        return handler(event, None)  # type: ignore[arg-type]

    with HttpApiServer(ROUTES, invoke) as api:
        status, headers, body = request(api, "GET", "/forecast/JFK?hours=3")
        assert (status, json.loads(body)) == (200, {"location": "JFK", "hours": 3})
        assert headers["content-type"] == "application/json"
        status, _, body = request(
            api, "POST", "/predict", body=b'{"a": 1.5, "b": 2}', headers={"Content-Type": "application/json"}
        )
        assert (status, json.loads(body)) == (200, {"sum": 3.5})
        status, _, body = request(
            api, "POST", "/predict", body=b"not json", headers={"Content-Type": "application/json"}
        )
        assert status == 422


# ---------------------------------------------------------------- responses


def test_proxy_response_becomes_the_http_response() -> None:
    recorder = Recorder(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "image/png", "X-Count": 3, "X-Flag": True},
            "multiValueHeaders": {"X-Multi": ["a", "b"]},
            "cookies": ["s=1; Path=/", "t=2"],
            "body": base64.b64encode(b"\x89PNG\x00").decode(),
            "isBase64Encoded": True,
        }
    )
    with HttpApiServer(ROUTES, recorder) as api:
        status, headers, body = request(api, "GET", "/health")
    assert (status, body) == (201, b"\x89PNG\x00")
    assert headers["content-type"] == "image/png"
    assert (headers["x-count"], headers["x-flag"]) == ("3", "true")
    assert headers.get_all("x-multi") == ["a", "b"]
    assert headers.get_all("set-cookie") == ["s=1; Path=/", "t=2"]
    assert headers["apigw-requestid"]


@pytest.mark.parametrize("result", [{"a": 1}, "hello", [1, 2], 3.5, None])
def test_a_result_without_status_code_is_200_json(result: Any) -> None:
    status, headers, body = build_response(result)
    assert (status, dict(headers)["Content-Type"], json.loads(body)) == (200, "application/json", result)


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": "200"},
        {"statusCode": True},
        {"statusCode": 99},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "headers": {"x": {"nested": 1}}},
        {"statusCode": 200, "headers": {"x": "a\r\nInjected: 1"}},
        {"statusCode": 200, "headers": ["x"]},
        {"statusCode": 200, "multiValueHeaders": {"x": "a"}},
        {"statusCode": 200, "cookies": "a=1"},
        {"statusCode": 200, "body": "%%%", "isBase64Encoded": True},
    ],
)
def test_malformed_proxy_responses_are_rejected(result: dict[str, Any]) -> None:
    with pytest.raises(MalformedResponseError):
        build_response(result)


# ---------------------------------------------------------------- API Gateway's own errors


def test_unknown_route_is_404_and_function_not_called(server: HttpApiServer, recorder: Recorder) -> None:
    for method, target in [("GET", "/nope"), ("DELETE", "/health"), ("GET", "/forecast/")]:
        status, headers, body = request(server, method, target)
        assert (status, json.loads(body)) == (404, {"message": "Not Found"})
        assert headers["content-type"] == "application/json"
    assert recorder.calls == []


def test_function_error_is_502() -> None:
    with HttpApiServer(ROUTES, Recorder(RuntimeError("boom"))) as api:
        status, _, body = request(api, "GET", "/health")
    assert (status, json.loads(body)) == (502, {"message": "Internal Server Error"})


class FunctionFailed(Exception):
    pass


def test_function_error_is_502_and_a_refused_invocation_500() -> None:
    with HttpApiServer(ROUTES, Recorder(FunctionFailed("boom")), function_errors=(FunctionFailed,)) as api:
        assert request(api, "GET", "/health")[0] == 502
    with HttpApiServer(ROUTES, Recorder(ConnectionError("no Lambda")), function_errors=(FunctionFailed,)) as api:
        status, _, body = request(api, "GET", "/health")
    assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})


def test_malformed_response_is_502() -> None:
    with HttpApiServer(ROUTES, Recorder({"statusCode": "nope"})) as api:
        status, _, body = request(api, "GET", "/health")
    assert (status, json.loads(body)) == (502, {"message": "Internal Server Error"})


def test_slow_function_is_503_after_the_integration_timeout() -> None:
    release = threading.Event()

    def slow(_fn: str, _event: dict[str, Any]) -> dict[str, Any]:
        release.wait(5)
        return {"statusCode": 200}

    with HttpApiServer(ROUTES, slow, integration_timeout=0.2) as api:
        started = time.monotonic()
        status, _, body = request(api, "GET", "/health")
        release.set()
    assert (status, json.loads(body)) == (503, {"message": "Service Unavailable"})
    assert time.monotonic() - started < 3


def test_body_over_the_limit_is_413_and_not_invoked(recorder: Recorder) -> None:
    with HttpApiServer(ROUTES, recorder, max_body_bytes=1000) as api:
        status, _, body = request(api, "POST", "/predict", body=b"x" * 1001)
        assert (status, json.loads(body)) == (413, {"message": "Request Entity Too Large"})
        conn = http.client.HTTPConnection(api.host, api.port, timeout=10)
        conn.request("POST", "/predict", body=iter([b"x" * 600, b"y" * 600]), encode_chunked=True)
        assert conn.getresponse().status == 413
        conn.close()
        assert request(api, "POST", "/predict", body=b"x" * 1000)[0] == 200
    assert len(recorder.calls) == 1


def test_bad_content_length_is_400(server: HttpApiServer, recorder: Recorder) -> None:
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n")
        reply = sock.recv(4096)
    assert reply.startswith(b"HTTP/1.1 400")
    assert recorder.calls == []


def test_head_has_no_body(server: HttpApiServer) -> None:
    routes = [Route("HEAD", "/health", "ServingFunction")]
    server.set_routes(routes)
    status, headers, body = request(server, "HEAD", "/health")
    assert (status, body) == (200, b"")
    assert headers["content-length"] == "2"


def test_routes_can_be_replaced_while_serving(server: HttpApiServer) -> None:
    assert request(server, "GET", "/new")[0] == 404
    server.set_routes([("get", "/new", "NewFunction")])
    assert server.routes == (Route("GET", "/new", "NewFunction"),)
    assert request(server, "GET", "/new")[0] == 200
    assert request(server, "GET", "/health")[0] == 404


def test_port_in_use_is_a_clear_error(server: HttpApiServer) -> None:
    with pytest.raises(PortInUseError, match=f"127.0.0.1:{server.port} is already in use"):
        HttpApiServer(ROUTES, Recorder(), port=server.port).start()


def test_url_before_start_and_stop_twice() -> None:
    api = HttpApiServer(ROUTES, Recorder())
    with pytest.raises(HttpApiError, match="not started"):
        _ = api.url
    api.start()
    assert api.url == f"http://127.0.0.1:{api.port}" and api.port > 0
    api.stop()
    api.stop()
    with pytest.raises(ConnectionError):
        request(api, "GET", "/health")
