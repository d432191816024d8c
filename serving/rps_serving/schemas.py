"""The API's request and response models (pydantic v2).

Observations use the Open-Meteo field names (``time`` + the hourly variables of ``rps_core.schema``),
in either of two forms: columns (``{"time": [...], "temperature_2m": [...], ...}``, the shape of an
Open-Meteo ``hourly`` object and of the rest of the product: no per-row objects to build or validate) or
rows (``[{"time": ..., "temperature_2m": ..., ...}, ...]``). A request carries exactly ``HISTORY_HOURS``
of them, the history one prediction needs; the OpenAPI schema states it as minItems = maxItems. Values
are numbers or null (a missing reading), never NaN or Infinity, and within the quality gate's physical
range of their variable; unknown fields are rejected.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter, WithJsonSchema, with_config
from rps_core.features import HISTORY_HOURS
from rps_core.quality import PHYSICAL_RANGES
from rps_core.schema import UNITS, VARIABLES
from typing_extensions import TypedDict

TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$"
TIME_RE = re.compile(TIME_PATTERN)
Time = Annotated[
    str, Field(pattern=TIME_PATTERN, description="UTC hour, YYYY-MM-DDTHH:MM", examples=["2013-10-19T06:00"])
]


def _reading(name: str) -> Any:
    bound = PHYSICAL_RANGES[name]
    # The quality gate's physical ranges: outside them a reading is a fault, and the features stay finite.
    return Annotated[
        float | None, Field(ge=bound.low, le=bound.high, description=f"{UNITS[name]}, in {bound}; null when missing")
    ]


# One hourly observation: ``time`` and every variable of ``rps_core.schema``, by their API names. A
# TypedDict, not a model: validating HISTORY_HOURS of them is about 30% faster.
Observation = with_config(ConfigDict(extra="forbid", strict=True, allow_inf_nan=False))(
    TypedDict("Observation", {"time": Time, **{name: _reading(name) for name in VARIABLES}})  # type: ignore[operator]
)


def _exactly(item: Any, what: str) -> Any:
    return Annotated[list[item], Field(min_length=HISTORY_HOURS, max_length=HISTORY_HOURS, description=what)]


ObservationRows = _exactly(Observation, f"exactly {HISTORY_HOURS} consecutive hourly observations, oldest first")


def _column(documented: Any, validated: Any) -> Any:
    """A column validated as ``validated`` (its shape and types) and documented as ``documented`` (also
    its elements' pattern or range). pydantic-core checks a constraint per element, a third of the cost
    of a columns body: ``inputs.to_window`` checks the patterns and ranges of whole columns with numpy,
    with the same 422s (tests compare the two: test_serving_api's bad columns)."""
    schema = TypeAdapter(documented).json_schema()
    return Annotated[validated, Field(min_length=HISTORY_HOURS, max_length=HISTORY_HOURS), WithJsonSchema(schema)]


# The same observations as parallel arrays (Open-Meteo's ``hourly`` object): one list per field.
ObservationColumns = with_config(ConfigDict(extra="forbid", strict=True, allow_inf_nan=False))(
    TypedDict(  # type: ignore[operator]
        "ObservationColumns",
        {
            "time": _column(_exactly(Time, f"exactly {HISTORY_HOURS} consecutive UTC hours, oldest first"), list[str]),
            **{
                name: _column(_exactly(_reading(name), f"one value per time ({UNITS[name]})"), list[float | None])
                for name in VARIABLES
            },
        },
    )
)


def _form(value: Any) -> str | None:
    # An array is the rows form, an object the columns form; anything else matches neither (a 422).
    return "rows" if isinstance(value, list) else "columns" if isinstance(value, dict) else None


Observations = Annotated[
    Annotated[ObservationRows, Tag("rows")] | Annotated[ObservationColumns, Tag("columns")],  # type: ignore[valid-type]
    Discriminator(
        _form,
        custom_error_type="observations_form",
        custom_error_message="observations: an object of columns (time and every variable) or an array of rows",
    ),
]


class Forecast(BaseModel):
    location: str
    target: str = Field(description="the forecast variable, e.g. temperature_2m")
    issued_at: str = Field(description="time of the last observation used")
    target_time: str = Field(description="issued_at + horizon_hours")
    horizon_hours: int
    value: float = Field(description="the last observed value plus the predicted change")
    model_version: str
    ood_ratio: float | None = Field(None, description="share of input features outside the training reference ranges")
    # The model's calibrated prediction intervals (split-conformal, docs/model.md); null when it has none
    lower_80: float | None = Field(None, description="lower bound of the 80% prediction interval")
    upper_80: float | None = Field(None, description="upper bound of the 80% prediction interval")
    lower_95: float | None = Field(None, description="lower bound of the 95% prediction interval")
    upper_95: float | None = Field(None, description="upper bound of the 95% prediction interval")


class BatchForecast(BaseModel):
    model_version: str
    forecasts: list[Forecast]


class LatestForecast(Forecast):
    source: Literal["dataset", "batch"] = Field(
        description="dataset: computed now from the latest dataset version; batch: the pipeline's latest forecast"
    )


class ModelInfo(BaseModel):
    model_version: str
    model_id: str | None = None
    run_id: str | None = None
    target: str
    horizon_hours: int
    history_hours: int
    features: list[str]
    metrics: dict[str, Any] = Field(default_factory=dict)
    dataset_version: str | None = None
    trained_at: str | None = None
    promoted_at: str | None = None


class Health(BaseModel):
    status: Literal["ok"]
    model_loaded: bool
    model_version: str | None
    detail: str


class ErrorMessage(BaseModel):
    detail: str


class ErrorItem(BaseModel):
    loc: list[str | int] = Field(description="where: 'body', then the path into it")
    msg: str
    type: str


class ValidationErrors(BaseModel):
    """A 422: FastAPI's error shape, without echoing the input."""

    detail: list[ErrorItem]


def request_models(locations: Sequence[str], max_batch: int) -> tuple[type[BaseModel], type[BaseModel]]:
    """The request models for the configured locations (an enum in the schema) and batch size."""
    location_type: Any = Literal[tuple(locations)]

    class PredictRequest(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)
        location: location_type
        observations: Observations

    class BatchRequest(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)
        items: Annotated[list[PredictRequest], Field(min_length=1, max_length=max_batch)]

    return PredictRequest, BatchRequest
