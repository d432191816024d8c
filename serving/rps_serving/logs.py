"""Serving's logs: Powertools Logger's JSON lines, as the other functions write, each with the Lambda context
and the request's correlation id (the caller's ``x-correlation-id`` header, else API Gateway's request id);
the library's own loggers (``rps_serving.*``: the champion's loads, refresh and metrics failures) write
through it too.

Each request is one DEBUG line (method, path, status), written only with ``POWERTOOLS_LOG_LEVEL=DEBUG``: at
the default INFO a request writes no log line of its own, since its EMF line (``metrics``) already records
it (status, latency, model version) and a second JSON line per request would cost more than the forecast.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

logger = Logger(service="serving")
copy_config_to_registered_loggers(source_logger=logger, include={"rps_serving"})


def set_correlation_id(event: dict[str, Any]) -> None:
    """The caller's ``x-correlation-id`` header, else API Gateway's request id, on every line from now on.

    Two dict lookups, not ``inject_lambda_context(correlation_id_path=...)``: its JMESPath expression
    (``headers."x-correlation-id" || requestContext.requestId``) costs 7 µs a request here, 0.1 µs this way.
    HTTP API v2 lowercases header names; REST API v1 passes them as the client sent them.
    """
    headers = event.get("headers") or {}
    request_id = (event.get("requestContext") or {}).get("requestId")
    logger.set_correlation_id(headers.get("x-correlation-id") or headers.get("X-Correlation-Id") or request_id)


def log_request(event: dict[str, Any], response: dict[str, Any]) -> None:
    """The request's DEBUG line: what was asked (v2 or v1 event) and the status answered."""
    http = (event.get("requestContext") or {}).get("http") or {}
    method = http.get("method") or event.get("httpMethod")
    path = event.get("rawPath") or event.get("path")
    logger.debug("request", extra={"method": method, "path": path, "status": response.get("statusCode")})
