"""The security scans' gates: checkov on template.yaml and bandit on the code (tools/bandit_gate.py).

checkov and bandit themselves run in `make check-security`; these tests show the gates fail on what
they are meant to catch, and that every suppression carries a written reason.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import bandit_gate  # noqa: E402
from cfn_template import load_template  # noqa: E402

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
CHECKOV_CONFIG = ROOT / "tools" / "checkov.yaml"


def test_every_checkov_skip_in_the_config_has_a_reason_above_it() -> None:
    lines = CHECKOV_CONFIG.read_text().splitlines()
    skips = [i for i, line in enumerate(lines) if re.fullmatch(r"\s*- CKV_\w+", line)]
    assert skips, "no skip-check entries"
    for i in skips:
        check_id = lines[i].strip()[2:]
        assert lines[i - 1].strip().startswith("#") and check_id in "".join(lines[i - 3 : i]), check_id


def test_every_inline_checkov_skip_has_a_comment() -> None:
    template = load_template(ROOT / "template.yaml")
    skips = [
        (name, skip)
        for name, res in template["Resources"].items()
        for skip in ((res.get("Metadata") or {}).get("checkov") or {}).get("skip", [])
    ]
    assert skips
    for name, skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]) and len(skip.get("comment", "").split()) >= 5, name


def _checkov(template: Path) -> subprocess.CompletedProcess[str]:
    assert CHECKOV.exists(), ".venv-checkov is missing: run `make checkov-venv` (make test does)"
    return subprocess.run(
        [str(CHECKOV), "--config-file", str(CHECKOV_CONFIG), "-f", str(template)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_checkov_fails_a_template_with_an_unencrypted_public_bucket(tmp_path: Path) -> None:
    # GIVEN the real template with DataBucket's encryption and public access block removed
    text = (ROOT / "template.yaml").read_text()
    start = text.index("  DataBucket:\n")
    props = text.index("    Properties:\n", start) + len("    Properties:\n")
    end = text.index("      VersioningConfiguration:", props)
    broken = tmp_path / "template.yaml"
    broken.write_text(text[:props] + text[end:])
    # WHEN checkov runs with the project's settings / THEN it fails, naming the checks
    result = _checkov(broken)
    assert result.returncode == 1, result.stdout
    for check_id in ("CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"):  # the public access block
        assert check_id in result.stdout


@pytest.mark.parametrize(
    ("line", "test_id", "reason"),
    [
        ("x = yaml.load(t, Loader=L)  # noqa: S506 - a SafeLoader subclass", "B506", "a SafeLoader subclass"),
        ("urlopen(url)  # noqa: S310 - our own loopback URL", "B310", "our own loopback URL"),
        ("subprocess.run(cmd)  # nosec B603 - fixed argv, no shell", "B603", "fixed argv, no shell"),
        ("x = yaml.load(t, Loader=L)  # noqa: S506", "B506", None),  # no reason
        ("x = yaml.load(t, Loader=L)  # noqa: S310 - a reason for another rule", "B506", None),
        ("x = yaml.load(t, Loader=L)", "B506", None),
    ],
)
def test_a_suppression_needs_the_matching_rule_and_a_reason(line: str, test_id: str, reason: str | None) -> None:
    assert bandit_gate.suppression_reason(line, test_id) == reason


def test_the_gate_blocks_medium_findings_without_a_reason_and_counts_low_ones(tmp_path: Path) -> None:
    code = tmp_path / "mod.py"
    code.write_text(
        "import yaml\n"
        "a = yaml.load(s, Loader=yaml.Loader)\n"
        "b = yaml.load(s, Loader=L)  # noqa: S506 - a SafeLoader subclass\n"
        "assert a\n"
    )

    def finding(line: int, test_id: str, severity: str) -> dict[str, object]:
        return {
            "filename": str(code),
            "line_number": line,
            "test_id": test_id,
            "issue_severity": severity,
            "issue_confidence": "HIGH",
            "issue_text": "...",
        }

    blocking, accepted, counts = bandit_gate.gate(
        [finding(2, "B506", "MEDIUM"), finding(3, "B506", "MEDIUM"), finding(4, "B101", "LOW")]
    )
    assert [b.split(":")[1] for b in blocking] == ["2"]
    assert len(accepted) == 1 and accepted[0].endswith("accepted: a SafeLoader subclass")
    assert counts == {"MEDIUM": 2, "LOW": 1}


def test_bandit_finds_an_unsafe_yaml_load(tmp_path: Path) -> None:
    bandit = ROOT / ".venv-tools" / "bin" / "python"
    assert bandit.exists(), ".venv-tools is missing: run `make tools-venv` (make test does)"
    (tmp_path / "bad.py").write_text("import yaml\n\n\ndef f(s):\n    return yaml.load(s, Loader=yaml.Loader)\n")
    result = subprocess.run(
        [str(bandit), str(ROOT / "tools" / "bandit_gate.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "B506" in result.stdout and "1 blocking" in result.stdout
