"""The serving function's settings: the shared ones (``rps_core.config``) plus its own limits."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from rps_core.config import Settings, load_settings
from rps_core.contract import CHAMPION_KEY
from rps_core.errors import ConfigurationError

POINTER_KEY = CHAMPION_KEY  # the contract's key, under the name serving's modules and tests use


@dataclass(frozen=True)
class ServingConfig:
    settings: Settings
    # How often (at most) the champion pointer's ETag is checked for a new model.
    check_seconds: float = 30.0
    # Largest request body accepted (413 above it); a full /predict body is about 30 KB.
    max_body_bytes: int = 2 * 1024 * 1024
    # Most items in one /predict/batch request.
    max_batch: int = 32
    # A custom domain's base path mapping (Mangum's api_gateway_base_path); stages are found per event.
    base_path: str = "/"

    @property
    def locations(self) -> list[str]:
        return self.settings.location_names


def _positive(env: Mapping[str, str], key: str, cast: type, default: float) -> float:
    raw = env.get(key) or ""
    if not raw:
        return default
    try:
        value = cast(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{key}: expected a {cast.__name__}, got {raw!r}") from exc
    if value <= 0:
        raise ConfigurationError(f"{key}: {value} must be positive")
    return value


def load_config(env: Mapping[str, str] | None = None) -> ServingConfig:
    """Read the settings from ``env`` (default ``os.environ``); a bad value raises ConfigurationError."""
    env = os.environ if env is None else env
    d = ServingConfig(settings=Settings())
    return ServingConfig(
        settings=load_settings(env),
        check_seconds=float(_positive(env, "MODEL_CHECK_SECONDS", float, d.check_seconds)),
        max_body_bytes=int(_positive(env, "MAX_BODY_BYTES", int, d.max_body_bytes)),
        max_batch=int(_positive(env, "MAX_BATCH", int, d.max_batch)),
        base_path=env.get("API_BASE_PATH") or d.base_path,
    )
