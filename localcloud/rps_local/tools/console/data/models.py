"""The models page's view model: the champion and every trained version, from the model bucket's pointers
(``champion/pointer.json``, ``models/{model_id}/pointer.json``, what Train and Register write) joined with
MLflow's registered versions and their runs (version number, promoted or kept and why, the run's link)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rps_core.contract import CHAMPION_KEY

from rps_local.tools.console.source import ConsoleSource

__all__ = ["ModelRow", "ModelsPage", "load_models", "model_row"]

SCORES = ("mae", "persistence_mae", "skill")
MAX_VERSIONS = 50


@dataclass
class ModelRow:
    model_id: str
    version: str | None = None  # MLflow's registered version (None without MLflow)
    trained_at: str = ""
    dataset_version: str = ""
    git_commit: str = ""
    metrics: dict[str, float | None] = field(default_factory=dict)
    per_location: dict[str, dict[str, float | None]] = field(default_factory=dict)
    promoted: bool | None = None
    reason: str = ""
    champion: bool = False
    run_url: str | None = None


@dataclass
class ModelsPage:
    champion: ModelRow | None
    versions: list[ModelRow]  # newest first
    registered_name: str | None = None
    mlflow_url: str | None = None
    note: str = ""


def model_row(pointer: dict[str, Any], champion_id: str | None) -> ModelRow:
    """A version from its pointer document (candidate or champion)."""
    metrics = pointer.get("metrics") or {}
    per_location = {
        location: {k: scores.get(k) for k in SCORES}
        for location, scores in sorted((metrics.get("per_location") or {}).items())
        if isinstance(scores, dict)
    }
    return ModelRow(
        model_id=str(pointer.get("model_id", "?")),
        version=str(pointer["model_version"]) if pointer.get("model_version") else None,
        trained_at=str(pointer.get("trained_at", "")),
        dataset_version=str(pointer.get("dataset_version", "")),
        git_commit=str(pointer.get("git_commit", "")),
        metrics={k: metrics.get(k) for k in SCORES},
        per_location=per_location,
        champion=pointer.get("model_id") == champion_id,
    )


def load_models(source: ConsoleSource) -> ModelsPage:
    bucket = source.physical_id("ModelBucket")
    if not bucket:
        return ModelsPage(None, [], note="no model bucket deployed")
    champion_doc = source.json_object(bucket, CHAMPION_KEY, immutable=False)
    champion_id = champion_doc.get("model_id") if isinstance(champion_doc, dict) else None
    keys = [k for k in source.keys(bucket, "models/") if k.endswith("/pointer.json")]
    rows = []
    for key in keys[-MAX_VERSIONS:]:
        doc = source.json_object(bucket, key)
        if isinstance(doc, dict):
            rows.append(model_row(doc, champion_id))
    rows.sort(key=lambda r: r.trained_at, reverse=True)
    page = ModelsPage(None, rows, mlflow_url=source.mlflow_ui("#/models"))
    _join_mlflow(source, page)
    page.champion = next((r for r in rows if r.champion), None)
    if isinstance(champion_doc, dict):
        if page.champion is None:  # a pointer whose candidate is gone (or older than the newest 50)
            page.champion = model_row(champion_doc, champion_id)
        # the pointer is what serving uses: its version is the champion's, whatever MLflow says
        page.champion.version = str(champion_doc.get("model_version") or page.champion.version or "")
    if not source.mlflow_uri:
        page.note = "MLflow is off in this cloud: versions are named by model id"
    return page


def _join_mlflow(source: ConsoleSource, page: ModelsPage) -> None:
    """Version numbers, decisions and run links from MLflow (model-versions search, then each run)."""
    found = source.mlflow("model-versions/search", {"max_results": 200})
    if not found:
        return
    by_model_id = {row.model_id: row for row in page.versions}
    for version in found.get("model_versions", []):
        page.registered_name = version.get("name")
        run = source.mlflow("runs/get", {"run_id": version.get("run_id", "")}, ttl_s=60.0)
        if not run:
            continue
        data = run.get("run", {}).get("data", {})
        params = {p["key"]: p["value"] for p in data.get("params", [])}
        tags = {t["key"]: t["value"] for t in data.get("tags", [])}
        row = by_model_id.get(params.get("model_id", ""))
        if row is None:
            continue
        row.version = str(version.get("version"))
        row.promoted = {"true": True, "false": False}.get(tags.get("promoted", ""))
        row.reason = tags.get("decision", "")
        row.git_commit = row.git_commit or tags.get("mlflow.source.git.commit", "")
        experiment = run.get("run", {}).get("info", {}).get("experiment_id", "0")
        row.run_url = source.mlflow_ui(f"#/experiments/{experiment}/runs/{version.get('run_id')}")
