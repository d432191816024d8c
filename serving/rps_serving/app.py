"""The FastAPI app: routes, error handling and per-request metrics around a ``ModelStore``.

Routes are ``async def`` on purpose: a sync route runs in a thread pool, a hop that costs more than the
prediction itself. The CPU work per request is a fraction of a millisecond, so it runs on the loop.
Routes answer with ``responses.JSONBytes`` (one pydantic-core call); their decorators name the response
models for the OpenAPI document.
"""

# No ``from __future__ import annotations``: FastAPI must resolve the request models built in create_app.
import asyncio
import math
from typing import Any

from fastapi import FastAPI, Request
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from rps_core import forecasts
from rps_core.errors import DatasetError
from rps_core.forecasts import ForecastInput, LoadedModel, predict
from rps_core.forecasts.intervals import INTERVAL_FIELDS

from rps_serving import errors
from rps_serving.bodies import body_openapi, json_body
from rps_serving.config import ServingConfig
from rps_serving.errors import ModelUnavailable, NotFound
from rps_serving.inputs import InputError, to_window, to_windows
from rps_serving.latest import LatestData, usable_tail
from rps_serving.limits import BodyLimitMiddleware
from rps_serving.metrics import EmfWriter, MetricsMiddleware, make_metrics, observed
from rps_serving.responses import JSONBytes, fields
from rps_serving.schemas import (
    BatchForecast,
    ErrorMessage,
    Forecast,
    Health,
    LatestForecast,
    ModelInfo,
    ValidationErrors,
    request_models,
)
from rps_serving.store import ModelStore

DESCRIPTION = """Forecasts of an hourly weather variable a few hours ahead, from the champion model.

`POST /predict` takes a location's last observations (Open-Meteo field names) and returns the forecast
for the last observation's time plus the model's horizon. `GET /forecast/{location}` forecasts from the
latest data the pipeline ingested."""

_UNAVAILABLE: dict[int | str, dict[str, Any]] = {503: {"model": ErrorMessage, "description": "no champion model"}}
_BAD_BODY: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorMessage, "description": "malformed JSON"},
    413: {"model": ErrorMessage, "description": "request body too large"},
    415: {"model": ErrorMessage, "description": "the body is not JSON"},
    422: {"model": ValidationErrors, "description": "the body breaks the schema or the observations' time rules"},
    **_UNAVAILABLE,
}


def create_app(
    config: ServingConfig, store: ModelStore, latest: LatestData | None = None, metrics: EmfWriter | None = None
) -> FastAPI:
    predict_request, batch_request = request_models(config.locations, config.max_batch)
    latest = latest or LatestData(config.settings.data_bucket, config.check_seconds)
    # strict_content_type off: a JSON body without a Content-Type header (curl --data-binary) is still JSON.
    app = FastAPI(title="rps prediction API", version="1", description=DESCRIPTION, strict_content_type=False)
    errors.install(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=config.max_body_bytes)
    app.add_middleware(  # added last, so outermost: it also counts the 413s
        MetricsMiddleware, metrics=metrics or make_metrics(), current_version=lambda: _version(store)
    )

    async def champion() -> LoadedModel:
        if store.due():
            await asyncio.to_thread(store.refresh)
        model = store.current
        if model is None:
            raise ModelUnavailable(store.status)
        return model

    def answer(p: forecasts.Forecast, model: LoadedModel, request: Request) -> dict[str, Any]:
        if not math.isfinite(p.value):
            raise InputError(("body",), f"{p.location}: the observations give a non-finite forecast")
        observed(request.scope).record(model.version, p.value, p.ood_ratio)
        return fields(
            Forecast,
            location=p.location,
            target=model.target,
            issued_at=p.issued_at,
            target_time=p.target_time,
            horizon_hours=model.horizon_hours,
            value=p.value,
            model_version=model.version,
            ood_ratio=p.ood_ratio,
            **{name: getattr(p, name) for name in INTERVAL_FIELDS},
        )

    @app.get("/health", response_model=Health)
    async def health() -> JSONBytes:
        model = store.current
        version = model.version if model else None
        return JSONBytes(fields(Health, status="ok", model_loaded=model is not None, model_version=version,
                                detail=store.status))  # fmt: skip

    @app.get("/model", responses=_UNAVAILABLE, response_model=ModelInfo)
    async def model_info() -> JSONBytes:
        pointer = (await champion()).pointer
        info = {k: pointer.get(k) for k in ModelInfo.model_fields}
        for k in ("model_version", "model_id", "run_id", "dataset_version", "trained_at", "promoted_at"):
            info[k] = None if info[k] is None else str(info[k])
        info["metrics"] = pointer.get("metrics") or {}
        return JSONBytes(ModelInfo.model_validate(info).model_dump_json().encode())

    # Bodies are read by json_body (one pydantic-core pass); the OpenAPI document names their models.
    @app.post("/predict", responses=_BAD_BODY, openapi_extra=body_openapi(predict_request), response_model=Forecast)
    async def predict_one(request: Request) -> JSONBytes:
        body = await json_body(request, predict_request)
        model = await champion()
        place = config.settings.location(body.location)  # type: ignore[attr-defined]  # validated: configured
        window = to_window(place, body.observations, model.target)  # type: ignore[attr-defined]
        return JSONBytes(answer(predict(model, [window])[0], model, request))

    @app.post(
        "/predict/batch",
        responses=_BAD_BODY,
        openapi_extra=body_openapi(batch_request),
        response_model=BatchForecast,
    )
    async def predict_batch(request: Request) -> JSONBytes:
        body = await json_body(request, batch_request)
        model = await champion()
        items = body.items  # type: ignore[attr-defined]
        batch: list[ForecastInput] = to_windows(
            [config.settings.location(item.location) for item in items],
            [item.observations for item in items],
            model.target,
            [("body", "items", i, "observations") for i in range(len(items))],
        )
        # One feature pass and one ONNX call for the whole batch.
        answers = [answer(p, model, request) for p in predict(model, batch)]
        return JSONBytes(fields(BatchForecast, model_version=model.version, forecasts=answers))

    @app.get(
        "/forecast/{location}",
        responses={404: {"model": ErrorMessage, "description": "unknown location, or no data yet"}, **_UNAVAILABLE},
        response_model=LatestForecast,
    )
    async def forecast(location: str, request: Request) -> LatestForecast:
        if location not in config.locations:
            more = len(config.locations) - 20
            named = ", ".join(config.locations[:20]) + (f" and {more} more" if more > 0 else "")
            raise NotFound(f"unknown location {location!r}; configured: {named}")
        model = await champion()
        try:
            obs = await asyncio.to_thread(latest.observations, location)
        except DatasetError as exc:
            raise NotFound(f"{location}: the latest dataset cannot be read: {exc}") from exc
        tail = usable_tail(obs, model.target) if obs is not None else None
        if tail is not None:
            f = answer(predict(model, [tail])[0], model, request)
            return LatestForecast(**f, source="dataset")
        batch = await asyncio.to_thread(latest.batch_forecast, location)
        if batch is None:
            raise NotFound(f"{location}: no ingested data or batch forecast yet; run the pipeline first")
        return _from_batch(batch, location, model)

    add_body_schemas(app, predict_request, batch_request)
    return app


def add_body_schemas(app: FastAPI, *models: type[BaseModel]) -> None:
    """Put the request models (and the models they use) into the OpenAPI components."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()  # FastAPI caches it; adding the same definitions again changes nothing
        _, defs = models_json_schema([(m, "validation") for m in models], ref_template="#/components/schemas/{model}")
        schema.setdefault("components", {}).setdefault("schemas", {}).update(defs.get("$defs", {}))
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _version(store: ModelStore) -> str | None:
    model = store.current
    return model.version if model else None


def _bound(value: Any) -> float | None:
    """An interval bound of a batch document: null (no calibration) stays null."""
    return None if value is None else float(value)


def _from_batch(doc: dict[str, Any], location: str, model: LoadedModel) -> LatestForecast:
    """A ``rps_core.forecasts`` document; its ``base_time`` (last observation used) is our ``issued_at``."""
    try:
        return LatestForecast(
            location=location,
            target=str(doc.get("target", model.target)),
            issued_at=str(doc.get("base_time") or doc["issued_at"]),
            target_time=str(doc["target_time"]),
            horizon_hours=int(doc.get("horizon_hours", model.horizon_hours)),
            value=float(doc["value"]),
            model_version=str(doc["model_version"]),
            ood_ratio=None,
            **{name: _bound(doc.get(name)) for name in INTERVAL_FIELDS},
            source="batch",
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise NotFound(f"{location}: the latest batch forecast is unreadable: {exc}") from exc
