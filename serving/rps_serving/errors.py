"""Client errors as 4xx answers that name the problem; nothing a client sends becomes a 500.

Validation errors keep FastAPI's shape (``{"detail": [{loc, msg, type}]}``) without echoing the input:
an input may be large, and NaN in it would make the error response itself unserializable.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from rps_serving.bodies import UnsupportedMediaType
from rps_serving.inputs import InputError


class ModelUnavailable(Exception):
    """No champion model is loaded (none promoted yet, or it cannot be loaded): 503."""


class NotFound(Exception):
    """A location or its data does not exist: 404."""


def _clean(errors: Iterable[Any]) -> list[dict[str, Any]]:
    return [
        {
            "loc": [p if isinstance(p, int) else str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in errors
    ]


async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    for e in raw:
        if e.get("type") == "json_invalid":
            reason = (e.get("ctx") or {}).get("error", "invalid JSON")
            return JSONResponse({"detail": f"malformed JSON body: {reason}"}, status_code=400)
    return JSONResponse({"detail": _clean(raw)}, status_code=422)


async def on_input_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InputError)
    return JSONResponse({"detail": exc.errors}, status_code=422)


async def on_unsupported_media_type(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=415)


async def on_model_unavailable(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "5"})


async def on_not_found(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=404)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(InputError, on_input_error)
    app.add_exception_handler(ModelUnavailable, on_model_unavailable)
    app.add_exception_handler(NotFound, on_not_found)
    app.add_exception_handler(UnsupportedMediaType, on_unsupported_media_type)
