"""Model pointers in the model bucket: the champion (``champion/pointer.json``) and each candidate
(``models/{model_id}/pointer.json``). A pointer is replaced by one PUT of the complete document, so a reader
sees the whole old or the whole new champion, never a mix."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

from rps_core import storage
from rps_core.contract import CHAMPION_KEY, model_prefix  # noqa: F401  (the registry re-exports the key layout)
from rps_core.errors import ModelError

# What serving, forecasts and drift read from a champion pointer (README: the contract).
CHAMPION_FIELDS = (
    "model_version",
    "model_id",
    "run_id",
    "model_uri",
    "sklearn_uri",
    "target",
    "horizon_hours",
    "history_hours",
    "features",
    "reference",
    "metrics",
    "dataset_version",
    "trained_at",
    "promoted_at",
)
CANDIDATE_FIELDS = tuple(f for f in CHAMPION_FIELDS if f not in ("model_version", "run_id", "promoted_at"))
# The files of models/{model_id}/: Train writes them, Register tracks them in MLflow.
ONNX_FILE, SKLEARN_FILE, POINTER_FILE, PROFILE_FILE = "model.onnx", "model.joblib", "pointer.json", "profile.md"


def s3_uri(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` to ``(bucket, key)``; ModelError for anything else."""
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc or not parsed.path.strip("/"):
        raise ModelError(f"not an s3://bucket/key URI: {uri!r}")
    return parsed.netloc, parsed.path.lstrip("/")


def validate(doc: Any, fields: tuple[str, ...] = CHAMPION_FIELDS, what: str = "champion pointer") -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise ModelError(f"the {what} is not a JSON object")
    missing = [f for f in fields if f not in doc]
    if missing:
        raise ModelError(f"the {what} lacks {', '.join(missing)}")
    if not isinstance(doc["features"], list) or not doc["features"]:
        raise ModelError(f"the {what} has no feature list")
    for key in ("model_uri", "sklearn_uri"):
        parse_s3_uri(str(doc[key]))
    return doc


def _read(bucket: str, key: str, client: Any, fields: tuple[str, ...], what: str) -> dict[str, Any] | None:
    data = storage.get_bytes(bucket, key, client)
    if data is None:
        return None
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise ModelError(f"the {what} s3://{bucket}/{key} is not valid JSON: {exc}") from exc
    return validate(doc, fields, f"{what} s3://{bucket}/{key}")


def read_champion(bucket: str, client: Any = None) -> dict[str, Any] | None:
    """The champion pointer, or None when no model was promoted yet; ModelError when it is corrupt."""
    return _read(bucket, CHAMPION_KEY, client, CHAMPION_FIELDS, "champion pointer")


def require_champion(bucket: str, client: Any = None) -> dict[str, Any]:
    """The champion pointer; ModelError when there is none (nothing to serve yet) or it is corrupt."""
    doc = read_champion(bucket, client)
    if doc is None:
        raise ModelError(f"no champion model: s3://{bucket}/{CHAMPION_KEY} does not exist (run the pipeline)")
    return doc


def read_candidate(bucket: str, key: str, client: Any = None) -> dict[str, Any]:
    doc = _read(bucket, key, client, CANDIDATE_FIELDS, "candidate pointer")
    if doc is None:
        raise ModelError(f"the candidate pointer s3://{bucket}/{key} does not exist")
    return doc


def write_champion(bucket: str, doc: dict[str, Any], client: Any = None) -> str:
    """Replace the champion pointer with ``doc`` (validated first) in one PUT; returns the ETag."""
    return storage.put_json(bucket, CHAMPION_KEY, validate(doc), client=client)


def read_model_bytes(uri: str, client: Any = None) -> bytes:
    """The bytes of a model file named by an s3:// URI; ModelError when it is missing."""
    bucket, key = parse_s3_uri(uri)
    data = storage.get_bytes(bucket, key, client)
    if data is None:
        raise ModelError(f"model file {uri} does not exist")
    return data
