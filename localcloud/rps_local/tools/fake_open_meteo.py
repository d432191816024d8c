"""A local fake of the Open-Meteo forecast API, serving the replay data in the real format.

``GET /v1/forecast?latitude=..&longitude=..&hourly=a,b&past_days=N[&forecast_days=M]`` or with
``start_date``/``end_date`` answers like the API: the payload of the station nearest to the coordinates,
with the requested variables, whole days in GMT (hours after the fake's "now" are served too, as the
real API serves forecasts). Errors are the API's: 400 ``{"error": true, "reason": ...}``.

Faults for tests, queued and consumed one per request (``inject`` or ``POST /_fake/faults``):
``429``, ``500``, ``timeout`` (answers after ``slow_seconds``), ``nulls`` (a variable nulled),
``malformed`` (truncated JSON), ``html`` (an HTML error page, 502 unless ``status`` is given),
``400`` (a client error with a reason).

    python -m rps_local.tools.fake_open_meteo --port 8765 --now 2013-10-19T00:00
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import json
import math
import threading
import time
from collections import deque
from datetime import UTC, date, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from rps_core.schema import UNITS
from rps_core.sources import load_embedded

FAULTS = ("429", "500", "timeout", "nulls", "malformed", "html", "400")
MAX_DISTANCE_DEG = 0.25
HTML_PAGE = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"


class BadRequest(Exception):
    """A request the real API rejects with 400 and a reason."""


class FakeOpenMeteo:
    """The fake server: ``start()`` serves on 127.0.0.1 in a background thread; ``url`` is its base URL."""

    def __init__(
        self,
        payloads: list[dict[str, Any]] | None = None,
        now: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        slow_seconds: float = 2.0,
    ) -> None:
        self.payloads = list(payloads or load_embedded())
        self.now = now or max(p["hourly"]["time"][-1] for p in self.payloads)
        self.slow_seconds = slow_seconds
        self.faults: deque[dict[str, Any]] = deque()
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), _handler_class(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeOpenMeteo:
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-open-meteo", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeOpenMeteo:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def inject(self, fault: str, times: int = 1, **options: Any) -> None:
        """Answer the next ``times`` forecast requests with ``fault`` (options: ``status``, ``variable``,
        ``reason``)."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
        with self._lock:
            self.faults.extend({"fault": fault, **options} for _ in range(times))

    def next_fault(self) -> dict[str, Any] | None:
        with self._lock:
            return self.faults.popleft() if self.faults else None

    # ------------------------------------------------------------------ the API
    def forecast(self, query: dict[str, list[str]]) -> dict[str, Any]:
        lat, lon = _coordinate(query, "latitude", 90), _coordinate(query, "longitude", 180)
        variables = [v for v in (query.get("hourly", [""])[0]).split(",") if v]
        for v in variables:
            if v not in UNITS:
                raise BadRequest(f"Cannot initialize ForecastVariable from invalid String value {v} for key hourly")
        payload = self._nearest(lat, lon)
        first, last = self._days(query)
        times = payload["hourly"]["time"]
        lo = bisect.bisect_left(times, f"{first.isoformat()}T00:00")
        hi = bisect.bisect_right(times, f"{last.isoformat()}T23:00")
        hourly = {"time": times[lo:hi], **{v: payload["hourly"][v][lo:hi] for v in variables}}
        return {
            **{k: payload[k] for k in ("latitude", "longitude", "utc_offset_seconds", "timezone")},
            "generationtime_ms": 0.05,
            "timezone_abbreviation": "GMT",
            "elevation": payload.get("elevation", 0.0),
            "hourly_units": {"time": "iso8601", **{v: UNITS[v] for v in variables}},
            "hourly": hourly,
        }

    def _nearest(self, lat: float, lon: float) -> dict[str, Any]:
        def distance(p: dict[str, Any]) -> float:
            return math.hypot(p["latitude"] - lat, p["longitude"] - lon)

        best = min(self.payloads, key=distance)
        if distance(best) > MAX_DISTANCE_DEG:
            raise BadRequest(f"No data is available for this location ({lat}, {lon})")
        return best

    def _days(self, query: dict[str, list[str]]) -> tuple[date, date]:
        if "start_date" in query or "end_date" in query:
            try:
                first = date.fromisoformat(query["start_date"][0])
                last = date.fromisoformat(query["end_date"][0])
            except (KeyError, ValueError) as exc:
                raise BadRequest("Parameter 'start_date' and 'end_date' must be set together as yyyy-mm-dd") from exc
            if last < first:
                raise BadRequest("End-date must be larger or equals than start-date")
            return first, last
        today = datetime.fromisoformat(self.now).replace(tzinfo=UTC).date()
        past, ahead = _integer(query, "past_days", 0, 92), _integer(query, "forecast_days", 7, 16)
        return today - timedelta(days=past), today + timedelta(days=max(ahead - 1, 0))


def _coordinate(query: dict[str, list[str]], name: str, limit: int) -> float:
    try:
        value = float(query[name][0])
    except (KeyError, ValueError) as exc:
        raise BadRequest(f"Parameter '{name}' is missing or not a number") from exc
    if not -limit <= value <= limit:
        raise BadRequest(f"{name.capitalize()} must be in range of -{limit} to {limit}°. Given: {value}.")
    return value


def _integer(query: dict[str, list[str]], name: str, default: int, high: int) -> int:
    try:
        value = int(query.get(name, [default])[0])
    except ValueError as exc:
        raise BadRequest(f"Parameter '{name}' must be an integer") from exc
    if not 0 <= value <= high:
        raise BadRequest(f"Parameter '{name}' must be between 0 and {high}")
    return value


def _with_nulls(payload: dict[str, Any], variable: str) -> dict[str, Any]:
    hourly = dict(payload["hourly"])
    if variable in hourly:
        hourly[variable] = [None] * len(hourly[variable])
    return {**payload, "hourly": hourly}


def _handler_class(fake: FakeOpenMeteo) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read fake.requests instead
            return

        def _send(self, status: int, body: bytes, content_type: str = "application/json; charset=utf-8") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout)
                self.wfile.write(body)

        def _json(self, status: int, value: Any) -> None:
            self._send(status, json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())

        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path != "/v1/forecast":
                self._json(404, {"error": True, "reason": f"Not found: {url.path}"})
                return
            fake.requests.append(self.path)
            fault = fake.next_fault() or {}
            kind = fault.get("fault")
            if kind in ("429", "500"):
                reason = "Too many concurrent requests" if kind == "429" else "Internal server error"
                self._json(int(kind), {"error": True, "reason": reason})
                return
            if kind == "400":
                self._json(400, {"error": True, "reason": fault.get("reason", "Invalid request (injected)")})
                return
            if kind == "html":
                self._send(int(fault.get("status", 502)), HTML_PAGE, "text/html")
                return
            try:
                payload = fake.forecast(parse_qs(url.query))
            except BadRequest as exc:
                self._json(400, {"error": True, "reason": str(exc)})
                return
            if kind == "timeout":
                time.sleep(fake.slow_seconds)
            if kind == "nulls":
                payload = _with_nulls(payload, fault.get("variable", "temperature_2m"))
            body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
            if kind == "malformed":
                body = body[: len(body) // 2]
            self._send(HTTPStatus.OK, body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                request = json.loads(self.rfile.read(length) or b"{}")
                if self.path == "/_fake/faults":
                    fake.inject(request.pop("fault"), int(request.pop("times", 1)), **request)
                elif self.path == "/_fake/now":
                    datetime.fromisoformat(request["now"])
                    fake.now = request["now"]
                else:
                    self._json(404, {"error": True, "reason": f"Not found: {self.path}"})
                    return
            except (ValueError, KeyError, TypeError) as exc:
                self._json(400, {"error": True, "reason": f"bad control request: {exc}"})
                return
            self._json(200, {"faults": len(fake.faults), "now": fake.now})

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A local fake of the Open-Meteo forecast API (replay data).")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--now", help="the fake's today, YYYY-MM-DDTHH:MM (default: the end of the data)")
    args = parser.parse_args(argv)
    fake = FakeOpenMeteo(now=args.now, port=args.port)
    print(f"fake Open-Meteo at {fake.url} (now {fake.now})", flush=True)
    try:
        fake._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fake._server.server_close()


if __name__ == "__main__":
    main()
