"""ASL checks that run before a deploy: unknown states, unresolved substitutions, bad JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rps_local.emulator.cloudformation.template import load_sam_template
from rps_local.emulator.errors import AslError
from rps_local.emulator.stepfunctions.asl import check_definition, substitute

PROJECT = Path(__file__).resolve().parents[2]


def _definition(**states) -> str:
    return json.dumps({"StartAt": next(iter(states)), "States": states})


def test_the_pipeline_definition_passes_with_the_templates_substitutions():
    template = load_sam_template(PROJECT / "template.yaml")
    props = template["Resources"]["PipelineStateMachine"]["Properties"]
    text = (PROJECT / props["DefinitionUri"]).read_text()
    check_definition(text, props["DefinitionSubstitutions"], source="pipeline.asl.json")


@pytest.mark.parametrize(
    ("states", "problem"),
    [
        ({"A": {"Type": "Pass", "Next": "Missing"}}, "Next names unknown state 'Missing'"),
        ({"A": {"Type": "Choice", "Choices": [], "Default": "Nope"}}, "Default names unknown state 'Nope'"),
        (
            {"A": {"Type": "Task", "Resource": "x", "Catch": [{"ErrorEquals": ["E"], "Next": "Q"}], "End": True}},
            "Catch[0].Next names unknown state 'Q'",
        ),
        ({"A": {"Type": "Pass"}}, "has neither Next nor End"),
        ({"A": {"Type": "Passs", "End": True}}, "unknown Type 'Passs'"),
        (
            {
                "M": {
                    "Type": "Map",
                    "End": True,
                    "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "Next": "M"}}},
                }
            },
            "M's ItemProcessor): Next names unknown state 'M'",
        ),
    ],
)
def test_unknown_states_are_named(states, problem):
    with pytest.raises(AslError) as error:
        check_definition(_definition(**states), {}, source="machine.asl.json")
    assert "machine.asl.json" in str(error.value)
    assert problem in str(error.value)


def test_unresolved_substitution_is_named():
    text = _definition(A={"Type": "Task", "Resource": "${MissingArn}", "End": True})
    with pytest.raises(AslError, match=r"machine.asl.json: unresolved substitution \$\{MissingArn\}"):
        check_definition(text, {"OtherArn": "x"}, source="machine.asl.json")


def test_invalid_json_gives_the_line():
    with pytest.raises(AslError, match=r"machine.asl.json: not valid JSON: .* line 2"):
        check_definition('{"StartAt": "A",\n "States": }', {}, source="machine.asl.json")


def test_substitute_replaces_known_placeholders_only():
    assert substitute('{"a": "${X}", "b": "${Y}"}', {"X": "arn:1"}) == '{"a": "arn:1", "b": "${Y}"}'
