"""The control endpoint of a running local cloud (loopback only): what the CLI asks of the cloud
process itself, which no AWS API covers. ``GET /status``, ``POST /deploy`` (optional body
``{"parameter_overrides": {...}}``), ``POST /schedules/NAME`` (fire a schedule now).

It knows the cloud only by the three callables it answers with, so it imports nothing of the cloud's."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from rps_local.emulator.cloudformation.deployer import Deployment
from rps_local.emulator.errors import LocalCloudError

__all__ = ["ControlServer"]

logger = logging.getLogger(__name__)


class ControlServer:
    def __init__(
        self,
        *,
        status: Callable[[], dict[str, Any]],
        deploy: Callable[[dict[str, str]], Deployment],
        fire_schedule: Callable[[str], list[dict[str, Any]]],
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.status, self.deploy, self.fire_schedule = status, deploy, fire_schedule
        self._httpd = ThreadingHTTPServer((host, port), _handler(self))
        self._httpd.daemon_threads = True
        self.url = f"http://{host}:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="control", daemon=True)

    def start(self) -> ControlServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def answer(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        try:
            if method == "GET" and path == "/status":
                return 200, self.status()
            if method == "POST" and path == "/deploy":
                deployment = self.deploy(body.get("parameter_overrides") or {})
                return 200, {
                    "stack_name": deployment.stack_name,
                    "functions": deployment.functions,
                    "state_machines": deployment.state_machines,
                }
            if method == "POST" and path.startswith("/schedules/"):
                return 200, {"fired": self.fire_schedule(unquote(path.removeprefix("/schedules/")))}
        except LocalCloudError as exc:
            return 400, {"error": str(exc)}
        except Exception as exc:
            logger.exception("control request %s %s failed", method, path)
            return 500, {"error": f"{type(exc).__name__}: {exc}"}
        return 404, {"error": f"no control route {method} {path}"}


def _handler(server: ControlServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self, method: str) -> None:
            length = int(self.headers.get("content-length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}") if length else {}
            except json.JSONDecodeError:
                status, answer = 400, {"error": "the request body is not JSON"}
            else:
                status, answer = server.answer(method, self.path, body)
            data = json.dumps(answer, default=str).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug(format, *args)

    return Handler
