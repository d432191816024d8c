"""bandit on the code, failing on any MEDIUM or HIGH finding that is not suppressed with a written reason.

The project already runs ruff's flake8-bandit rules (``S``), whose codes are bandit's (S506 is B506), and
suppresses them inline as ``# noqa: S506 - why``. bandit does not read ruff's comments, so this gate
accepts a finding whose line carries the matching ``noqa: S<n>`` (or bandit's own ``# nosec B<n>``)
followed by a reason, and nothing else. LOW findings are counted, not gated.

    python tools/bandit_gate.py [PATH...]     (default: layers functions serving localcloud)
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

DEFAULT_PATHS = ["layers", "functions", "serving", "localcloud"]
GATED = {"MEDIUM", "HIGH"}


def suppression_reason(line: str, test_id: str) -> str | None:
    """The written reason on ``line`` for suppressing bandit's ``test_id`` (B506...), or None."""
    number = test_id.lstrip("B")
    match = re.search(rf"#\s*(?:noqa:[^#]*\bS{number}\b|nosec\b[^#]*\bB{number}\b)[^#]*?[-:]\s*(\S.*)$", line)
    return match.group(1).strip() if match else None


def run_bandit(paths: list[str]) -> list[dict[str, Any]]:
    existing = [p for p in paths if Path(p).exists()]
    if not existing:
        return []
    proc = subprocess.run(
        [sys.executable, "-m", "bandit", "-q", "-r", *existing, "-f", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode not in (0, 1) or not proc.stdout.strip():
        raise RuntimeError(f"bandit failed ({proc.returncode}): {proc.stderr.strip()}")
    report = json.loads(proc.stdout)
    if report.get("errors"):
        raise RuntimeError(f"bandit could not scan: {report['errors']}")
    return list(report["results"])


def gate(results: list[dict[str, Any]]) -> tuple[list[str], list[str], Counter[str]]:
    """(blocking findings, accepted findings with their reasons, count per severity)."""
    blocking: list[str] = []
    accepted: list[str] = []
    counts: Counter[str] = Counter()
    for r in results:
        severity = r["issue_severity"].upper()
        counts[severity] += 1
        where = f"{r['filename']}:{r['line_number']}: {r['test_id']} {severity}/{r['issue_confidence']}"
        if severity not in GATED:
            continue
        lines = Path(r["filename"]).read_text(encoding="utf-8").splitlines()
        line = lines[r["line_number"] - 1] if 0 < r["line_number"] <= len(lines) else ""
        reason = suppression_reason(line, r["test_id"])
        if reason:
            accepted.append(f"{where} accepted: {reason}")
        else:
            blocking.append(f"{where} {r['issue_text']}")
    return blocking, accepted, counts


def main(argv: list[str] | None = None) -> int:
    paths = (sys.argv[1:] if argv is None else argv) or DEFAULT_PATHS
    blocking, accepted, counts = gate(run_bandit(paths))
    for line in accepted:
        print(line)
    for line in blocking:
        print(line)
    summary = ", ".join(f"{counts.get(s, 0)} {s}" for s in ("HIGH", "MEDIUM", "LOW"))
    print(f"bandit: {summary}; {len(accepted)} accepted with a reason, {len(blocking)} blocking")
    return 1 if blocking else 0


if __name__ == "__main__":
    sys.exit(main())
