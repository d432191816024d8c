"""Model files in the model bucket: ``models/{model_id}/`` holds model.onnx (served), model.joblib
(scikit-learn, to evaluate this model later as the champion), profile.md (the data it was trained on) and
pointer.json (the candidate: everything a champion pointer needs except the registry's version)."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime
from typing import Any

from rps_core import storage
from rps_core.errors import ModelError
from rps_core.registry.pointer import (
    ONNX_FILE,
    POINTER_FILE,
    PROFILE_FILE,
    SKLEARN_FILE,
    model_prefix,
    read_model_bytes,
    s3_uri,
)
from rps_core.times import timestamp
from rps_core.training.train import TrainingResult


def combined_version(datasets: dict[str, str]) -> str:
    """One name for the pooled dataset: the sha256 of the sorted per-location versions."""
    text = "\n".join(f"{loc}={version}" for loc, version in sorted(datasets.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def new_model_id(dataset_version: str, trained_at: datetime) -> str:
    return f"{trained_at:%Y%m%dT%H%M%S}-{dataset_version[:12]}"


def candidate_document(
    result: TrainingResult, bucket: str, model_id: str, datasets: dict[str, str], trained_at: datetime
) -> dict[str, Any]:
    prefix = model_prefix(model_id)
    return {
        "model_id": model_id,
        "model_uri": s3_uri(bucket, prefix + ONNX_FILE),
        "sklearn_uri": s3_uri(bucket, prefix + SKLEARN_FILE),
        "target": result.target,
        "horizon_hours": result.horizon,
        "history_hours": result.history_hours,
        "features": result.features,
        "reference": result.reference,
        "metrics": result.metrics,
        "dataset_version": combined_version(datasets),
        "datasets": dict(sorted(datasets.items())),
        "trained_at": timestamp(trained_at),
        "params": result.params,
        "split": result.split,
        "onnx_max_abs_diff": result.onnx_max_abs_diff,
        "training_seconds": result.seconds,
        "onnx_version": _onnx_version(),
        "input_example": result.extra.get("input_example", []),
        # The prediction intervals' calibration, keyed by horizon: serving and the Forecast step apply it
        # (rps_core.forecasts.intervals); None for a model trained without.
        "intervals": result.intervals,
    }


def _onnx_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("onnx")
    except PackageNotFoundError:
        return ""


def dump_sklearn(model: Any) -> bytes:
    import joblib  # lazy: scikit-learn's stack, train function only

    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    return buffer.getvalue()


def write_candidate(
    bucket: str, result: TrainingResult, doc: dict[str, Any], profile: str = "", client: Any = None
) -> str:
    """Write the model files, then the pointer (last: a pointer means complete files). Returns its key."""
    prefix = model_prefix(doc["model_id"])
    storage.put_bytes(bucket, prefix + ONNX_FILE, result.onnx, client=client)
    storage.put_bytes(bucket, prefix + SKLEARN_FILE, dump_sklearn(result.model), client=client)
    if profile:
        markdown = "text/markdown; charset=utf-8"
        storage.put_bytes(bucket, prefix + PROFILE_FILE, profile.encode(), markdown, client=client)
    storage.put_json(bucket, prefix + POINTER_FILE, doc, client=client)
    return prefix + POINTER_FILE


def load_sklearn(uri: str, client: Any = None) -> Any:
    """The scikit-learn model at ``uri`` (s3://); ModelError when it is missing or unreadable."""
    import joblib

    data = read_model_bytes(uri, client)
    try:
        return joblib.load(io.BytesIO(data))
    except Exception as exc:  # joblib/pickle raise many types for a damaged file
        raise ModelError(f"cannot load the scikit-learn model {uri}: {exc}") from exc
