"""The quality gate: schema, key-column nulls, minimum rows, hourly index with bounded gaps, physical
ranges and freshness, judged on the window of a raw payload, with a JSON report and metrics.

``evaluate`` is pure (bytes in, ``QualityReport`` out); ``run_gate`` is the Lambda step (S3 in, report
out; the handler raises DataQualityError on failure); ``quarantine_window`` keeps a rejected payload;
``rules`` holds the physical ranges and the key columns.
"""

from rps_core.quality.checks import Check, out_of_range_mask
from rps_core.quality.gate import (
    CHECKS,
    evaluate,
    gate_or_raise,
    parse_payload,
    quality_key,
    run_gate,
    select_window,
)
from rps_core.quality.quarantine import quarantine_key, quarantine_rejected, quarantine_window
from rps_core.quality.report import METRIC_UNITS, QualityReport, render_text
from rps_core.quality.rules import PHYSICAL_RANGES, Bound, key_columns

__all__ = [
    "CHECKS",
    "METRIC_UNITS",
    "PHYSICAL_RANGES",
    "Bound",
    "Check",
    "QualityReport",
    "evaluate",
    "gate_or_raise",
    "key_columns",
    "out_of_range_mask",
    "parse_payload",
    "quality_key",
    "quarantine_key",
    "quarantine_rejected",
    "quarantine_window",
    "render_text",
    "run_gate",
    "select_window",
]
