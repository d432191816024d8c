"""Per-request CloudWatch metrics: one EMF line per request on stdout, which Lambda ships to logs.

Each line has two dimension sets, ``{model_version, service}`` and ``{service}``, and the metrics
``Requests``, ``Latency`` (ms), ``Status2xx``/``Status4xx``/``Status5xx`` (0 or 1, so Average is a rate),
and, for each forecast made, ``Prediction`` (the value) and ``OodRatio`` (the share of input features
outside the training reference ranges). The line is the one Powertools' ``Metrics`` writes (same keys,
values as lists), but formatted from fragments made once per model version: Powertools validates and
builds several dicts per flush, which cost more than the forecast. A pure ASGI middleware: no
per-request task or thread.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)
SCOPE_KEY = "rps.observed"
NO_MODEL = "none"
_COUNTERS = ("Requests", "Status2xx", "Status4xx", "Status5xx")
_FORECAST_METRICS = ("Prediction", "OodRatio")


@dataclass
class Observed:
    """What a route tells the middleware about its request."""

    model_version: str | None = None
    predictions: list[float] = field(default_factory=list)
    ood_ratios: list[float] = field(default_factory=list)

    def record(self, model_version: str, value: float, ood_ratio: float | None) -> None:
        self.model_version = model_version
        self.predictions.append(value)
        if ood_ratio is not None:
            self.ood_ratios.append(ood_ratio)


def observed(scope: Scope) -> Observed:
    """The request's record (a throwaway one when the app runs without the middleware)."""
    return scope.get(SCOPE_KEY) or Observed()


class EmfWriter:
    """Writes one request's metric set as an EMF line to ``sys.stdout`` (looked up per write, so tests'
    capture sees it)."""

    def __init__(self, namespace: str | None = None, service: str | None = None) -> None:
        self.namespace = namespace or os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "RPS"
        self.service = service or os.environ.get("POWERTOOLS_SERVICE_NAME") or "serving"
        self._heads: dict[tuple[str, bool, bool], str] = {}

    def _head(self, version: str, predictions: bool, ratios: bool) -> str:
        """Everything after the timestamp up to the first value: the metric definitions and dimensions."""
        key = (version, predictions, ratios)
        head = self._heads.get(key)
        if head is None:
            names = [("Requests", "Count"), ("Latency", "Milliseconds"), *((n, "Count") for n in _COUNTERS[1:])]
            names += [(n, "None") for n, present in zip(_FORECAST_METRICS, key[1:], strict=True) if present]
            spec = {
                "Namespace": self.namespace,
                "Dimensions": [["model_version", "service"], ["service"]],
                "Metrics": [{"Name": n, "Unit": u} for n, u in names],
            }
            dims = json.dumps({"model_version": version, "service": self.service}, separators=(",", ":"))
            head = f',"CloudWatchMetrics":[{json.dumps(spec, separators=(",", ":"))}]}},{dims[1:-1]}'
            if len(self._heads) > 64:  # model versions change rarely; keep the cache bounded anyway
                self._heads.clear()
            self._heads[key] = head
        return head

    def line(self, version: str, status: int, latency_ms: float, record: Observed) -> str:
        c = status // 100
        values = [v for v in record.predictions if math.isfinite(v)]
        ratios = [v for v in record.ood_ratios if math.isfinite(v)]
        out = [
            f'{{"_aws":{{"Timestamp":{int(time.time() * 1000)}{self._head(version, bool(values), bool(ratios))}',
            f',"Requests":[1.0],"Latency":[{float(latency_ms)!r}]',
            f',"Status2xx":[{float(c == 2)!r}],"Status4xx":[{float(c == 4)!r}],"Status5xx":[{float(c == 5)!r}]',
        ]
        if values:
            out.append(f',"Prediction":[{",".join(map(repr, values))}]')
        if ratios:
            out.append(f',"OodRatio":[{",".join(map(repr, ratios))}]')
        out.append("}\n")
        return "".join(out)

    def write(self, version: str, status: int, latency_ms: float, record: Observed) -> None:
        sys.stdout.write(self.line(version, status, latency_ms, record))


def make_metrics(namespace: str | None = None, service: str | None = None) -> EmfWriter:
    return EmfWriter(namespace, service)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: EmfWriter, current_version: Callable[[], str | None]) -> None:
        self.app, self.metrics, self.current_version = app, metrics, current_version
        self.service = metrics.service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        record = scope[SCOPE_KEY] = Observed()
        status = 500  # an exception before the response starts is a server error

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self.emit(record, status, (time.perf_counter() - start) * 1000.0)

    def emit(self, record: Observed, status: int, latency_ms: float) -> None:
        try:
            version = record.model_version or self.current_version() or NO_MODEL
            self.metrics.write(version, status, latency_ms, record)
        except Exception:  # metrics must never turn an answered request into a failure
            logger.exception("emitting metrics failed")
