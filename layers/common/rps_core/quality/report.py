"""The gate's report: the checks, the per-column summary, and the metrics it emits; JSON and text forms."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rps_core.quality.checks import Check
from rps_core.times import timestamp

# CloudWatch units of the report's metrics (Powertools MetricUnit names).
METRIC_UNITS = {
    "QualityPassed": "Count",
    "QualityFailed": "Count",
    "RowsChecked": "Count",
    "KeyNullShare": "Percent",
    "OutOfRangeValues": "Count",
    "MaxGapHours": "Count",
    "FreshnessLagHours": "Count",
}


@dataclass
class QualityReport:
    location: str
    window_start: str | None
    window_end: str
    now: str
    key_columns: tuple[str, ...]
    checks: list[Check]
    raw_key: str = ""
    generated_at: str = field(default_factory=timestamp)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failed_checks(self) -> list[str]:
        return [c.name for c in self.checks if not c.passed]

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    def summary(self) -> str:
        """One line naming the failing checks and why (the DataQualityError cause)."""
        if self.passed:
            return f"{self.location}: all {len(self.checks)} checks passed"
        return f"{self.location}: failed " + "; ".join(f"{c.name} ({c.detail})" for c in self.checks if not c.passed)

    def metrics(self) -> dict[str, float]:
        values: dict[str, float] = {"QualityPassed": float(self.passed), "QualityFailed": float(not self.passed)}
        rows = self.check("min_rows")
        if rows:
            values["RowsChecked"] = rows.data["rows"]
        nulls = self.check("null_share")
        if nulls:
            shares = nulls.data["null_share"]
            values["KeyNullShare"] = 100.0 * max((shares.get(k, 0.0) for k in self.key_columns), default=0.0)
        ranges = self.check("physical_range")
        if ranges:
            values["OutOfRangeValues"] = sum(ranges.data["out_of_range_count"].values())
        index = self.check("time_index")
        if index:
            values["MaxGapHours"] = index.data["longest_gap_hours"]
        fresh = self.check("freshness")
        if fresh and fresh.data.get("lag_hours") is not None:
            values["FreshnessLagHours"] = fresh.data["lag_hours"]
        return values

    def to_dict(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "raw_key": self.raw_key,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "now": self.now,
            "passed": self.passed,
            "failed_checks": self.failed_checks,
            "summary": self.summary(),
            "key_columns": list(self.key_columns),
            "checks": [c.to_dict() for c in self.checks],
            "metrics": self.metrics(),
            "generated_at": self.generated_at,
        }


def render_text(report: QualityReport) -> str:
    window = f"({report.window_start or 'all history'}, {report.window_end}]"
    lines = [f"quality gate: {report.location} {window}, now {report.now}: {'PASS' if report.passed else 'FAIL'}"]
    for c in report.checks:
        lines.append(f"  {'ok  ' if c.passed else 'FAIL'} {c.name:<15} {c.detail}")
    ranges = report.check("physical_range")
    for item in (ranges.data["out_of_range"] if ranges else [])[:10]:
        lines.append(
            f"       out of range: {item['column']} = {item['value']:g} at {item['time']} "
            f"(bound [{item['low']:g}, {item['high']:g}]{', key column' if item['key'] else ', masked'})"
        )
    return "\n".join(lines)
