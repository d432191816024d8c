"""The Train step: load the dataset versions named by the Transform outputs, train the challenger, evaluate it
and the champion on the same test rows, write the model files and the candidate pointer."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import numpy as np

from rps_core.config import Settings, require
from rps_core.contract import TrainRequest
from rps_core.datasets import PROFILE, load_version, version_prefix
from rps_core.quality.tolerance import check_tolerated
from rps_core.registry.pointer import read_champion
from rps_core.training.artifacts import (
    candidate_document,
    combined_version,
    load_sklearn,
    new_model_id,
    write_candidate,
)
from rps_core.training.train import train_and_evaluate

WORST_SHOWN = 10  # locations named in the state when there are more than MANY_LOCATIONS
MANY_LOCATIONS = 20


def small_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers for the state (Step Functions payloads are limited to 256 KB).

    With many locations, the state names the worst ``WORST_SHOWN`` by MAE and the distribution over all;
    every location's metrics stay in the candidate pointer and the comparison report in S3.
    """
    keys = ("mae", "rmse", "r2", "persistence_mae", "skill")
    out = {k: metrics.get(k) for k in keys}
    per_location = {
        loc: {k: s.get(k) for k in ("mae", "persistence_mae", "skill")}
        for loc, s in metrics.get("per_location", {}).items()
    }
    if len(per_location) > MANY_LOCATIONS:
        worst = sorted(per_location, key=lambda loc: -float(per_location[loc]["mae"] or 0.0))[:WORST_SHOWN]
        out["per_location_summary"] = {
            "locations": len(per_location),
            "shown": f"the {WORST_SHOWN} with the highest MAE",
            **{k: _spread([s[k] for s in per_location.values()]) for k in ("mae", "skill")},
        }
        per_location = {loc: per_location[loc] for loc in worst}
    out["per_location"] = per_location
    return out


def _spread(values: list[Any]) -> dict[str, float]:
    numbers = np.array([float(v) for v in values if v is not None], dtype=np.float64)
    if numbers.size == 0:
        return {}
    quantiles = np.quantile(numbers, [0.0, 0.1, 0.5, 0.9, 1.0])
    return dict(zip(("min", "p10", "p50", "p90", "max"), (round(float(q), 4) for q in quantiles), strict=True))


def load_profile(bucket: str, datasets: dict[str, str], client: Any) -> str:
    from rps_core import storage

    parts = []
    for location, version in sorted(datasets.items()):
        body = storage.get_bytes(bucket, version_prefix(location, version) + PROFILE, client)
        parts.append(body.decode() if body else f"# {location}\n\n(no profile.md in version {version})\n")
    return "\n\n".join(parts)


def run_train(
    request: TrainRequest, settings: Settings, client: Any = None, now: datetime | None = None
) -> dict[str, Any]:
    data_bucket = require(settings.data_bucket, "DATA_BUCKET")
    model_bucket = require(settings.model_bucket, "MODEL_BUCKET")
    check_tolerated(request, settings.tolerated_failure_percentage)  # before any work
    datasets = request.versions
    # DatasetError (missing or corrupt version) stops here, before anything is written.
    observations = [load_version(data_bucket, loc, version, client) for loc, version in sorted(datasets.items())]
    champion_doc = read_champion(model_bucket, client)
    champion = load_sklearn(champion_doc["sklearn_uri"], client) if champion_doc else None
    result = train_and_evaluate(
        observations,
        settings.target,
        settings.horizon_hours,
        champion=champion,
        champion_doc=champion_doc,
        params=settings.model_params,
        row_budget=settings.training_row_budget,
    )
    trained_at = now or datetime.now(UTC)
    model_id = new_model_id(combined_version(datasets), trained_at)
    doc = candidate_document(result, model_bucket, model_id, datasets, trained_at)
    doc["git_commit"] = os.environ.get("GIT_COMMIT", "")
    doc["champion_evaluation"] = {
        "version": champion_doc["model_version"] if champion_doc else None,
        "metrics": result.champion_metrics,
        "note": result.champion_note,
    }
    key = write_candidate(model_bucket, result, doc, load_profile(data_bucket, datasets, client), client)
    return {
        "dataset_version": doc["dataset_version"],
        "dataset_count": len(datasets),  # the versions themselves are in the candidate document (S3)
        "model_id": model_id,
        "candidate_key": key,
        "challenger": small_metrics(result.metrics),
        "champion": (
            {"version": champion_doc["model_version"], **small_metrics(result.champion_metrics)}
            if champion_doc and result.champion_metrics
            else None
        ),
        "champion_note": result.champion_note,
        "split": result.split,
        "training_seconds": result.seconds,
        "locations": request.locations(),
    }
