"""``rps compare OLD NEW``: compare two models' metrics and exit 1 when the new one is worse.

OLD and NEW are each a JSON file (a champion or candidate pointer, or ``rps evaluate`` output) or an MLflow
run id (``runs:/ID`` or a bare 32-hex id, read from ``--tracking-uri``/``MLFLOW_TRACKING_URI``). Prints a
Markdown table (the pull-request workflow posts it) of MAE, persistence and skill, overall and per location.
Exit codes: 0 the new model is not worse (overall MAE at most OLD * (1 + tolerance)), 1 it is worse, 2 an
input cannot be read. Models measured on different test rows are compared as reported; the table says so.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from rps_local.tools.cli.common import add_output

_RUN_ID = re.compile(r"^(runs:/)?([0-9a-f]{32})/?$")

EXIT_CODES = "0 the new model is not worse; 1 it is worse; 2 an input cannot be read"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("compare", help="compare two models' metrics (exit 1 when the new is worse)")
    parser.add_argument("old", help="the reference: a pointer/metrics JSON file or an MLflow run id")
    parser.add_argument("new", help="the new model: a pointer/metrics JSON file or an MLflow run id")
    parser.add_argument("--tolerance", type=float, default=0.0, help="relative MAE increase still accepted")
    parser.add_argument("--tracking-uri", default=os.environ.get("MLFLOW_TRACKING_URI", ""))
    add_output(parser, "worse, old, new and their labels (text: the Markdown table)")
    parser.set_defaults(func=run)


def metrics_from_document(doc: Any) -> dict[str, Any]:
    """The metrics of a pointer (``metrics``) or of ``rps evaluate`` output (``overall`` + ``per_location``)."""
    if isinstance(doc, dict) and isinstance(doc.get("metrics"), dict):
        return doc["metrics"]
    if isinstance(doc, dict) and isinstance(doc.get("overall"), dict):
        return {**doc["overall"], "per_location": doc.get("per_location", {})}
    raise ValueError("neither a pointer with 'metrics' nor 'rps evaluate' output with 'overall'")


def metrics_from_run(run_id: str, tracking_uri: str) -> dict[str, Any]:
    """A run's metrics as logged by the register step: ``mae``, ``JFK.mae``, ... (not ``champion.*``)."""
    if not tracking_uri:
        raise ValueError("an MLflow run id needs --tracking-uri or MLFLOW_TRACKING_URI")
    from mlflow import MlflowClient

    logged = MlflowClient(tracking_uri).get_run(run_id).data.metrics
    out: dict[str, Any] = {"per_location": {}}
    for key, value in logged.items():
        if key.startswith("champion."):
            continue
        if "." in key:
            location, name = key.rsplit(".", 1)
            out["per_location"].setdefault(location, {})[name] = value
        else:
            out[key] = value
    if "mae" not in out:
        raise ValueError(f"run {run_id} has no 'mae' metric")
    return out


def load_metrics(ref: str, tracking_uri: str) -> tuple[dict[str, Any], str]:
    """``(metrics, label)`` of a file or run reference."""
    match = _RUN_ID.match(ref)
    if match and not Path(ref).exists():
        return metrics_from_run(match.group(2), tracking_uri), f"run {match.group(2)[:8]}"
    doc = json.loads(Path(ref).read_text())
    label = str(doc.get("model_version") or doc.get("model_id") or Path(ref).name) if isinstance(doc, dict) else ref
    return metrics_from_document(doc), label


def markdown(old: dict[str, Any], new: dict[str, Any], labels: tuple[str, str], verdict: str) -> str:
    from rps_core.registry.report import comparison_table

    table = comparison_table(new, old, labels=("new", "old"))
    return (
        f"## Model comparison\n\nnew: {labels[1]}; old: {labels[0]}. {verdict}\n\n{table}\n"
        "MAE in the target's unit; skill = 1 - MAE / persistence MAE on each model's own test rows.\n"
    )


def run(args: argparse.Namespace) -> int:
    try:
        old, old_label = load_metrics(args.old, args.tracking_uri)
        new, new_label = load_metrics(args.new, args.tracking_uri)
        old_mae, new_mae = float(old["mae"]), float(new["mae"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"rps compare: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # MLflow client errors (unreachable server, unknown run)
        print(f"rps compare: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    worse = new_mae > old_mae * (1 + args.tolerance)
    verdict = (
        f"**Worse**: MAE {new_mae:.3f} > {old_mae:.3f}" + (f" (tolerance {args.tolerance:g})" if args.tolerance else "")
        if worse
        else f"Not worse: MAE {new_mae:.3f} vs {old_mae:.3f}."
    )
    if args.output == "json":
        print(json.dumps({"worse": worse, "old": old, "new": new, "old_label": old_label, "new_label": new_label}))
    else:
        print(markdown(old, new, (old_label, new_label), verdict))
    return 1 if worse else 0
