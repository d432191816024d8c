"""The pipeline's ASL: transitions and placeholders (tools/check_asl.py) and the ASL schema (asl-validator).

cfn-lint and `sam validate` do not look inside a SAM state machine's DefinitionUri, so a Next to a missing
state or a misspelt `${...}` would otherwise reach AWS. Each broken case below is made from the real
definition by one change, so the checks are shown to catch what they claim on the file that ships.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import check_asl  # noqa: E402
from cfn_template import load_template, resources_of_type  # noqa: E402

ASL = ROOT / "statemachine" / "pipeline.asl.json"
ASL_VALIDATOR = ROOT / "tools" / "node_modules" / ".bin" / "asl-validator"


@pytest.fixture
def definition() -> dict[str, Any]:
    return json.loads(ASL.read_text())


def _map_scope(definition: dict[str, Any]) -> dict[str, Any]:
    maps = [s for s in definition["States"].values() if s.get("Type") == "Map"]
    assert maps, "the pipeline has a Map over locations"
    return maps[0].get("ItemProcessor") or maps[0]["Iterator"]


def _substitutions() -> set[str]:
    template = load_template(ROOT / "template.yaml")
    (machine,) = resources_of_type(template, "AWS::Serverless::StateMachine").values()
    return set(machine["Properties"]["DefinitionSubstitutions"])


def test_the_shipped_template_and_asl_have_no_problems() -> None:
    # GIVEN template.yaml and the ASL file it names / WHEN checked / THEN nothing is reported
    assert check_asl.check_template(ROOT / "template.yaml") == []


def test_the_real_definition_is_clean(definition: dict[str, Any]) -> None:
    assert check_asl.check_definition(definition) == []
    assert check_asl.check_placeholders(ASL.read_text(), _substitutions()) == []


def test_a_next_to_a_missing_state_is_reported(definition: dict[str, Any]) -> None:
    # GIVEN the first state pointing at a state that does not exist
    first = definition["States"][definition["StartAt"]]
    first["Next"] = "NoSuchState"
    # THEN the bad target is named (and what it used to reach becomes unreachable)
    problems = check_asl.check_definition(definition)
    assert any("Next names an unknown state 'NoSuchState'" in p for p in problems), problems


def test_a_catch_to_a_missing_state_inside_the_map_is_reported(definition: dict[str, Any]) -> None:
    scope = _map_scope(definition)
    scope["States"]["QualityGate"]["Catch"] = [{"ErrorEquals": ["DataQualityError"], "Next": "Quarantin"}]
    problems = check_asl.check_definition(definition)
    assert any("Catch[0].Next names an unknown state 'Quarantin'" in p for p in problems), problems


def test_a_choice_default_to_a_missing_state_is_reported(definition: dict[str, Any]) -> None:
    choices = [s for s in definition["States"].values() if s.get("Type") == "Choice"]
    assert choices
    choices[0]["Default"] = "Nowhere"
    assert any("Default names an unknown state 'Nowhere'" in p for p in check_asl.check_definition(definition))


def test_an_unreachable_state_is_reported(definition: dict[str, Any]) -> None:
    definition["States"]["Orphan"] = {"Type": "Pass", "End": True}
    problems = check_asl.check_definition(definition)
    assert problems == [f"$/Orphan: unreachable from StartAt {definition['StartAt']!r}"]


def test_an_unreachable_state_inside_the_map_is_reported(definition: dict[str, Any]) -> None:
    _map_scope(definition)["States"]["Orphan"] = {"Type": "Succeed"}
    assert any("Orphan: unreachable" in p for p in check_asl.check_definition(definition))


def test_a_state_with_neither_next_nor_end_is_reported(definition: dict[str, Any]) -> None:
    first = definition["States"][definition["StartAt"]]
    del first["Next"]
    assert any("neither Next nor End" in p for p in check_asl.check_definition(definition))


def test_a_bad_start_at_is_reported(definition: dict[str, Any]) -> None:
    definition["StartAt"] = "Begin"
    assert any("StartAt names an unknown state 'Begin'" in p for p in check_asl.check_definition(definition))


def test_an_undefined_placeholder_is_reported() -> None:
    text = ASL.read_text().replace("${TrainFunctionArn}", "${TrainFunctionArnn}", 1)
    problems = check_asl.check_placeholders(text, _substitutions())
    assert "$: ${TrainFunctionArnn} is not in DefinitionSubstitutions" in problems
    assert "$: DefinitionSubstitutions.TrainFunctionArn is never used" in problems


def test_check_template_reads_the_definition_uri_relative_to_the_template(tmp_path: Path) -> None:
    # GIVEN a copy of the template whose ASL has one broken Next
    shutil.copy(ROOT / "template.yaml", tmp_path / "template.yaml")
    (tmp_path / "statemachine").mkdir()
    broken = json.loads(ASL.read_text())
    broken["States"][broken["StartAt"]]["Next"] = "Missing"
    (tmp_path / "statemachine" / "pipeline.asl.json").write_text(json.dumps(broken))
    # WHEN the command line runs on it / THEN it exits 1 naming the problem
    assert check_asl.main([str(tmp_path / "template.yaml")]) == 1
    assert any("Missing" in p for p in check_asl.check_template(tmp_path / "template.yaml"))


def _asl_validator(path: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    assert ASL_VALIDATOR.exists(), "tools/node_modules is missing: run `make tools-node` (make test does)"
    return subprocess.run(
        [str(ASL_VALIDATOR), "--json-path", str(path)], capture_output=True, text=True, timeout=60, check=False
    )


def test_asl_validator_accepts_the_pipeline() -> None:
    result = _asl_validator(ASL)
    assert result.returncode == 0, result.stdout + result.stderr


def test_asl_validator_rejects_an_unknown_state_type(tmp_path: Path, definition: dict[str, Any]) -> None:
    bad = copy.deepcopy(definition)
    bad["States"][bad["StartAt"]]["Type"] = "Taks"
    path = tmp_path / "bad.asl.json"
    path.write_text(json.dumps(bad))
    result = _asl_validator(path)
    assert result.returncode != 0, result.stdout
