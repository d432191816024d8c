"""API Gateway HTTP API payload format 2.0: an HTTP request → the Lambda event, the Lambda result → HTTP.

Pure functions with no server, so they are tested on their own; ``http_api`` does the serving.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = [
    "LOCAL_ACCOUNT_ID",
    "LOCAL_API_ID",
    "MalformedResponseError",
    "RequestData",
    "build_event",
    "build_response",
    "gateway_error",
]

LOCAL_ACCOUNT_ID = "123456789012"  # moto's default account
LOCAL_API_ID = "local"
_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/javascript",
    "application/xml",
    "application/yaml",
    "application/x-www-form-urlencoded",
    "+json",
    "+xml",
)
_HeaderList = list[tuple[str, str]]


class MalformedResponseError(ValueError):
    """The function's result is not a valid proxy response: API Gateway answers 502."""


@dataclass(frozen=True)
class RequestData:
    """What the HTTP server read: the request line, headers in arrival order, the whole body."""

    method: str
    raw_path: str  # the request target as sent: path and query, percent-encoded
    headers: _HeaderList
    body: bytes
    source_ip: str
    request_id: str
    epoch_ms: int
    port: int = 80


def build_event(request: RequestData, route_key: str, path_parameters: Mapping[str, str]) -> dict[str, Any]:
    """The HTTP API (payload 2.0) event API Gateway would send for ``request`` on route ``route_key``."""
    target = urlsplit(request.raw_path)
    raw_path = target.path or "/"
    headers = _event_headers(request)
    cookies = [c.strip() for c in headers.pop("cookie", "").split(";") if c.strip()]
    host = headers.get("host", "localhost").rsplit(":", 1)[0]
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": target.query,
        "headers": headers,
        "requestContext": {
            "accountId": LOCAL_ACCOUNT_ID,
            "apiId": LOCAL_API_ID,
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": request.method,
                "path": unquote(raw_path),
                "protocol": "HTTP/1.1",
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request.request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(request.epoch_ms / 1000)),
            "timeEpoch": request.epoch_ms,
        },
        "isBase64Encoded": False,
    }
    # API Gateway leaves out the keys that would be empty
    if cookies:
        event["cookies"] = cookies
    if query := _query_parameters(target.query):
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if request.body:
        if _is_text(headers.get("content-type")) and (text := _utf8(request.body)) is not None:
            event["body"] = text
        else:
            event["body"] = base64.b64encode(request.body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


def _event_headers(request: RequestData) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in request.headers:
        key = name.lower()
        headers[key] = f"{headers[key]},{value}" if key in headers else value  # repeats joined, as HTTP API does
    forwarded = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{forwarded}, {request.source_ip}" if forwarded else request.source_ip
    headers["x-forwarded-port"] = str(request.port)
    headers["x-forwarded-proto"] = "http"
    return headers


def _query_parameters(raw_query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        params[name] = f"{params[name]},{value}" if name in params else value
    return params


def _is_text(content_type: str | None) -> bool:
    if content_type is None:
        return True
    media = content_type.split(";")[0].strip().lower()
    return any(media.startswith(t) or media.endswith(t) for t in _TEXT_TYPES)


def _utf8(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def build_response(result: Any) -> tuple[int, _HeaderList, bytes]:
    """The HTTP response API Gateway makes of a function's result (payload 2.0).

    A dict with ``statusCode`` is a proxy response; anything else is taken, as HTTP API does, for the
    body of a 200 ``application/json`` response.
    """
    if not (isinstance(result, Mapping) and "statusCode" in result):
        return 200, [("Content-Type", "application/json")], json.dumps(result).encode()
    status = result["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise MalformedResponseError(f"statusCode must be an integer HTTP status, got {status!r}")
    headers: _HeaderList = []
    for name, value in _mapping(result, "headers").items():
        headers.append((str(name), _header_value(name, value)))
    for name, values in _mapping(result, "multiValueHeaders").items():
        if not isinstance(values, list):
            raise MalformedResponseError(f"multiValueHeaders[{name!r}] must be a list")
        headers.extend((str(name), _header_value(name, v)) for v in values)
    cookies = result.get("cookies") or []
    if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
        raise MalformedResponseError("cookies must be a list of strings")
    headers.extend(("Set-Cookie", c) for c in cookies)
    return status, headers, _body(result)


def _mapping(result: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = result.get(key) or {}
    if not isinstance(value, Mapping):
        raise MalformedResponseError(f"{key} must be an object")
    return value


def _header_value(name: object, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        text = str(value)
        if "\n" in text or "\r" in text:
            raise MalformedResponseError(f"header {name!r} holds a line break")
        return text
    raise MalformedResponseError(f"header {name!r} must be a string or a number")


def _body(result: Mapping[str, Any]) -> bytes:
    body = result.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise MalformedResponseError(f"body must be a string, got {type(body).__name__}")
    if result.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedResponseError(f"body is not valid base64: {exc}") from exc
    return body.encode("utf-8")


def gateway_error(status: int, message: str) -> tuple[int, _HeaderList, bytes]:
    """An error API Gateway answers itself, e.g. 404 ``{"message":"Not Found"}``."""
    body = json.dumps({"message": message}, separators=(",", ":")).encode()  # compact, as API Gateway sends it
    return status, [("Content-Type", "application/json")], body
