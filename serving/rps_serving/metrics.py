"""Per-request CloudWatch metrics through Powertools (EMF lines on stdout, which Lambda ships to logs).

Every request emits one EMF line, with two dimension sets: ``{model_version, service}`` and ``{service}``:
``Requests``, ``Latency`` (ms), ``Status2xx``/``Status4xx``/``Status5xx`` (0 or 1, so Average is a rate),
and, for each forecast made, ``Prediction`` (the value) and ``OodRatio`` (the share of input features
outside the training reference ranges). A pure ASGI middleware: no per-request task or thread.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)
SCOPE_KEY = "rps.observed"
NO_MODEL = "none"


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


def make_metrics(namespace: str | None = None, service: str | None = None) -> Metrics:
    # Its own provider: ``Metrics()`` instances otherwise share class-level state across the process.
    provider = AmazonCloudWatchEMFProvider(
        namespace=namespace or os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "RPS",
        service=service or os.environ.get("POWERTOOLS_SERVICE_NAME") or "serving",
    )
    return Metrics(provider=provider)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics, current_version: Callable[[], str | None]) -> None:
        self.app, self.metrics, self.current_version = app, metrics, current_version
        self.service = str(getattr(metrics.provider, "service", None) or "serving")

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
        m = self.metrics
        try:
            m.add_dimension("model_version", record.model_version or self.current_version() or NO_MODEL)
            # A second dimension set, {service} alone: alarms need fixed dimensions, and the model version
            # changes with every promotion (template.yaml's serving alarms read this one).
            m.add_dimensions(service=self.service)
            m.add_metric("Requests", "Count", 1)
            m.add_metric("Latency", "Milliseconds", latency_ms)
            status_class = status // 100
            for c in (2, 4, 5):
                m.add_metric(f"Status{c}xx", "Count", 1 if status_class == c else 0)
            for value in record.predictions:
                m.add_metric("Prediction", "None", value)
            for ratio in record.ood_ratios:
                m.add_metric("OodRatio", "None", ratio)
            m.flush_metrics()
        except Exception:  # metrics must never turn an answered request into a failure
            logger.exception("emitting metrics failed")
            m.provider.clear_metrics()  # type: ignore[attr-defined]
