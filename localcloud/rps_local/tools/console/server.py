"""The console's HTTP server (loopback, read-only, GET only), on its own port and thread in the cloud's process.

Routes: ``/`` (executions), ``/executions/NAME``, ``/models``, ``/forecasts``, ``/quality``,
``/metrics?period=1h|24h|7d``, ``/drift``; JSON for scripts and the live page: ``/api/executions``,
``/api/executions/NAME`` (``{"status", "html"}``). Every answer carries a Content-Security-Policy that
allows nothing but the console itself, so a page cannot reach outside the local cloud even by mistake.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from rps_local.tools.console import pages
from rps_local.tools.console.source import ConsoleSource

__all__ = ["CSP", "ConsoleServer"]

logger = logging.getLogger(__name__)

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


WARM_EVERY_S = 2.0


class ConsoleServer:
    """``source`` is made on the first request: the cloud's endpoints are known only once it has started."""

    def __init__(self, source: Callable[[], ConsoleSource], host: str = "127.0.0.1", port: int = 0) -> None:
        self._make_source = source
        self._source: ConsoleSource | None = None
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), _handler(self))
        self._httpd.daemon_threads = True
        self.url = f"http://{host}:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="console", daemon=True)
        self._stopped = threading.Event()

    def start(self) -> ConsoleServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def source(self) -> ConsoleSource:
        with self._lock:
            if self._source is None:
                self._source = self._make_source()
            return self._source

    def warm(self, every_s: float = WARM_EVERY_S) -> None:
        """Keep the first page's caches filled off the request path: the boto3 clients, the stack, and every
        new execution's input (its trigger), one ListExecutions every ``every_s`` while the server runs."""
        threading.Thread(target=self._warm, args=(every_s,), name="console-warm", daemon=True).start()

    def _warm(self, every_s: float) -> None:
        try:
            source = self.source
            for service in ("stepfunctions", "s3", "cloudwatch"):
                source.aws(service)  # making a boto3 client takes tens of milliseconds
        except Exception:
            logger.debug("console warm-up failed", exc_info=True)
            return
        while not self._stopped.is_set():
            try:
                source.resources()
                pages.executions(source)  # ended executions are described once, then kept
            except Exception:  # a cache left cold only makes the next page slower
                logger.debug("console warm-up failed", exc_info=True)
            self._stopped.wait(every_s)

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, str, str]:
        """(status, content type, body) for a GET of ``path``."""
        source = self.source
        name = unquote(path.rsplit("/", 1)[-1])
        if path in ("/", "/executions"):
            return 200, "text/html", pages.executions(source)
        if path.startswith("/executions/"):
            found = pages.execution(source, name)
            return (200, "text/html", found) if found else (404, "text/html", pages.not_found(path))
        if path == "/api/executions":
            return 200, "application/json", json.dumps(pages.executions_json(source), default=str)
        if path.startswith("/api/executions/"):
            live = pages.execution_json(source, name)
            return (200, "application/json", json.dumps(live)) if live else (404, "application/json", "{}")
        simple = {
            "/models": pages.models,
            "/forecasts": pages.forecasts,
            "/quality": pages.quality,
            "/drift": pages.drift,
        }
        if path in simple:
            return 200, "text/html", simple[path](source)
        if path == "/metrics":
            return 200, "text/html", pages.metrics(source, (query.get("period") or ["24h"])[0])
        return 404, "text/html", pages.not_found(path)


def _handler(server: ConsoleServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            started = time.perf_counter()
            parts = urlsplit(self.path)
            if parts.path == "/favicon.ico":
                status, kind, body = 204, "text/plain", ""
            else:
                try:
                    status, kind, body = server.answer(parts.path, parse_qs(parts.query))
                except Exception as exc:  # one broken page must not take the console down
                    logger.exception("console page %s failed", parts.path)
                    status, kind, body = 500, "text/html", pages.failed(parts.path, exc)
            data = body.encode()
            self.send_response(status)
            self.send_header("content-type", f"{kind}; charset=utf-8")
            self.send_header("content-length", str(len(data)))
            self.send_header("content-security-policy", CSP)
            self.send_header("cache-control", "no-store")
            self.send_header("server-timing", f"app;dur={(time.perf_counter() - started) * 1000:.1f}")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug(format, *args)

    return Handler
