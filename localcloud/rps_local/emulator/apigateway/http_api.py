"""The local HTTP API: the template's ``HttpApi`` routes served on loopback, like ``sam local start-api``.

Each request becomes an API Gateway HTTP API payload 2.0 event (``apigw_payload``), the function is called
through an ``invoke(logical_id, event)`` callable, and its result becomes the HTTP response as API Gateway
maps it. Like ``sam local start-api``, no IAM authorization is enforced.
"""

from __future__ import annotations

import concurrent.futures
import errno
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import unquote, urlsplit

from rps_local.emulator.apigateway.payload import (
    MalformedResponseError,
    RequestData,
    build_event,
    build_response,
    gateway_error,
)
from rps_local.emulator.errors import LocalCloudError, PortInUseError

__all__ = [
    "DEFAULT_ROUTE",
    "MAX_BODY_BYTES",
    "HttpApiError",
    "HttpApiServer",
    "Invoke",
    "Route",
    "match_route",
    "routes_from_template",
]

logger = logging.getLogger(__name__)

DEFAULT_ROUTE = "$default"
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
INTEGRATION_TIMEOUT_S = 30.0  # API Gateway's (HTTP API) maximum integration timeout
_ANY_METHOD_KEYS = {"any", "x-amazon-apigateway-any-method"}
_ARN_SUB = re.compile(r"\$\{([A-Za-z0-9]+)\.Arn\}")

Invoke = Callable[[str, dict[str, Any]], Any]


class HttpApiError(LocalCloudError):
    """The local HTTP API cannot start, or the template's routes are inconsistent."""


class Route(NamedTuple):
    """One route: ``method`` (upper case, ``ANY`` for any), ``path`` (``/a/{b}``, or ``$default``)."""

    method: str
    path: str
    function: str  # the function's logical id in the template

    @property
    def key(self) -> str:
        """The route key API Gateway puts in the event: ``GET /forecast/{location}`` or ``$default``."""
        return DEFAULT_ROUTE if self.path == DEFAULT_ROUTE else f"{self.method} {self.path}"


# ---------------------------------------------------------------- routes from the template


def routes_from_template(template: Mapping[str, Any]) -> list[Route]:
    """The HTTP API routes of a SAM template or of its translation (``AWS::ApiGatewayV2::Api`` bodies)."""
    routes: dict[tuple[str, str], Route] = {}
    found = [*_sam_routes(template), *_openapi_routes(template)]
    for route in found:
        other = routes.setdefault((route.method, route.path), route)
        if other.function != route.function:
            raise HttpApiError(f"route {route.key!r} is bound to both {other.function} and {route.function}")
    return sorted(routes.values(), key=lambda r: (r.path, r.method))


def _sam_routes(template: Mapping[str, Any]) -> Iterable[Route]:
    for logical_id, resource in (template.get("Resources") or {}).items():
        if not isinstance(resource, Mapping) or resource.get("Type") != "AWS::Serverless::Function":
            continue
        events = (resource.get("Properties") or {}).get("Events") or {}
        for name, event in events.items():
            if not isinstance(event, Mapping) or event.get("Type") != "HttpApi":
                continue
            props = event.get("Properties") or {}
            path, method = props.get("Path"), props.get("Method")
            if path is None and method is None:  # SAM: neither given = the catch-all route
                yield Route("ANY", DEFAULT_ROUTE, logical_id)
            elif not isinstance(path, str) or not isinstance(method, str):
                raise HttpApiError(f"{logical_id}.Events.{name}: HttpApi needs both Path and Method")
            else:
                yield Route(_method(method), path, logical_id)


def _openapi_routes(template: Mapping[str, Any]) -> Iterable[Route]:
    for logical_id, resource in (template.get("Resources") or {}).items():
        if not isinstance(resource, Mapping) or resource.get("Type") != "AWS::ApiGatewayV2::Api":
            continue
        paths = ((resource.get("Properties") or {}).get("Body") or {}).get("paths") or {}
        for path, operations in paths.items():
            for method, operation in (operations or {}).items():
                if not isinstance(operation, Mapping):
                    continue
                integration = operation.get("x-amazon-apigateway-integration")
                if not integration:
                    continue
                function = _function_of(integration.get("uri"))
                if function is None:
                    raise HttpApiError(f"{logical_id}: cannot tell which function serves {method} {path}")
                yield Route(_method(method), path, function)


def _method(method: str) -> str:
    return "ANY" if method.lower() in _ANY_METHOD_KEYS else method.upper()


def _function_of(uri: Any) -> str | None:
    """The logical id in an integration uri: ``{"Fn::Sub": "...${Fn.Arn}..."}`` or ``{"Fn::GetAtt": ...}``."""
    if isinstance(uri, Mapping):
        if "Fn::GetAtt" in uri:
            target = uri["Fn::GetAtt"]
            return (target.split(".")[0] if isinstance(target, str) else target[0]) or None
        if "Fn::Sub" in uri:
            sub = uri["Fn::Sub"]
            uri = sub if isinstance(sub, str) else sub[0]
    if isinstance(uri, str) and (found := _ARN_SUB.search(uri)):
        return found.group(1)
    return None


# ---------------------------------------------------------------- route matching


def match_route(routes: Iterable[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The most specific route for a request, as HTTP API chooses, with its path parameters.

    API Gateway prefers a full path match, then fewer path variables, then a greedy ``{proxy+}``; for
    the same path a named method beats ``ANY``; ``$default`` catches what nothing else does.
    """
    best: tuple[tuple[int, int, int, int], Route, dict[str, str]] | None = None
    fallback: Route | None = None
    for route in routes:
        if route.path == DEFAULT_ROUTE:
            fallback = route
            continue
        if route.method not in ("ANY", method):
            continue
        params = _match_path(route.path, path)
        if params is None:
            continue
        segments = route.path.strip("/").split("/")
        greedy = int(segments[-1].endswith("+}"))
        variables = sum(s.startswith("{") for s in segments)
        rank = (greedy, variables, -len(segments), int(route.method == "ANY"))
        if best is None or rank < best[0]:
            best = (rank, route, params)
    if best is not None:
        return best[1], best[2]
    return (fallback, {}) if fallback is not None else None


def _match_path(template: str, path: str) -> dict[str, str] | None:
    wanted = template.strip("/").split("/")
    given = path.strip("/").split("/")
    params: dict[str, str] = {}
    for i, part in enumerate(wanted):
        if part.startswith("{") and part.endswith("+}"):  # greedy: one or more segments
            rest = given[i:]
            if not rest or not rest[0]:
                return None
            params[part[1:-2]] = unquote("/".join(rest))
            return params
        if i >= len(given):
            return None
        if part.startswith("{") and part.endswith("}"):
            if not given[i]:
                return None
            params[part[1:-1]] = unquote(given[i])
        elif part != unquote(given[i]):
            return None
    return params if len(given) == len(wanted) else None


# ---------------------------------------------------------------- the server


class HttpApiServer:
    """Serves ``routes`` on ``host:port`` (port 0 = a free one), calling ``invoke`` for each request.

    ``invoke(logical_id, event)`` returns the function's result, and raises when the function failed
    (an exception of ``function_errors``: 502) or could not be invoked (any other exception: 500).
    """

    def __init__(
        self,
        routes: Iterable[Route | tuple[str, str, str]],
        invoke: Invoke,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_body_bytes: int = MAX_BODY_BYTES,
        integration_timeout: float = INTEGRATION_TIMEOUT_S,
        max_concurrency: int = 16,
        function_errors: tuple[type[BaseException], ...] = (Exception,),
    ) -> None:
        self.set_routes(routes)
        self.invoke = invoke
        self.host, self.port = host, port
        self.max_body_bytes = max_body_bytes
        self.integration_timeout = integration_timeout
        # API Gateway answers 502 when the function failed, 500 when Lambda refused the invocation
        self.function_errors = function_errors
        self._max_concurrency = max_concurrency
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise HttpApiError("the HTTP API is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def routes(self) -> tuple[Route, ...]:
        return self._routes

    def set_routes(self, routes: Iterable[Route | tuple[str, str, str]]) -> None:
        """Replace the routes (after a redeploy) without restarting; requests in flight keep the old ones."""
        self._routes = tuple(Route(_method(m), p, f) for m, p, f in routes)

    def start(self) -> HttpApiServer:
        if self._httpd is not None:
            return self
        try:
            httpd = ThreadingHTTPServer((self.host, self.port), _handler_class(self))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUseError(f"{self.host}:{self.port} is already in use: the HTTP API cannot start") from exc
            raise HttpApiError(f"cannot serve the HTTP API on {self.host}:{self.port}: {exc.strerror}") from exc
        httpd.daemon_threads = True
        self._httpd, self.port = httpd, httpd.server_address[1]
        # invocations run in a pool so that a hung function cannot hold the request past the timeout
        self._pool = concurrent.futures.ThreadPoolExecutor(self._max_concurrency, "http-api-invoke")
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="http-api", daemon=True
        )
        self._thread.start()
        logger.info("HTTP API on %s with %d routes", self.url, len(self._routes))
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> HttpApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def handle(self, request: RequestData) -> tuple[int, list[tuple[str, str]], bytes]:
        """One request → (status, headers, body). Called from the request thread."""
        # matched on the raw path: an encoded '/' (%2F) stays inside its path parameter
        found = match_route(self._routes, request.method, urlsplit(request.raw_path).path)
        if found is None:
            return gateway_error(404, "Not Found")
        route, params = found
        event = build_event(request, route.key, params)
        assert self._pool is not None
        future = self._pool.submit(self.invoke, route.function, event)
        try:
            result = future.result(timeout=self.integration_timeout)
        except concurrent.futures.TimeoutError:
            logger.warning("%s timed out after %.0f s on %s", route.function, self.integration_timeout, route.key)
            return gateway_error(503, "Service Unavailable")
        except self.function_errors:
            logger.warning("%s failed on %s", route.function, route.key, exc_info=True)
            return gateway_error(502, "Internal Server Error")
        except Exception:
            logger.warning("%s could not be invoked on %s", route.function, route.key, exc_info=True)
            return gateway_error(500, "Internal Server Error")
        try:
            return build_response(result)
        except MalformedResponseError as exc:
            logger.warning("%s returned a malformed response on %s: %s", route.function, route.key, exc)
            return gateway_error(502, "Internal Server Error")


def _handler_class(server: HttpApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_RequestHandler):
        api = server

    return Handler


class _RequestHandler(BaseHTTPRequestHandler):
    api: HttpApiServer
    protocol_version = "HTTP/1.1"
    server_version = "rps-local-http-api"

    def _serve(self) -> None:
        request_id = uuid.uuid4().hex[:16]
        try:
            body = self._read_body()
        except _BodyError as exc:
            self.close_connection = True  # the unread body would be taken for the next request
            self._send(*gateway_error(exc.status, exc.message), request_id=request_id)
            return
        request = RequestData(
            method=self.command,
            raw_path=self.path,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            request_id=request_id,
            epoch_ms=int(time.time() * 1000),
            port=self.api.port,
        )
        self._send(*self.api.handle(request), request_id=request_id)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

    def _read_body(self) -> bytes:
        limit = self.api.max_body_bytes
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked(limit)
        raw_length = self.headers.get("Content-Length")
        if raw_length is None:
            return b""
        try:
            length = int(raw_length)
        except ValueError:
            raise _BodyError(400, "Bad Request") from None
        if length < 0:
            raise _BodyError(400, "Bad Request")
        if length > limit:
            raise _BodyError(413, "Request Entity Too Large")
        return self.rfile.read(length)

    def _read_chunked(self, limit: int) -> bytes:
        body = bytearray()
        while True:
            try:
                size = int(self.rfile.readline(64).split(b";")[0].strip(), 16)
            except ValueError:
                raise _BodyError(400, "Bad Request") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):  # trailers
                    pass
                return bytes(body)
            if len(body) + size > limit:
                raise _BodyError(413, "Request Entity Too Large")
            body += self.rfile.read(size)
            self.rfile.readline(8)

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes, *, request_id: str) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("apigw-requestid", request_id)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)


class _BodyError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message
