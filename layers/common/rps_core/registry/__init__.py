"""Registry: the champion pointer, the promotion rule, the comparison report and MLflow bookkeeping.

The champion pointer (``champion/pointer.json`` in the model bucket) is what serving, forecasts and drift
read; it changes only by one PUT of a complete, validated document. ``run_register`` is the Register step.
This package never imports scikit-learn, and imports mlflow(-skinny) only when tracking is configured.
"""

from rps_core.registry.pointer import (
    CHAMPION_FIELDS,
    CHAMPION_KEY,
    model_prefix,
    parse_s3_uri,
    read_candidate,
    read_champion,
    read_model_bytes,
    require_champion,
    write_champion,
)
from rps_core.registry.promotion import Decision, decide
from rps_core.registry.report import comparison_report, comparison_table
from rps_core.registry.service import run_register

__all__ = [
    "CHAMPION_FIELDS",
    "CHAMPION_KEY",
    "Decision",
    "comparison_report",
    "comparison_table",
    "decide",
    "model_prefix",
    "parse_s3_uri",
    "read_candidate",
    "read_champion",
    "read_model_bytes",
    "require_champion",
    "run_register",
    "write_champion",
]
