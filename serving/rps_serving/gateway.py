"""Mangum handlers that know the API Gateway stage, so URLs the app builds (the OpenAPI ``servers``
entry, the docs page's link to ``openapi.json``) carry the prefix the client called through.

- HTTP API v2 with a named stage: ``rawPath`` is ``/{stage}/route``; the stage becomes the ASGI
  ``root_path`` (the ``$default`` stage and Function URLs have no prefix).
- REST API v1: ``path`` is the route and ``requestContext.path`` is ``/{stage}/route``; the difference
  is the ``root_path``.
A custom domain's base path mapping (``api_gateway_base_path``) is stripped by Mangum and kept in the
``root_path`` too. As in the ASGI spec, ``path`` includes ``root_path``; Starlette routes on the rest.
"""

from __future__ import annotations

from functools import cached_property

from mangum import Mangum
from mangum.handlers import APIGateway, HTTPGateway
from mangum.types import ASGI, LambdaConfig, LambdaEvent, Scope


def _base(config: LambdaConfig) -> str:
    base = config["api_gateway_base_path"].strip("/")
    return f"/{base}" if base else ""


def _with_root(scope: Scope, root: str) -> Scope:
    if root:
        scope["root_path"] = root
        scope["path"] = root + scope["path"]
    return scope


class StageHTTPGateway(HTTPGateway):
    """HTTP API (v2 and v1 payloads) and Function URL events."""

    @cached_property
    def scope(self) -> Scope:
        event, base = self.event, _base(self.config)
        if event.get("version") != "2.0":
            return _with_root(super().scope, base + _v1_stage(event))
        stage = str(event["requestContext"].get("stage") or "$default")
        path = event["requestContext"]["http"]["path"]
        prefix = "" if stage == "$default" else f"/{stage}"
        if prefix and (path == prefix or path.startswith(prefix + "/")):
            # Mangum would route "/prod/predict": strip the stage from the event it reads.
            self.event = _v2_without_prefix(event, prefix)
        else:
            prefix = ""
        return _with_root(super().scope, base + prefix)


class StageAPIGateway(APIGateway):
    """REST API (v1) events."""

    @cached_property
    def scope(self) -> Scope:
        return _with_root(super().scope, _base(self.config) + _v1_stage(self.event))


def _v1_stage(event: LambdaEvent) -> str:
    path = event.get("path") or "/"
    full = (event.get("requestContext") or {}).get("path") or path
    if full != path and full.endswith(path):
        return full[: len(full) - len(path)].rstrip("/")
    return ""


def _v2_without_prefix(event: LambdaEvent, prefix: str) -> LambdaEvent:
    http = dict(event["requestContext"]["http"])
    http["path"] = http["path"][len(prefix) :] or "/"
    return {**event, "requestContext": {**event["requestContext"], "http": http}}


def make_adapter(app: ASGI, base_path: str = "/") -> Mangum:
    # lifespan off: Mangum would otherwise run the app's startup and shutdown on every invocation.
    return Mangum(
        app,
        lifespan="off",
        api_gateway_base_path=base_path,
        custom_handlers=[StageAPIGateway, StageHTTPGateway],
    )
