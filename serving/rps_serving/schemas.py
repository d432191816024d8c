"""The API's request and response models (pydantic v2).

Observations use the Open-Meteo field names (``time`` + the hourly variables of ``rps_core.schema``).
A request carries exactly ``HISTORY_HOURS`` of them, the history one prediction needs; the OpenAPI
schema states it as minItems = maxItems. Values are numbers or null (a missing reading), never NaN or
Infinity, and within the physical range of their unit; unknown fields are rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from rps_core.features import HISTORY_HOURS
from typing_extensions import TypedDict

TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$"
Time = Annotated[
    str, Field(pattern=TIME_PATTERN, description="UTC hour, YYYY-MM-DDTHH:MM", examples=["2013-10-19T06:00"])
]


def _reading(low: float, high: float, unit: str) -> Any:
    # Generous physical bounds: they reject unit mistakes and keep the features' arithmetic finite.
    return Annotated[float | None, Field(ge=low, le=high, description=f"{unit}; null when missing")]


class Observation(TypedDict):
    """One hourly observation. A TypedDict, not a model: validating 169 of them is ~30% faster."""

    __pydantic_config__ = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)  # type: ignore[misc]

    time: Time
    temperature_2m: _reading(-100, 100, "°C")  # type: ignore[valid-type]
    relative_humidity_2m: _reading(0, 100, "%")  # type: ignore[valid-type]
    dew_point_2m: _reading(-100, 100, "°C")  # type: ignore[valid-type]
    precipitation: _reading(0, 1000, "mm")  # type: ignore[valid-type]
    pressure_msl: _reading(500, 1200, "hPa")  # type: ignore[valid-type]
    wind_speed_10m: _reading(0, 2000, "km/h")  # type: ignore[valid-type]
    wind_direction_10m: _reading(0, 360, "°")  # type: ignore[valid-type]


Observations = Annotated[
    list[Observation],
    Field(
        min_length=HISTORY_HOURS,
        max_length=HISTORY_HOURS,
        description=f"exactly {HISTORY_HOURS} consecutive hourly observations, oldest first",
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


def request_models(locations: Sequence[str], max_batch: int) -> tuple[type[BaseModel], type[BaseModel]]:
    """The request models for the configured locations (an enum in the schema) and batch size."""
    location_type: Any = Literal[tuple(locations)]  # type: ignore[valid-type]

    class PredictRequest(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)
        location: location_type
        observations: Observations

    class BatchRequest(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)
        items: Annotated[list[PredictRequest], Field(min_length=1, max_length=max_batch)]

    return PredictRequest, BatchRequest
